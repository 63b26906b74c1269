"""`{% page_url 'orders:tracking' %}`: the address of a page that takes no arguments, worked out
once per process instead of on every render (the layout's menu and the list's links are a dozen
reverse() calls a page, each walking the URL patterns)."""

from functools import lru_cache

from django import template
from django.urls import get_script_prefix, get_urlconf, reverse

register = template.Library()


@lru_cache(maxsize=256)
def _reversed(name: str, urlconf: str | None, prefix: str) -> str:
    return reverse(name, urlconf=urlconf)


def page_url(name: str) -> str:
    """reverse(name), remembered per URL configuration and script prefix (both part of the key,
    so a test's own urlconf or a server mounted under a prefix gets its own answer)."""
    return _reversed(name, get_urlconf(), get_script_prefix())


@register.simple_tag(name="page_url")
def page_url_tag(name: str) -> str:
    return page_url(name)
