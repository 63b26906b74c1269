"""The session's row is read by a query compiled once (accounts/sessions.py); it still signs out
an expired, deleted or unknown session, and keeps each visitor's own."""

import datetime

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from orderdesk.accounts.models import Membership
from orderdesk.accounts.sessions import SessionStore
from orderdesk.accounts.tests.factories import MembershipFactory, MerchantFactory, UserFactory

pytestmark = pytest.mark.django_db

TRACKING = reverse("orders:tracking")


def _owner(email: str):
    return MembershipFactory(
        user=UserFactory(email=email), merchant=MerchantFactory(), role=Membership.Role.OWNER
    )


def test_the_project_uses_it():
    assert settings.SESSION_ENGINE == "orderdesk.accounts.sessions"


def test_each_signed_in_visitor_gets_their_own_session_and_page(client):
    ana, ben = _owner("ana@shop.example"), _owner("ben@shop.example")
    client.force_login(ana.user)
    other = Client()
    other.force_login(ben.user)
    for _ in range(2):
        assert ana.merchant.name in client.get(TRACKING).content.decode()
        assert ben.merchant.name in other.get(TRACKING).content.decode()
        assert ana.merchant.name not in other.get(TRACKING).content.decode()


def test_an_expired_session_is_signed_out(client):
    ana = _owner("ana@shop.example")
    client.force_login(ana.user)
    assert client.get(TRACKING).status_code == 200
    Session.objects.filter(session_key=client.session.session_key).update(
        expire_date=timezone.now() - datetime.timedelta(seconds=1)
    )
    assert client.get(TRACKING).status_code == 302  # to sign in


def test_a_deleted_or_unknown_session_is_signed_out(client):
    ana = _owner("ana@shop.example")
    client.force_login(ana.user)
    assert client.get(TRACKING).status_code == 200
    Session.objects.all().delete()
    assert client.get(TRACKING).status_code == 302
    assert SessionStore("unknownsessionkey1234").load() == {}
    assert SessionStore(None).load() == {}


def test_it_saves_and_reads_back_what_a_session_holds():
    store = SessionStore()
    store["answer"] = 42
    store.save()
    assert SessionStore(store.session_key).load() == {"answer": 42}
    assert SessionStore(store.session_key).load()["answer"] == 42
