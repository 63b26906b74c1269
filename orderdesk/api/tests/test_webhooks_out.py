"""Webhooks out: order events reach the merchant's endpoints through the outbox, signed the
Standard Webhooks way, retried until they are taken, never twice, switched off after a day."""

import datetime

import pytest
from django.core import mail
from django.db import transaction
from django.utils import timezone

from orderdesk.accounts.tests.factories import owner_actor
from orderdesk.api import webhooks
from orderdesk.api.models import WebhookAttempt, WebhookEndpoint
from orderdesk.api.webhook_signing import WebhookAddressRefused
from orderdesk.errors import DomainError
from orderdesk.notifications.delivery import deliver_due_notifications
from orderdesk.notifications.models import Notification
from orderdesk.notifications.webhooks import publish_webhook_event, webhook_event_types
from orderdesk.orders import actions as order_actions
from orderdesk.orders.tests.factories import awaiting_order, dispatched_order, pending_order

from .webhook_receiver import InvalidSignature, WebhookReceiver, verify_standard_webhook

pytestmark = pytest.mark.django_db

ALL_EVENTS = [event_type.name for event_type in webhook_event_types()]


@pytest.fixture
def receiver():
    running = WebhookReceiver().start()
    yield running
    running.stop()


@pytest.fixture
def loopback_allowed(settings):
    """Tests' receiver is on 127.0.0.1 over http: allowed only by this development setting."""
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = True


@pytest.fixture
def endpoint(owner, receiver, loopback_allowed):
    return webhooks.create_webhook_endpoint(by=owner, url=receiver.url, events=ALL_EVENTS)


def webhook_rows(**filters):
    return Notification.objects.filter(channel=Notification.Channel.WEBHOOK, **filters).order_by("pk")


def later(minutes: float) -> datetime.datetime:
    return timezone.now() + datetime.timedelta(minutes=minutes)


# --- the happy path -----------------------------------------------------------------------


def test_each_order_event_reaches_the_endpoint_signed_the_standard_webhooks_way(owner, receiver, endpoint):
    order = pending_order(owner)

    deliver_due_notifications()

    assert [d.event["type"] for d in receiver.deliveries] == ["order.created", "order.paid"]
    for delivery in receiver.deliveries:
        event = verify_standard_webhook(endpoint.secret, delivery.headers, delivery.body)
        assert delivery.headers["webhook-id"] == event["id"]
        assert delivery.headers["content-type"] == "application/json"
        assert delivery.path == "/hooks/orderdesk"
        assert event["data"]["object"] == "order"
        assert event["data"]["id"] == order.pk
        assert event["data"]["reference"] == order.reference
        assert [line["title"] for line in event["data"]["lines"]] == ["Linen shirt", "Canvas tote"]
    # What the order was at each event: awaiting payment when placed, pending when paid.
    assert [d.event["data"]["status"] for d in receiver.deliveries] == ["awaiting_payment", "pending"]
    assert set(webhook_rows().values_list("status", flat=True)) == {Notification.Status.SENT}


def test_a_signature_made_with_another_secret_does_not_verify(owner, receiver, endpoint):
    awaiting_order(owner)
    deliver_due_notifications()

    [delivery] = receiver.deliveries
    other = webhooks.create_webhook_endpoint(by=owner, url=receiver.url, events=["order.paid"])
    with pytest.raises(InvalidSignature):
        verify_standard_webhook(other.secret, delivery.headers, delivery.body)
    with pytest.raises(InvalidSignature):
        verify_standard_webhook(endpoint.secret, delivery.headers, delivery.body + b" ")


def test_dispatch_fulfil_cancel_and_shipment_moves_are_sent(owner, receiver, endpoint):
    dispatched = dispatched_order(owner)
    order_actions.fulfill_order(dispatched.pk, by=owner)
    cancelled = pending_order(owner)
    order_actions.cancel_order(cancelled.pk, by=owner, reason="Out of stock")

    deliver_due_notifications()

    types = [d.event["type"] for d in receiver.deliveries]
    for name in ("order.dispatched", "order.fulfilled", "order.cancelled", "shipment.updated"):
        assert name in types
    for delivery in receiver.deliveries:
        event = delivery.event
        if event["type"] in ("order.dispatched", "order.fulfilled", "order.cancelled"):
            # The order as the event left it.
            assert event["data"]["status"] == event["type"].removeprefix("order.")
    shipment_event = next(d.event for d in receiver.deliveries if d.event["type"] == "shipment.updated")
    assert shipment_event["data"]["object"] == "shipment"
    assert shipment_event["data"]["order_id"] == dispatched.pk
    assert shipment_event["data"]["delivery_reference"] == "JT0001"


def test_only_the_events_an_endpoint_chose_are_queued_for_it(owner, receiver, loopback_allowed):
    webhooks.create_webhook_endpoint(by=owner, url=receiver.url, events=["order.cancelled"])

    pending_order(owner)

    assert not webhook_rows().exists()


def test_a_rolled_back_change_queues_nothing(owner, endpoint):
    with pytest.raises(RuntimeError), transaction.atomic():
        awaiting_order(owner)
        assert webhook_rows().count() == 1
        raise RuntimeError("the change failed after its event")

    assert not webhook_rows().exists()


# --- retries and exactly once -------------------------------------------------------------


def test_an_outage_then_recovery_delivers_every_event_exactly_once(owner, receiver, endpoint):
    receiver.answer_next(503, 500, 500, 502)  # both events fail twice
    pending_order(owner)

    deliver_due_notifications()
    assert set(webhook_rows().values_list("status", flat=True)) == {Notification.Status.PENDING}
    deliver_due_notifications(now=later(5))
    deliver_due_notifications(now=later(10))
    deliver_due_notifications(now=later(60))
    deliver_due_notifications(now=later(120))

    taken = [d.event["id"] for d in receiver.deliveries[4:]]
    assert len(taken) == 2 and len(set(taken)) == 2
    rows = list(webhook_rows())
    assert [(row.status, row.attempts) for row in rows] == [(Notification.Status.SENT, 3)] * 2
    log = WebhookAttempt.objects.filter(endpoint_id=endpoint.endpoint.pk).order_by("attempted_at", "pk")
    assert [attempt.status_code for attempt in log] == [503, 500, 500, 502, 200, 200]
    assert log.first().answer_excerpt == '{"error": "receiver is down"}'
    assert WebhookEndpoint.objects.get().failing_since is None


def test_an_endpoint_that_answers_too_late_is_tried_again(owner, receiver, endpoint, settings):
    settings.NOTIFICATION_SEND_TIMEOUT_SECONDS = 1
    receiver.stall_next(2)

    awaiting_order(owner)
    deliver_due_notifications()

    [row] = webhook_rows()
    assert (row.status, row.last_error) == (Notification.Status.PENDING, "No answer within 1 s.")
    deliver_due_notifications(now=later(5))
    row.refresh_from_db()
    assert row.status == Notification.Status.SENT


def test_the_same_event_published_twice_is_queued_once_per_endpoint(owner, receiver, endpoint):
    order = awaiting_order(owner)
    event_id = webhook_rows().get().payload["event_id"]

    publish_webhook_event(
        "order.created",
        event_id=event_id,
        merchant_id=owner.merchant.pk,
        about_type="order",
        about_id=order.pk,
    )
    deliver_due_notifications()
    deliver_due_notifications(now=later(60))

    assert webhook_rows().count() == 1
    assert len(receiver.deliveries) == 1


# --- the delivery log and redelivery -------------------------------------------------------


def test_redeliver_sends_the_same_event_again_from_the_endpoint_page(owner, owner_client, receiver, endpoint):
    awaiting_order(owner)
    deliver_due_notifications()
    [sent] = webhook_rows()

    page = owner_client.get(f"/account/webhooks/{endpoint.endpoint.pk}/")
    assert page.status_code == 200
    assert "order.created" in page.content.decode() and "HTTP 200" in page.content.decode()

    answer = owner_client.post(f"/account/webhooks/{endpoint.endpoint.pk}/deliveries/{sent.pk}/redeliver/")
    assert answer.status_code == 302
    deliver_due_notifications()

    first, again = receiver.deliveries
    assert again.body == first.body
    assert again.headers["webhook-id"] == first.headers["webhook-id"]
    verify_standard_webhook(endpoint.secret, again.headers, again.body)
    assert webhook_rows().count() == 2


def test_a_delivery_is_redelivered_only_through_its_own_endpoint(owner, owner_client, receiver, endpoint):
    other = webhooks.create_webhook_endpoint(by=owner, url=receiver.url, events=["order.paid"])
    awaiting_order(owner)
    [delivery] = webhook_rows()

    answer = owner_client.post(f"/account/webhooks/{other.endpoint.pk}/deliveries/{delivery.pk}/redeliver/")

    assert answer.status_code == 404
    assert webhook_rows().count() == 1


def test_a_switched_off_endpoint_is_not_redelivered_to(owner, endpoint):
    awaiting_order(owner)
    deliver_due_notifications()
    webhooks.switch_webhook_endpoint(endpoint.endpoint.pk, by=owner, on=False)

    with pytest.raises(webhooks.WebhookEndpointRefused) as refused:
        webhooks.redeliver_webhook(webhook_rows().get().pk, by=owner)

    assert refused.value.message == "Switch the endpoint on before redelivering to it."
    assert webhook_rows().count() == 1


def test_after_an_outage_longer_than_the_retries_the_owner_retries_what_failed_and_each_arrives_once(
    owner, owner_client, receiver, endpoint, settings
):
    settings.NOTIFICATION_MAX_ATTEMPTS = 2
    receiver.answer_next(500, 500, 500, 500)
    pending_order(owner)
    deliver_due_notifications()
    deliver_due_notifications(now=later(5))
    assert set(webhook_rows().values_list("status", flat=True)) == {Notification.Status.FAILED}
    page = owner_client.get(f"/account/webhooks/{endpoint.endpoint.pk}/").content.decode()
    assert "2 deliveries failed." in page

    answer = owner_client.post(f"/account/webhooks/{endpoint.endpoint.pk}/retry-failed/")
    owner_client.post(f"/account/webhooks/{endpoint.endpoint.pk}/retry-failed/")
    deliver_due_notifications()
    deliver_due_notifications(now=later(60))

    assert answer.status_code == 302
    assert set(webhook_rows().values_list("status", flat=True)) == {Notification.Status.SENT}
    taken = [d.event["id"] for d in receiver.deliveries[4:]]
    assert len(taken) == 2 and len(set(taken)) == 2
    assert webhook_rows().count() == 2


# --- a whole day of failures ------------------------------------------------------------------


def test_an_endpoint_failing_for_a_whole_day_is_switched_off_and_the_owner_told(owner, receiver, endpoint):
    receiver.answer_next(*[500] * 10)
    awaiting_order(owner)
    deliver_due_notifications()
    endpoint_row = WebhookEndpoint.objects.get()
    assert endpoint_row.failing_since is not None and endpoint_row.is_active
    # A day passes with every attempt failing.
    WebhookEndpoint.objects.update(failing_since=timezone.now() - datetime.timedelta(hours=24, minutes=1))

    deliver_due_notifications(now=later(5))

    endpoint_row.refresh_from_db()
    assert not endpoint_row.is_active
    assert "Every delivery failed since" in endpoint_row.disabled_reason
    [email] = Notification.objects.filter(
        channel=Notification.Channel.EMAIL, topic=webhooks.SWITCHED_OFF_TOPIC
    )
    assert email.recipient == owner.user.email
    assert receiver.url in email.body and "switch it on" in email.body
    deliver_due_notifications(now=later(6))
    assert any("Webhook endpoint switched off" in message.subject for message in mail.outbox)
    # Nothing more is queued for it, and what was waiting is not sent.
    pending_order(owner)
    deliver_due_notifications(now=later(60))
    assert webhook_rows().count() == 1
    assert webhook_rows().get().status == Notification.Status.FAILED
    assert "switched off" in webhook_rows().get().last_error


def test_a_success_clears_the_failing_streak(owner, receiver, endpoint):
    receiver.answer_next(500)
    awaiting_order(owner)
    deliver_due_notifications()
    assert WebhookEndpoint.objects.get().failing_since is not None

    deliver_due_notifications(now=later(5))

    assert WebhookEndpoint.objects.get().failing_since is None


# --- where webhooks may go -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "url, message",
    [
        ("http://8.8.8.8/hooks", "Webhook endpoints must use https."),
        ("https://127.0.0.1/hooks", "127.0.0.1 leads to a private address (127.0.0.1)"),
        ("https://10.0.0.1/hooks", "10.0.0.1 leads to a private address (10.0.0.1)"),
        ("https://192.168.1.20/hooks", "192.168.1.20 leads to a private address (192.168.1.20)"),
        ("https://169.254.169.254/latest", "169.254.169.254 leads to a private address"),
        ("https://[::1]/hooks", "::1 leads to a private address (::1)"),
        ("https://localhost/hooks", "localhost leads to a private address"),
    ],
)
def test_in_production_an_endpoint_must_be_https_to_a_public_address(owner, url, message):
    with pytest.raises(WebhookAddressRefused) as refused:
        webhooks.create_webhook_endpoint(by=owner, url=url, events=["order.paid"])

    assert message in refused.value.message
    assert refused.value.field == "url"
    assert not WebhookEndpoint.objects.exists()


def test_the_address_is_checked_again_when_sending(owner, receiver, endpoint, settings):
    awaiting_order(owner)
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = False  # production's rule at send time

    deliver_due_notifications()

    [row] = webhook_rows()
    assert row.status == Notification.Status.FAILED
    assert row.last_error == "Webhook endpoints must use https."
    assert receiver.deliveries == []
    assert WebhookAttempt.objects.get().answer_excerpt == "Webhook endpoints must use https."


def test_a_name_resolving_to_loopback_is_refused_at_send_time(owner, endpoint, settings):
    WebhookEndpoint.objects.update(url="https://localhost:9/hooks")
    awaiting_order(owner)
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = False

    deliver_due_notifications()

    [row] = webhook_rows()
    assert row.status == Notification.Status.FAILED
    assert "localhost leads to a private address" in row.last_error


def test_the_loopback_setting_is_refused_outside_debug():
    import os
    import subprocess
    import sys

    environment = {
        **os.environ,
        "DEBUG": "false",
        "SECRET_KEY": "x" * 50,
        "CREDENTIALS_KEY": "y" * 40,
        "WEBHOOK_ALLOW_PRIVATE_ADDRESSES": "true",
        "DJANGO_SETTINGS_MODULE": "orderdesk.settings",
    }
    run = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        env=environment,
        capture_output=True,
        text=True,
    )
    assert run.returncode != 0
    assert "WEBHOOK_ALLOW_PRIVATE_ADDRESSES is for development only" in run.stderr


# --- refusals and isolation -------------------------------------------------------------------


def test_an_endpoint_needs_at_least_one_known_event(owner, loopback_allowed):
    with pytest.raises(webhooks.WebhookEndpointRefused) as refused:
        webhooks.create_webhook_endpoint(by=owner, url="http://127.0.0.1:9/h", events=[])
    assert refused.value.message == "Choose at least one event to send."
    with pytest.raises(webhooks.WebhookEndpointRefused) as refused:
        webhooks.create_webhook_endpoint(by=owner, url="http://127.0.0.1:9/h", events=["order.exploded"])
    assert refused.value.message == "No such event: order.exploded."
    assert not WebhookEndpoint.objects.exists()


@pytest.mark.parametrize(
    "fields, message, field",
    [
        ({"url": "  "}, "Enter the endpoint's URL, starting with https://.", "url"),
        ({"url": "http://127.0.0.1/" + "a" * 500}, "A URL has at most 500 characters.", "url"),
        ({"description": "d" * 201}, "A description has at most 200 characters.", "description"),
        ({"url": "ftp://127.0.0.1/in"}, "Enter the endpoint's full URL, starting with https://.", "url"),
        ({"url": "http://user:pw@127.0.0.1/in"}, "Leave the user name and password out of the URL.", "url"),
    ],
)
def test_an_endpoint_is_refused_beside_its_field_and_nothing_is_saved(
    owner, loopback_allowed, fields, message, field
):
    given = {"url": "http://127.0.0.1:9/in", "events": ["order.paid"], **fields}

    with pytest.raises(DomainError) as refused:
        webhooks.create_webhook_endpoint(by=owner, **given)

    assert (refused.value.message, refused.value.field) == (message, field)
    assert not WebhookEndpoint.objects.exists()


def test_a_shop_has_at_most_twenty_endpoints(owner, loopback_allowed):
    for n in range(webhooks.MAX_ENDPOINTS):
        webhooks.create_webhook_endpoint(by=owner, url=f"http://127.0.0.1:9/{n}", events=["order.paid"])

    with pytest.raises(webhooks.WebhookEndpointRefused) as refused:
        webhooks.create_webhook_endpoint(by=owner, url="http://127.0.0.1:9/one-more", events=["order.paid"])

    assert refused.value.message == "A shop has at most 20 webhook endpoints; delete one you no longer use."
    assert WebhookEndpoint.objects.count() == webhooks.MAX_ENDPOINTS


def test_a_switched_off_endpoints_failures_are_not_retried(owner, endpoint, settings):
    settings.NOTIFICATION_MAX_ATTEMPTS = 1
    WebhookEndpoint.objects.update(url="http://127.0.0.1:9/closed")
    awaiting_order(owner)
    deliver_due_notifications()
    webhooks.switch_webhook_endpoint(endpoint.endpoint.pk, by=owner, on=False)

    with pytest.raises(webhooks.WebhookEndpointRefused) as refused:
        webhooks.retry_failed_webhooks(endpoint.endpoint.pk, by=owner)

    assert refused.value.message == "Switch the endpoint on before retrying its deliveries."
    assert webhook_rows().get().status == Notification.Status.FAILED


def test_the_secret_is_stored_encrypted(endpoint):
    stored = WebhookEndpoint.objects.get()
    assert endpoint.secret.startswith("whsec_")
    assert endpoint.secret not in stored.secret_encrypted


def test_another_merchants_endpoints_are_not_found_and_hear_nothing(owner, receiver, endpoint, client):
    other = owner_actor()
    client.force_login(other.user)
    endpoint_id = endpoint.endpoint.pk
    awaiting_order(owner)
    deliver_due_notifications()
    [delivery] = webhook_rows()

    assert client.get(f"/account/webhooks/{endpoint_id}/").status_code == 404
    assert client.post(f"/account/webhooks/{endpoint_id}/switch/", {"on": "0"}).status_code == 404
    assert client.post(f"/account/webhooks/{endpoint_id}/delete/").status_code == 404
    assert client.post(f"/account/webhooks/{endpoint_id}/retry-failed/").status_code == 404
    edit = {"url": "http://127.0.0.1:9/theirs", "events": ["order.paid"]}
    assert client.post(f"/account/webhooks/{endpoint_id}/edit/", edit).status_code == 404
    with pytest.raises(webhooks.WebhookEndpointNotFound):
        webhooks.update_webhook_endpoint(endpoint_id, by=other, **edit)
    assert (
        client.post(f"/account/webhooks/{endpoint_id}/deliveries/{delivery.pk}/redeliver/").status_code == 404
    )
    with pytest.raises(webhooks.WebhookDeliveryNotFound):
        webhooks.redeliver_webhook(delivery.pk, by=other)
    assert WebhookEndpoint.objects.get().is_active
    # The other merchant's orders reach only the other merchant's endpoints (it has none).
    awaiting_order(other)
    assert webhook_rows().count() == 1


def test_staff_cannot_manage_endpoints(endpoint, client):
    from orderdesk.accounts.tests.factories import MembershipFactory

    staff = MembershipFactory(merchant=endpoint.endpoint.merchant, role="staff")
    client.force_login(staff.user)

    assert client.get(f"/account/webhooks/{endpoint.endpoint.pk}/").status_code == 403
    assert "webhooks-heading" not in client.get("/account/").content.decode()


# --- the Account page -----------------------------------------------------------------------------


def test_the_owner_adds_an_endpoint_on_the_account_page_and_sees_the_secret_once(
    owner_client, receiver, loopback_allowed
):
    page = owner_client.get("/account/")
    assert "Add a webhook endpoint" in page.content.decode()

    answer = owner_client.post(
        "/account/webhooks/new/", {"url": receiver.url, "description": "Chatbot", "events": ["order.paid"]}
    )

    assert answer.status_code == 200
    stored = WebhookEndpoint.objects.get()
    secret = answer.context["created"].secret
    assert secret in answer.content.decode()
    assert (stored.url, stored.events, stored.description) == (receiver.url, ["order.paid"], "Chatbot")
    assert secret not in owner_client.get(f"/account/webhooks/{stored.pk}/").content.decode()
    assert secret not in owner_client.get("/account/").content.decode()


def test_a_refused_endpoint_is_shown_beside_its_field_keeping_what_was_typed(owner_client):
    answer = owner_client.post(
        "/account/webhooks/new/", {"url": "http://10.0.0.1/in", "events": ["order.paid"]}
    )

    assert answer.status_code == 422
    content = answer.content.decode()
    assert "Webhook endpoints must use https." in content
    assert 'value="http://10.0.0.1/in"' in content
    assert not WebhookEndpoint.objects.exists()


def test_the_owner_changes_an_endpoints_events_and_the_next_events_follow(
    owner, owner_client, receiver, endpoint
):
    endpoint_id = endpoint.endpoint.pk

    answer = owner_client.post(
        f"/account/webhooks/{endpoint_id}/edit/",
        {"url": receiver.url, "description": "Only payments", "events": ["order.paid"]},
    )
    pending_order(owner)

    assert answer.status_code == 302
    stored = WebhookEndpoint.objects.get()
    assert (stored.events, stored.description) == (["order.paid"], "Only payments")
    assert [row.payload["event"] for row in webhook_rows()] == ["order.paid"]


def test_a_refused_change_keeps_the_endpoint_as_it_was_and_what_was_typed(owner_client, endpoint):
    endpoint_id = endpoint.endpoint.pk

    answer = owner_client.post(
        f"/account/webhooks/{endpoint_id}/edit/", {"url": "http://127.0.0.1:9/new", "events": []}
    )

    assert answer.status_code == 422
    assert 'value="http://127.0.0.1:9/new"' in answer.content.decode()
    assert WebhookEndpoint.objects.get().events == ALL_EVENTS


def test_the_owner_switches_an_endpoint_off_and_on(owner_client, endpoint):
    endpoint_id = endpoint.endpoint.pk
    owner_client.post(f"/account/webhooks/{endpoint_id}/switch/", {"on": "0"})
    assert not WebhookEndpoint.objects.get().is_active
    owner_client.post(f"/account/webhooks/{endpoint_id}/switch/", {"on": "1"})
    assert WebhookEndpoint.objects.get().is_active


def test_the_owner_deletes_an_endpoint_and_what_was_queued_for_it_is_not_sent(
    owner, owner_client, receiver, endpoint
):
    awaiting_order(owner)
    owner_client.post(f"/account/webhooks/{endpoint.endpoint.pk}/delete/")

    deliver_due_notifications()

    assert not WebhookEndpoint.objects.exists()
    assert webhook_rows().get().status == Notification.Status.FAILED
    assert receiver.deliveries == []


def test_the_connection_goes_to_the_checked_address_not_to_a_fresh_lookup(receiver):
    from orderdesk.api.webhook_delivery import post_to_checked_address
    from orderdesk.api.webhook_signing import SendableAddress

    # A name nothing resolves: only the checked address can be reached, and the name is still sent.
    checked = SendableAddress(
        scheme="http", host="hooks.invalid", port=receiver.port, path="/in?x=1", addresses=("127.0.0.1",)
    )

    answer = post_to_checked_address(checked, b"{}", {"Content-Type": "application/json"}, timeout=5)

    assert answer.status == 200
    [delivery] = receiver.deliveries
    assert delivery.headers["host"] == f"hooks.invalid:{receiver.port}"
    assert delivery.path == "/in?x=1"


def test_over_https_the_checked_address_is_reached_and_the_certificate_checked_for_the_name(
    tmp_path, monkeypatch
):
    from orderdesk.api.webhook_delivery import post_to_checked_address
    from orderdesk.api.webhook_signing import SendableAddress
    from orderdesk.notifications.errors import TemporaryFailure

    from .webhook_receiver import certificate_for

    ca, cert, key = certificate_for("hooks.test", tmp_path)
    monkeypatch.setenv("SSL_CERT_FILE", ca)  # the system's trust store, for this test: our CA
    tls_receiver = WebhookReceiver(tls_files=(cert, key)).start()
    try:

        def post_as(name):
            checked = SendableAddress(
                scheme="https", host=name, port=tls_receiver.port, path="/in", addresses=("127.0.0.1",)
            )
            return post_to_checked_address(checked, b"{}", {"Content-Type": "application/json"}, timeout=5)

        assert post_as("hooks.test").status == 200
        with pytest.raises(TemporaryFailure) as refused:
            post_as("elsewhere.test")
        assert "TLS failed with elsewhere.test" in str(refused.value)
        assert [d.headers["host"] for d in tls_receiver.deliveries] == [f"hooks.test:{tls_receiver.port}"]
    finally:
        tls_receiver.stop()


@pytest.fixture
def vendor_event():
    from orderdesk.notifications import webhooks as event_table

    registered = event_table.register_webhook_event(
        "vendor.test_switched", label="A vendor is switched (test)", about_type="vendor"
    )
    yield registered
    event_table._event_types.pop(registered.name, None)


def test_an_app_extends_the_event_table_and_its_events_are_chosen_and_sent(
    owner, receiver, loopback_allowed, vendor_event
):
    created = webhooks.create_webhook_endpoint(by=owner, url=receiver.url, events=[vendor_event.name])

    with transaction.atomic():
        publish_webhook_event(
            vendor_event.name,
            event_id="evt_vendor_7",
            merchant_id=owner.merchant.pk,
            about_type="vendor",
            about_id=7,
        )
    deliver_due_notifications()

    [delivery] = receiver.deliveries
    event = verify_standard_webhook(created.secret, delivery.headers, delivery.body)
    assert (event["id"], event["type"], event["data"]) == (
        "evt_vendor_7",
        "vendor.test_switched",
        {"object": "vendor", "id": "7"},
    )


def test_a_batch_of_new_orders_reaches_the_endpoint_with_one_lookup_of_endpoints(owner, receiver, endpoint):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from orderdesk.orders.tests.factories import new_order

    with CaptureQueriesContext(connection) as captured:
        recorded = order_actions.record_orders(
            [new_order(), new_order(), new_order()], by=owner, payment_confirmed=True
        )
    deliver_due_notifications()

    endpoint_lookups = [q for q in captured.captured_queries if "api_webhookendpoint" in q["sql"]]
    assert len(endpoint_lookups) == 1
    assert sorted(d.event["type"] for d in receiver.deliveries) == ["order.created"] * 3 + ["order.paid"] * 3
    assert {d.event["data"]["id"] for d in receiver.deliveries} == {r.order.pk for r in recorded}
