"""Webhooks out, the write side: the owner's endpoints, one outbox row per event and endpoint,
redelivery, and switching an endpoint off after a whole day of failures.

An event (orderdesk.notifications.webhooks) becomes, in the transaction of the change, one
outbox row (channel webhook) per active endpoint that chose it, its JSON written then: what
the thing was at that moment. The outbox sends it through `webhook_delivery.send_webhook`.
"""

from __future__ import annotations

import datetime
import functools
import json
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone
from rest_framework.utils.encoders import JSONEncoder

from orderdesk import rows
from orderdesk.accounts.actors import Actor
from orderdesk.accounts.models import Membership
from orderdesk.accounts.permissions import Permission, ensure_can
from orderdesk.compiled_queries import fixed_statement_cursor
from orderdesk.errors import DomainError, NotFound
from orderdesk.notifications.actions import OutgoingMessage, queue_messages, resend_notification
from orderdesk.notifications.errors import ResendRefused
from orderdesk.notifications.models import Notification
from orderdesk.notifications.preferences import remember_switched_off, switched_off_columns
from orderdesk.notifications.topics import register_topic
from orderdesk.notifications.webhooks import (
    PublishBatch,
    PublishedEvent,
    current_publish_batch,
    webhook_event_type,
    webhook_event_types,
)
from orderdesk.stores.credentials import encrypt_text

from .models import WebhookEndpoint
from .webhook_payloads import render_event_data
from .webhook_signing import ensure_sendable, new_webhook_secret

MAX_ENDPOINTS = 20
MAX_URL_LENGTH = 500
MAX_DESCRIPTION_LENGTH = 200
# An endpoint whose every attempt failed for this long is switched off and its owners told.
FAILING_FOR_TOO_LONG = datetime.timedelta(days=1)
# Outbox rows: what a delivery is about (its endpoint), and its topic.
ABOUT_ENDPOINT = "webhook_endpoint"
DELIVERY_TOPIC = "webhook.delivery"
SWITCHED_OFF_TOPIC = "webhook.endpoint_switched_off"


class WebhookEndpointRefused(DomainError):
    """The endpoint cannot be saved as asked (no events, too many endpoints, a bad URL)."""


class WebhookEndpointNotFound(NotFound):
    def __init__(self):
        super().__init__("That webhook endpoint does not exist.")


class WebhookDeliveryNotFound(NotFound):
    def __init__(self):
        super().__init__("That webhook delivery does not exist.")


@dataclass(frozen=True)
class CreatedWebhookEndpoint:
    """The stored endpoint and its signing secret; the secret is shown only from here, once."""

    endpoint: WebhookEndpoint
    secret: str


def only_public_addresses() -> bool:
    """Production's rule (https, public addresses only) unless development relaxed it."""
    return not settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES


def create_webhook_endpoint(
    *, by: Actor, url: str, events: list[str], description: str = ""
) -> CreatedWebhookEndpoint:
    """Register an endpoint for the actor's merchant, with a new secret (returned, shown once).

    Raises NotAllowed (not the owner), WebhookEndpointRefused, WebhookAddressRefused (http, or
    a name that leads to a private address, in production).
    """
    ensure_can(by, Permission.MANAGE_WEBHOOKS)
    url, events, description = _checked_endpoint(url, events, description)
    secret = new_webhook_secret()
    if WebhookEndpoint.objects.for_merchant(by.merchant).count() >= MAX_ENDPOINTS:
        raise WebhookEndpointRefused(
            f"A shop has at most {MAX_ENDPOINTS} webhook endpoints; delete one you no longer use.",
            field="url",
        )
    endpoint = WebhookEndpoint.objects.create(
        merchant=by.merchant,
        url=url,
        description=description,
        events=events,
        secret_encrypted=encrypt_text(secret),
        created_by=by.user,
    )
    return CreatedWebhookEndpoint(endpoint=endpoint, secret=secret)


def update_webhook_endpoint(
    endpoint_id, *, by: Actor, url: str, events: list[str], description: str = ""
) -> WebhookEndpoint:
    """Change an endpoint's URL, events or description (its secret stays); the next events
    follow the change. Raises NotAllowed, WebhookEndpointNotFound, WebhookEndpointRefused,
    WebhookAddressRefused."""
    ensure_can(by, Permission.MANAGE_WEBHOOKS)
    url, events, description = _checked_endpoint(url, events, description)
    with transaction.atomic():
        endpoint = _locked_endpoint(endpoint_id, by)
        endpoint.url, endpoint.events, endpoint.description = url, events, description
        endpoint.save(update_fields=["url", "events", "description"])
    return endpoint


def _checked_endpoint(url: str, events, description: str) -> tuple[str, list[str], str]:
    """The endpoint's fields as they are saved; refused beside the field they are about."""
    url = (url or "").strip()
    description = (description or "").strip()
    if not url:
        raise WebhookEndpointRefused("Enter the endpoint's URL, starting with https://.", field="url")
    if len(url) > MAX_URL_LENGTH:
        raise WebhookEndpointRefused(f"A URL has at most {MAX_URL_LENGTH} characters.", field="url")
    if len(description) > MAX_DESCRIPTION_LENGTH:
        raise WebhookEndpointRefused(
            f"A description has at most {MAX_DESCRIPTION_LENGTH} characters.", field="description"
        )
    chosen = _checked_events(events)
    ensure_sendable(url, production=only_public_addresses())
    return url, chosen, description


def _checked_events(events) -> list[str]:
    known = [event_type.name for event_type in webhook_event_types()]
    chosen = set(events or [])
    if not chosen:
        raise WebhookEndpointRefused("Choose at least one event to send.", field="events")
    unknown = sorted(chosen - set(known))
    if unknown:
        raise WebhookEndpointRefused(f"No such event: {', '.join(unknown)}.", field="events")
    return [name for name in known if name in chosen]


def switch_webhook_endpoint(endpoint_id, *, by: Actor, on: bool) -> WebhookEndpoint:
    """Switch an endpoint on (its failure count starts afresh) or off (nothing more is sent).

    Raises NotAllowed, WebhookEndpointNotFound.
    """
    ensure_can(by, Permission.MANAGE_WEBHOOKS)
    with transaction.atomic():
        endpoint = _locked_endpoint(endpoint_id, by)
        endpoint.is_active = on
        endpoint.failing_since = None
        if on:
            endpoint.disabled_at = None
            endpoint.disabled_reason = ""
        elif endpoint.disabled_at is None:
            endpoint.disabled_at = timezone.now()
            endpoint.disabled_reason = f"Switched off by {by.display_name}."
        endpoint.save(update_fields=["is_active", "failing_since", "disabled_at", "disabled_reason"])
    return endpoint


def delete_webhook_endpoint(endpoint_id, *, by: Actor) -> WebhookEndpoint:
    """Delete an endpoint and its delivery log; deliveries still queued for it are not sent.

    Raises NotAllowed, WebhookEndpointNotFound.
    """
    ensure_can(by, Permission.MANAGE_WEBHOOKS)
    with transaction.atomic():
        endpoint = _locked_endpoint(endpoint_id, by)
        deleted_pk = endpoint.pk
        endpoint.delete()
        endpoint.pk = deleted_pk
    return endpoint


def redeliver_webhook(notification_id, *, by: Actor, endpoint_id=None) -> Notification:
    """Send one delivery of the actor's merchant (of that endpoint, when given) again, as a new
    outbox row with the same event (same `webhook-id` and body, so a receiver can tell).

    Raises NotAllowed, WebhookDeliveryNotFound, WebhookEndpointRefused (endpoint switched off).
    """
    ensure_can(by, Permission.MANAGE_WEBHOOKS)
    with transaction.atomic():
        try:
            deliveries = Notification.objects.for_merchant(by.merchant).filter(
                channel=Notification.Channel.WEBHOOK, about_type=ABOUT_ENDPOINT
            )
            if endpoint_id is not None:
                deliveries = deliveries.filter(about_id=str(endpoint_id))
            original = deliveries.get(pk=notification_id)
        except (Notification.DoesNotExist, ValueError, TypeError) as missing:
            raise WebhookDeliveryNotFound() from missing
        endpoint = _locked_endpoint(original.about_id, by)
        if not endpoint.is_active:
            raise WebhookEndpointRefused("Switch the endpoint on before redelivering to it.")
        [queued] = queue_messages(
            [
                _delivery(
                    endpoint,
                    event_name=original.payload.get("event", ""),
                    event_id=original.payload.get("event_id", ""),
                    body=original.body,
                    key_suffix=f":redelivery:{uuid.uuid4().hex}",
                    redelivery_of=original.pk,
                )
            ]
        )
    return queued


# At most this many failed deliveries are retried by one click (the rest by the next).
MAX_RETRIED_AT_ONCE = 500


def retry_failed_webhooks(endpoint_id, *, by: Actor) -> int:
    """Give every failed delivery of the endpoint another full round of attempts (the same
    outbox rows: an event that reaches the endpoint this way is still delivered once).

    For after an outage longer than the outbox's retries, or a switch-off. Returns how many;
    raises NotAllowed, WebhookEndpointNotFound, WebhookEndpointRefused (switched off).
    """
    ensure_can(by, Permission.MANAGE_WEBHOOKS)
    endpoint = _endpoint(endpoint_id, by)
    if not endpoint.is_active:
        raise WebhookEndpointRefused("Switch the endpoint on before retrying its deliveries.")
    failed = (
        Notification.objects.for_merchant(by.merchant)
        .filter(
            channel=Notification.Channel.WEBHOOK,
            about_type=ABOUT_ENDPOINT,
            about_id=str(endpoint.pk),
            status=Notification.Status.FAILED,
        )
        .order_by("created_at", "id")
        .values_list("pk", flat=True)[:MAX_RETRIED_AT_ONCE]
    )
    retried = 0
    for notification_id in list(failed):
        try:
            resend_notification(notification_id, by=by)
        except ResendRefused:
            continue  # retried or sent meanwhile
        retried += 1
    return retried


def _endpoint(endpoint_id, by: Actor) -> WebhookEndpoint:
    try:
        return WebhookEndpoint.objects.for_merchant(by.merchant).get(pk=endpoint_id)
    except (WebhookEndpoint.DoesNotExist, ValueError, TypeError) as missing:
        raise WebhookEndpointNotFound() from missing


def _locked_endpoint(endpoint_id, by: Actor) -> WebhookEndpoint:
    try:
        return WebhookEndpoint.objects.for_merchant(by.merchant).select_for_update().get(pk=endpoint_id)
    except (WebhookEndpoint.DoesNotExist, ValueError, TypeError) as missing:
        raise WebhookEndpointNotFound() from missing


# --- queueing events -----------------------------------------------------------------------


def queue_webhook_deliveries(events: list[PublishedEvent]) -> list[Notification]:
    """The publisher: one outbox row per event and active endpoint of its merchant that chose it,
    in the caller's transaction; each body is written once, now (what the thing is at this
    moment). Never twice per endpoint: the row's idempotency key is the event id and the endpoint.

    Inside publishing_once() the merchant's endpoints are read once per transaction and the rows
    are written together just before it commits (returns []); otherwise once per call, at once.
    """
    batch = current_publish_batch()
    messages = _deliveries(events, _active_endpoints({event.merchant_id for event in events}, batch))
    if batch is None:
        return queue_messages(messages)
    batch.hold(messages, write=queue_messages)
    return []


def _active_endpoints(merchant_ids: set[int], batch: PublishBatch | None) -> dict[int, list[WebhookEndpoint]]:
    """Merchant id → its active endpoints; a batch remembers what it read for the transaction."""
    known = batch.remembered.setdefault("webhook_endpoints", {}) if batch is not None else {}
    missing = merchant_ids - known.keys()
    if missing:
        for merchant_id in missing:
            known[merchant_id] = []
        if len(missing) == 1 and batch is not None:
            # Every order action asks this of one merchant, and then its notification switches:
            # both in one plain read (a switch comes as a row without an id), which skips the
            # ORM's compiling of the query and a raw query set's making of each row (most of its
            # cost here; usually it finds nothing).
            (merchant_id,) = missing
            found, switched_off = [], []
            width = rows.width(WebhookEndpoint)
            with fixed_statement_cursor() as cursor:
                cursor.execute(_endpoints_and_switches_sql(), [merchant_id, merchant_id])
                for row in cursor.fetchall():
                    if row[0] is None:
                        switched_off.append(row[width:])
                    else:
                        found.append(rows.instance(WebhookEndpoint, row[:width]))
            remember_switched_off(batch, merchant_id, switched_off)
        elif len(missing) == 1:
            # Every order action asks this of one merchant: a plain read skips the ORM's compiling
            # of the query and its raw query set (most of its cost here; usually it finds nothing).
            with fixed_statement_cursor() as cursor:
                cursor.execute(_one_merchants_active_endpoints_sql(), list(missing))
                found = [rows.instance(WebhookEndpoint, row) for row in cursor.fetchall()]
        else:
            found = WebhookEndpoint.objects.filter(merchant_id__in=missing, is_active=True)
        for endpoint in found:
            known[endpoint.merchant_id].append(endpoint)
    return known


@functools.cache
def _one_merchants_active_endpoints_sql() -> str:
    """The endpoints of one merchant (%s) that are active, in the model's order."""
    meta = WebhookEndpoint._meta
    quote = connection.ops.quote_name
    return (
        f"SELECT {rows.columns(WebhookEndpoint)} FROM {quote(meta.db_table)} "
        f"WHERE {quote(meta.get_field('merchant').column)} = %s AND {quote(meta.get_field('is_active').column)} "
        f"ORDER BY {quote(meta.get_field('created_at').column)}, {quote(meta.pk.column)}"
    )


@functools.cache
def _endpoints_and_switches_sql() -> str:
    """One merchant's (%s) active endpoints in the model's order, then the notification switches
    it turned off (%s again) as rows with no endpoint columns and their off_topic, off_channel,
    off_audience."""
    meta = WebhookEndpoint._meta
    quote = connection.ops.quote_name
    table = quote(meta.db_table)
    columns = [quote(f.column) for f in meta.concrete_fields]
    off_table, off_merchant, off_enabled, off_columns = switched_off_columns()
    position = {f.name: index for index, f in enumerate(meta.concrete_fields, start=1)}
    return (
        f"SELECT {', '.join(f'{table}.{c}' for c in columns)}, "
        "NULL AS off_topic, NULL AS off_channel, NULL AS off_audience "
        f"FROM {table} WHERE {table}.{quote(meta.get_field('merchant').column)} = %s "
        f"AND {table}.{quote(meta.get_field('is_active').column)} "
        f"UNION ALL SELECT {', '.join(['NULL'] * len(columns))}, {off_columns} "
        f"FROM {off_table} WHERE {off_merchant} = %s AND NOT {off_enabled} "
        f"ORDER BY {position['created_at']}, {position['id']}"
    )


def _deliveries(events: list[PublishedEvent], endpoints_of: dict[int, list[WebhookEndpoint]]) -> list:
    messages: list[OutgoingMessage] = []
    for event in events:
        wanting = [e for e in endpoints_of.get(event.merchant_id, []) if e.wants(event.name)]
        if not wanting:
            continue
        body = json.dumps(
            {
                "id": event.event_id,
                "type": event.name,
                "timestamp": event.occurred_at.isoformat(),
                "data": render_event_data(
                    webhook_event_type(event.name).about_type, event.about_id, event.subject
                ),
            },
            cls=JSONEncoder,
            ensure_ascii=False,
            separators=(",", ":"),
        )
        messages += [
            _delivery(endpoint, event_name=event.name, event_id=event.event_id, body=body)
            for endpoint in wanting
        ]
    return messages


def _delivery(
    endpoint: WebhookEndpoint,
    *,
    event_name: str,
    event_id: str,
    body: str,
    key_suffix: str = "",
    redelivery_of: int | None = None,
) -> OutgoingMessage:
    payload = {"event": event_name, "event_id": event_id, "endpoint_id": endpoint.pk}
    if redelivery_of is not None:
        payload["redelivery_of"] = redelivery_of
    return OutgoingMessage(
        topic=DELIVERY_TOPIC,
        channel=Notification.Channel.WEBHOOK,
        audience=Notification.Audience.ENDPOINT,
        recipient=endpoint.url[:254],
        idempotency_key=f"webhook:{event_id}:{endpoint.pk}{key_suffix}",
        merchant_id=endpoint.merchant_id,
        about_type=ABOUT_ENDPOINT,
        about_id=str(endpoint.pk),
        payload=payload,
        subject=event_name,
        body=body,
    )


# --- what attempts tell ----------------------------------------------------------------------


def note_delivery_outcome(endpoint_id: int, *, succeeded: bool, answer: str = "") -> WebhookEndpoint | None:
    """After an attempt: a success clears the endpoint's failing streak; a failure starts one, and
    one older than a day switches the endpoint off and emails the shop's owners (once)."""
    now = timezone.now()
    with transaction.atomic():
        endpoint = WebhookEndpoint.objects.select_for_update().filter(pk=endpoint_id).first()
        if endpoint is None:
            return None
        if succeeded:
            if endpoint.failing_since is not None:
                endpoint.failing_since = None
                endpoint.save(update_fields=["failing_since"])
            return endpoint
        if endpoint.failing_since is None:
            endpoint.failing_since = now
            endpoint.save(update_fields=["failing_since"])
        elif endpoint.is_active and now - endpoint.failing_since >= FAILING_FOR_TOO_LONG:
            _switch_off_failing(endpoint, now, answer)
    return endpoint


def _switch_off_failing(endpoint: WebhookEndpoint, now: datetime.datetime, answer: str) -> None:
    since = timezone.localtime(endpoint.failing_since)
    endpoint.is_active = False
    endpoint.disabled_at = now
    endpoint.disabled_reason = f"Every delivery failed since {since:%b %-d, %H:%M}; switched off."
    endpoint.save(update_fields=["is_active", "disabled_at", "disabled_reason"])
    owners = (
        Membership.objects.filter(merchant_id=endpoint.merchant_id, role=Membership.Role.OWNER)
        .select_related("user")
        .order_by("pk")
    )
    page = settings.SITE_URL + reverse("webhooks:detail", args=[endpoint.pk])
    body = (
        f"Orderdesk switched off your webhook endpoint {endpoint.url}: every delivery to it has failed "
        f"since {since:%b %-d, %Y %H:%M} ({since:%Z}).\n\n"
        f"The last answer: {answer or 'none'}\n\n"
        f"Nothing more is sent to it until you switch it on again. Fix the endpoint, then switch it "
        f"on and retry what failed: {page}\n"
    )
    queue_messages(
        [
            OutgoingMessage(
                topic=SWITCHED_OFF_TOPIC,
                channel=Notification.Channel.EMAIL,
                audience=Notification.Audience.MERCHANT,
                recipient=membership.user.email,
                idempotency_key=f"webhook-switched-off:{endpoint.pk}:{now.timestamp()}:{membership.user_id}",
                merchant_id=endpoint.merchant_id,
                about_type=ABOUT_ENDPOINT,
                about_id=str(endpoint.pk),
                subject=f"Webhook endpoint switched off: {endpoint.url}"[:255],
                body=body,
            )
            for membership in owners
            if membership.user.email
        ]
    )


def register_webhook_topics() -> None:
    """The outbox's labels and pages for webhook rows (called from ApiConfig.ready)."""

    def endpoint_page(notification: Notification) -> str:
        return reverse("webhooks:detail", args=[notification.about_id])

    register_topic(DELIVERY_TOPIC, label="Webhook delivery", page=endpoint_page)
    register_topic(SWITCHED_OFF_TOPIC, label="Webhook endpoint switched off", page=endpoint_page)
