"""After the load: every accepted request's effect exists exactly once, nothing is half-written,
every message reached its loopback peer exactly once, the tab counts match a recount, and no
request was answered 500. Also the figures: throughput and p50/p95/p99 per request kind."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from email.utils import getaddresses
from pathlib import Path

from django.core.files.storage import default_storage
from django.db.models import Count

from orderdesk.api.models import IdempotentRequest
from orderdesk.fulfillment.models import Fulfillment
from orderdesk.notifications.models import Notification
from orderdesk.orders.models import Order, OrderEvent, OrderStatusCount
from orderdesk.photos.models import Photo
from orderdesk.stores.models import InboundDelivery

ONCE_ONLY_EVENTS = [
    OrderEvent.Kind.PLACED,
    OrderEvent.Kind.PAYMENT_VERIFIED,
    OrderEvent.Kind.DISPATCHED,
    OrderEvent.Kind.FULFILLED,
    OrderEvent.Kind.CANCELLED,
]
# A merchant's page action → the event it writes.
ACTION_EVENTS = {
    "verify payment": OrderEvent.Kind.PAYMENT_VERIFIED,
    "dispatch with photo": OrderEvent.Kind.DISPATCHED,
    "fulfill": OrderEvent.Kind.FULFILLED,
    "cancel": OrderEvent.Kind.CANCELLED,
}


# What each kind of request may be answered; anything else (a 403, a 400) is a broken journey.
EXPECTED = defaultdict(
    lambda: {200},
    {
        "verify payment": {302},
        "dispatch with photo": {302},
        "fulfill": {302},
        "cancel": {302},
        "API create order": {201},
        "API create order again": {201},
    },
)


def drained() -> bool:
    """Nothing left for the workers: no message waiting or being sent, no webhook untaken."""
    return (
        not Notification.objects.filter(
            status__in=[Notification.Status.PENDING, Notification.Status.SENDING]
        ).exists()
        and not InboundDelivery.objects.filter(outcome=InboundDelivery.Outcome.RECEIVED).exists()
    )


def read_journal(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def result(ok: bool, detail: str) -> dict:
    return {"ok": bool(ok), "detail": detail}


def check(*, journal: Path, plan: dict, smtp_messages: list, sms_delivered: list, seconds: int) -> dict:
    entries = read_journal(journal)
    merchant_id = plan["merchant_id"]
    orders = Order.objects.filter(merchant_id=merchant_id)
    checks = {}

    server_errors = [e for e in entries if e["status"] >= 500]
    broken = [e for e in entries if e["status"] == 0]
    checks["no request answered 5xx"] = result(
        not server_errors,
        f"{len(server_errors)} of {len(entries)}: {Counter(e['kind'] for e in server_errors)}",
    )
    checks["no connection refused or cut"] = result(not broken, f"{len(broken)} of {len(entries)}")
    unexpected = Counter(
        (e["kind"], e["status"])
        for e in entries
        if 0 < e["status"] < 500 and e["status"] not in EXPECTED[e["kind"]]
    )
    checks["every request answered as expected"] = result(not unexpected, f"unexpected {dict(unexpected)}")

    # --- API: one order per accepted Idempotency-Key, however often it was sent ---
    ids_by_key = defaultdict(set)
    for e in entries:
        if e["kind"].startswith("API create order") and e["status"] in (200, 201):
            ids_by_key[e["idempotency_key"]].add(e["body"].get("id"))
    one_id_each = all(len(ids) == 1 for ids in ids_by_key.values())
    api_order_ids = {next(iter(ids)) for ids in ids_by_key.values() if len(ids) == 1}
    stored_keys = IdempotentRequest.objects.filter(api_key_id=plan["api_key_id"]).count()
    existing = orders.filter(pk__in=api_order_ids).count()
    checks["API orders exactly once per Idempotency-Key"] = result(
        one_id_each and len(api_order_ids) == len(ids_by_key) == stored_keys == existing,
        f"{len(ids_by_key)} keys accepted, {len(api_order_ids)} distinct orders answered, "
        f"{existing} exist, {stored_keys} keys stored; retries {sum(1 for e in entries if e['kind'] == 'API create order again')}",
    )

    # --- Store webhooks: one order per Shopify order, one delivery per webhook id ---
    accepted_hooks = [e for e in entries if e["kind"].startswith("store webhook") and e["status"] == 200]
    numbers = {e["shopify_order"] for e in accepted_hooks}
    webhook_ids = {e["webhook_id"] for e in accepted_hooks}
    per_number = Counter(
        orders.filter(store_id=plan["store_id"], external_id__in=[str(n) for n in numbers]).values_list(
            "external_id", flat=True
        )
    )
    deliveries = InboundDelivery.objects.filter(store_id=plan["store_id"])
    outcomes = Counter(deliveries.values_list("outcome", flat=True))
    answered = Counter(e["body"].get("status") for e in accepted_hooks)
    checks["store webhooks: one order each, duplicates taken once"] = result(
        all(per_number.get(str(n)) == 1 for n in numbers)
        and deliveries.count() == len(webhook_ids)
        and outcomes == Counter({InboundDelivery.Outcome.PROCESSED: len(webhook_ids)}),
        f"{len(numbers)} orders sent, {sum(1 for n in numbers if per_number.get(str(n)) == 1)} exist once, "
        f"{sum(1 for n in numbers if not per_number.get(str(n)))} missing; deliveries {dict(outcomes)}; "
        f"answers {dict(answered)}",
    )

    # --- Merchants' page actions: each accepted one wrote its event once, refused ones nothing ---
    accepted_actions = defaultdict(Counter)
    for e in entries:
        if e["kind"] in ACTION_EVENTS and e["status"] == 302 and e["location"].startswith("/orders/?done="):
            accepted_actions[e["order_id"]][e["kind"]] += 1
    touched = {e["order_id"] for e in entries if e["kind"] in ACTION_EVENTS}
    events = Counter(
        OrderEvent.objects.filter(order_id__in=touched, kind__in=ACTION_EVENTS.values()).values_list(
            "order_id", "kind"
        )
    )
    mismatched = [
        (order_id, kind)
        for order_id in touched
        for kind, event_kind in ACTION_EVENTS.items()
        if events[(order_id, event_kind)] != accepted_actions[order_id][kind]
    ]
    double_taps = sum(1 for counts in accepted_actions.values() if counts["fulfill"] > 1)
    checks["merchant actions: one event per accepted action"] = result(
        not mismatched and not double_taps,
        f"{sum(sum(c.values()) for c in accepted_actions.values())} accepted actions on {len(touched)} orders; "
        f"mismatched {mismatched[:5]}; fulfills accepted twice {double_taps}",
    )
    dispatched = [order_id for order_id, counts in accepted_actions.items() if counts["dispatch with photo"]]
    shipments = Counter(
        Fulfillment.objects.filter(order_id__in=dispatched).values_list("order_id", flat=True)
    )
    photos = Counter(
        Photo.objects.filter(fulfillments__order_id__in=dispatched).values_list(
            "fulfillments__order_id", flat=True
        )
    )
    checks["dispatches: one shipment with its photo each"] = result(
        all(shipments[o] == 1 and photos[o] == 1 for o in dispatched),
        f"{len(dispatched)} dispatched; shipments {Counter(shipments.values())}; photos {Counter(photos.values())}",
    )

    # --- Nothing twice, nothing half-written ---
    twice = (
        OrderEvent.objects.filter(merchant_id=merchant_id, kind__in=ONCE_ONLY_EVENTS)
        .values("order_id", "kind")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
        .count()
    )
    checks["no once-only event twice on an order"] = result(not twice, f"{twice} (order, kind) pairs twice")
    without_lines = orders.annotate(n=Count("lines")).filter(n=0).count()
    without_placed = orders.exclude(events__kind=OrderEvent.Kind.PLACED).count()
    shipped_without_shipment = (
        orders.filter(status__in=[Order.Status.DISPATCHED, Order.Status.FULFILLED])
        .filter(fulfillments=None)
        .count()
    )
    missing_files = [
        photo.pk
        for photo in Photo.objects.filter(merchant_id=merchant_id)
        if not default_storage.exists(photo.image.name)
    ]
    checks["nothing half-written"] = result(
        not (without_lines or without_placed or shipped_without_shipment or missing_files),
        f"orders without lines {without_lines}, without a placed event {without_placed}, shipped without a "
        f"shipment {shipped_without_shipment}; photos without a file {len(missing_files)}",
    )
    expected_orders = len(plan["awaiting_order_ids"]) + len(api_order_ids) + len(numbers)
    checks["every order comes from an accepted request"] = result(
        orders.count() == expected_orders,
        f"{orders.count()} orders; seeded {len(plan['awaiting_order_ids'])} + API {len(api_order_ids)} + "
        f"webhooks {len(numbers)} = {expected_orders}",
    )

    # --- Messages: every outbox row sent, and received by its peer exactly once ---
    statuses = Counter(Notification.objects.values_list("status", flat=True))
    checks["outbox: every message sent"] = result(
        set(statuses) <= {Notification.Status.SENT}, f"{dict(statuses)}"
    )
    sent = Notification.objects.filter(status=Notification.Status.SENT)
    sent_emails = Counter(
        (row.recipient.lower(), row.subject) for row in sent.filter(channel=Notification.Channel.EMAIL)
    )
    received_emails = Counter(
        (address.lower(), str(message["Subject"]))
        for message in smtp_messages
        for _name, address in getaddresses(message.get_all("To", []))
    )
    checks["email: each sent row received exactly once"] = result(
        sent_emails == received_emails,
        f"{sum(sent_emails.values())} sent, {sum(received_emails.values())} received; "
        f"received more than sent {dict((received_emails - sent_emails).most_common(3))}; "
        f"never received {dict((sent_emails - received_emails).most_common(3))}",
    )
    sent_sms = Counter((row.recipient, row.body) for row in sent.filter(channel=Notification.Channel.SMS))
    received_sms = Counter((item["to"], item["body"]) for item in sms_delivered)
    checks["SMS: each sent row received exactly once"] = result(
        sent_sms == received_sms,
        f"{sum(sent_sms.values())} sent, {sum(received_sms.values())} received; "
        f"received more than sent {len(received_sms - sent_sms)}; never received {len(sent_sms - received_sms)}",
    )

    # --- Tab counts ---
    kept = dict(OrderStatusCount.objects.filter(merchant_id=merchant_id).values_list("status", "count"))
    recount = dict(orders.values("status").annotate(n=Count("id")).values_list("status", "n"))
    kept = {status: n for status, n in kept.items() if n}
    checks["tab counts match a recount"] = result(kept == recount, f"kept {kept}; recount {recount}")

    return {
        "checks": checks,
        "requests": figures(entries, seconds),
        "total_requests": len(entries),
        "per_second": round(len(entries) / seconds, 1),
    }


def figures(entries: list[dict], seconds: int) -> dict:
    by_kind = defaultdict(list)
    for e in entries:
        by_kind[e["kind"]].append(e)
    return {
        kind: {
            "count": len(items),
            "per_second": round(len(items) / seconds, 2),
            "p50": percentile([e["ms"] for e in items], 50),
            "p95": percentile([e["ms"] for e in items], 95),
            "p99": percentile([e["ms"] for e in items], 99),
            "statuses": dict(Counter(e["status"] for e in items)),
        }
        for kind, items in by_kind.items()
    }


def percentile(values: list[float], p: int) -> int:
    ordered = sorted(values)
    if not ordered:
        return 0
    rank = max(0, min(len(ordered) - 1, round(p / 100 * len(ordered) + 0.5) - 1))
    return round(ordered[rank])
