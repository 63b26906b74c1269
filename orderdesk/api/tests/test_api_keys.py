import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from orderdesk.accounts.actors import Actor
from orderdesk.accounts.errors import NotAllowed
from orderdesk.accounts.models import Membership
from orderdesk.accounts.tests.factories import MembershipFactory, MerchantFactory
from orderdesk.api import actions
from orderdesk.api.errors import ApiKeyRefused
from orderdesk.api.models import ApiKey

from .factories import api_key, client_with

pytestmark = pytest.mark.django_db


def test_a_new_key_keeps_only_the_sha256_of_its_prefixed_token():
    created = api_key()
    stored = ApiKey.objects.get()
    assert created.token.startswith("odk_") and len(created.token) > 40
    assert created.token not in {stored.token_sha256, stored.token_prefix, stored.name}
    assert stored.token_sha256 == actions.token_sha256(created.token)
    assert created.token.startswith(stored.token_prefix)


def test_staff_cannot_make_a_key_and_nothing_is_stored():
    staff = MembershipFactory(role=Membership.Role.STAFF)
    with pytest.raises(NotAllowed) as refused:
        actions.create_api_key(by=Actor.for_membership(staff), name="Bot", scope=ApiKey.Scope.READ)
    assert str(refused.value) == "Only the shop's owner can manage API keys."
    assert not ApiKey.objects.exists()


def test_a_key_without_a_name_is_refused_beside_the_name_field():
    merchant = MerchantFactory()
    with pytest.raises(ApiKeyRefused) as refused:
        api_key(merchant, name="  ")
    assert refused.value.field == "name"
    assert refused.value.message == "Give the key a name, such as the tool that will use it."
    assert not ApiKey.objects.exists()


def test_a_revoked_key_is_refused_on_the_very_next_request():
    created = api_key()
    client = client_with(created.token)
    assert client.get("/api/v1/orders").status_code == 200
    actions.revoke_api_key(created.api_key.pk, by=Actor.for_user(created.api_key.created_by))
    answer = client.get("/api/v1/orders")
    assert answer.status_code == 401
    assert answer["Content-Type"] == "application/problem+json"
    assert answer.json()["detail"] == "That API key is not valid, or it was revoked."


def test_a_request_without_a_key_or_with_an_unknown_one_is_refused():
    assert client_with("odk_not-a-key").get("/api/v1/orders").status_code == 401
    from rest_framework.test import APIClient

    answer = APIClient().get("/api/v1/orders")
    assert answer.status_code == 401
    assert answer["WWW-Authenticate"].startswith("Bearer")


def test_last_used_is_written_at_most_once_a_minute():
    created = api_key()
    client = client_with(created.token)
    client.get("/api/v1/orders")
    first = ApiKey.objects.get().last_used_at
    assert first is not None
    client.get("/api/v1/orders")
    assert ApiKey.objects.get().last_used_at == first
    ApiKey.objects.update(last_used_at=first - datetime.timedelta(minutes=2))
    client.get("/api/v1/orders")
    assert ApiKey.objects.get().last_used_at > first - datetime.timedelta(seconds=1)
    assert timezone.now() - ApiKey.objects.get().last_used_at < datetime.timedelta(seconds=5)


def test_the_owner_makes_a_key_on_the_account_page_and_sees_it_once(owner_client):
    page = owner_client.get(reverse("accounts:account"))
    assert "Make an API key" in page.content.decode()
    made = owner_client.post(reverse("api_keys:create"), {"name": "Chatbot", "scope": "read_write"})
    assert made.status_code == 200
    token = made.context["created"].token
    assert token in made.content.decode()
    assert client_with(token).get("/api/v1/orders").status_code == 200
    page = owner_client.get(reverse("accounts:account")).content.decode()
    assert "Chatbot" in page and token not in page


def test_the_owner_revokes_a_key_on_the_account_page(owner_client, owner):
    created = api_key(owner.merchant)
    response = owner_client.post(reverse("api_keys:revoke", args=[created.api_key.pk]))
    assert response.status_code == 302
    assert ApiKey.objects.get().revoked_at is not None
    assert client_with(created.token).get("/api/v1/orders").status_code == 401


def test_an_owner_cannot_revoke_another_merchants_key(owner_client):
    created = api_key()
    owner_client.post(reverse("api_keys:revoke", args=[created.api_key.pk]))
    assert ApiKey.objects.get().revoked_at is None
    assert client_with(created.token).get("/api/v1/orders").status_code == 200
