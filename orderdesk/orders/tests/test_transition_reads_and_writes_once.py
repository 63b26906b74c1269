"""A dispatch or a fulfil reads its merchant's webhook endpoints and notification switches in one
statement, and writes its timeline events (the transition's and "notifications queued") in one
INSERT: what they find and write is what the separate statements found and wrote."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from orderdesk.api import webhooks
from orderdesk.notifications.actions import preferences_for, update_notification_preferences
from orderdesk.notifications.models import Notification
from orderdesk.orders import actions, events
from orderdesk.orders.tests.factories import dispatched_order, pending_order
from orderdesk.orders.tests.messages import messages_of

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("notification_settings")]


@pytest.fixture
def endpoints(owner, settings):
    """Two active endpoints (made in this order) and one switched off."""
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = True
    made = [
        webhooks.create_webhook_endpoint(
            by=owner, url=f"http://127.0.0.1:9/hooks/{n}", events=["order.dispatched", "order.fulfilled"]
        ).endpoint
        for n in range(3)
    ]
    webhooks.switch_webhook_endpoint(made[2].pk, by=owner, on=False)
    return made[:2]


def dispatch(order, by):
    return actions.dispatch_order(order.pk, by=by, delivery_reference="JT77", expected_on=order.due_on)


def deliveries_of(order):
    return [
        (d.payload["event_id"], d.recipient)
        for d in Notification.objects.filter(channel=Notification.Channel.WEBHOOK).order_by("pk")
        if d.payload.get("event_id", "").startswith("evt_order_event_")
        and events.OrderEvent.objects.filter(
            pk=int(d.payload["event_id"].rsplit("_", 1)[1]), order=order
        ).exists()
    ]


def test_a_dispatch_reads_the_endpoints_and_switches_together_and_honours_both(owner, endpoints):
    update_notification_preferences(by=owner, customer_email_on_dispatch=False)
    order = pending_order(owner)

    with CaptureQueriesContext(connection) as run:
        dispatched = dispatch(order, owner)

    reads = [q["sql"] for q in run.captured_queries if "notificationpreference" in q["sql"]]
    assert len(reads) == 1 and "api_webhookendpoint" in reads[0]
    assert [(n.audience, n.channel) for n in messages_of(dispatched).filter(topic="order.dispatched")] == [
        ("customer", "sms")
    ]
    event = dispatched.events.get(kind="dispatched")
    assert deliveries_of(order) == [(f"evt_order_event_{event.pk}", e.url) for e in endpoints]


def test_a_switch_changed_between_two_actions_counts_for_the_next(owner, endpoints):
    first, second = pending_order(owner), pending_order(owner)
    dispatch(first, owner)
    update_notification_preferences(by=owner, customer_sms_on_dispatch=False)

    dispatch(second, owner)

    assert sorted(n.channel for n in messages_of(first).filter(topic="order.dispatched")) == ["email", "sms"]
    assert [n.channel for n in messages_of(second).filter(topic="order.dispatched")] == ["email"]
    assert preferences_for(owner.merchant).is_on("customer_sms_on_dispatch") is False


def test_without_endpoints_the_switches_are_still_read_and_honoured(owner):
    update_notification_preferences(by=owner, customer_email_on_dispatch=False)

    dispatched = dispatch(pending_order(owner), owner)

    assert [n.channel for n in messages_of(dispatched).filter(topic="order.dispatched")] == ["sms"]


@pytest.mark.parametrize("action", ["dispatch", "fulfil"])
def test_the_transition_and_its_queued_messages_are_one_insert_of_events_in_order(owner, endpoints, action):
    if action == "dispatch":
        order = pending_order(owner)
        run_it = lambda: dispatch(order, owner)  # noqa: E731
        kind = "dispatched"
    else:
        order = dispatched_order(owner)
        run_it = lambda: actions.fulfill_order(order.pk, by=owner, remarks="Left with the guard")  # noqa: E731
        kind = "fulfilled"

    with CaptureQueriesContext(connection) as run:
        run_it()

    inserts = [
        q["sql"] for q in run.captured_queries if q["sql"].startswith('INSERT INTO "orders_orderevent"')
    ]
    assert len(inserts) == 1
    written = list(order.events.order_by("pk"))[-2:]
    assert [e.kind for e in written] == [kind, "notifications_queued"]
    assert written[0].created_at <= written[1].created_at
    queued = {n.pk for n in messages_of(order).filter(topic=f"order.{kind}")}
    assert queued and {n["id"] for n in written[1].data["notifications"]} == queued
    if action == "fulfil":
        assert written[0].data["remarks"] == "Left with the guard"
    assert [event_id for event_id, _ in deliveries_of(order)][-2:] == [f"evt_order_event_{written[0].pk}"] * 2
