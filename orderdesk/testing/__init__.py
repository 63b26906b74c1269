"""Test support shared by the apps' tests (loopback peers); nothing here runs in production."""
