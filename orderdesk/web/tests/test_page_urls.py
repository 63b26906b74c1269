"""`{% page_url %}` remembers reverse() per URL configuration and script prefix."""

from django.template import Context, Template
from django.urls import reverse, set_script_prefix

from orderdesk.web.templatetags.page_urls import page_url


def test_page_url_is_reverse_and_follows_the_script_prefix():
    assert page_url("orders:tracking") == reverse("orders:tracking") == "/orders/"
    try:
        set_script_prefix("/shop/")
        assert page_url("orders:tracking") == "/shop/orders/"
    finally:
        set_script_prefix("/")
    assert page_url("orders:tracking") == "/orders/"


def test_the_tag_writes_the_address_escaped():
    rendered = Template("{% load page_urls %}<a href=\"{% page_url 'web:home' %}\">").render(Context())
    assert rendered == f'<a href="{reverse("web:home")}">'
