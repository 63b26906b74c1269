"""The vendor's email of new allocations: one per vendor per placement, never one per line.

A placement (an order entering Order Tracking with auto-processing, or one click of Place
on the Pending tab) queues one outbox row per vendor with a contact email, naming the
shipments it was given; the worker writes the email from them when it sends it. On
PostgreSQL that row is written by the allocation's own statement (`digests_beside`: its
shipments are numbered there, and a second statement cost a round trip per paid order); on
SQLite by `queue_allocation_digests` after it. The email
says what to ship and where (orders, items, quantities, the vendor's SKU, the customer's
name, address and phone) and never a price, total or cost.
"""

from __future__ import annotations

import functools

from django.conf import settings
from django.db import connection
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from orderdesk.compiled_queries import array_literal
from orderdesk.fulfillment.actions import WrittenBeside
from orderdesk.fulfillment.models import Fulfillment, FulfillmentLine
from orderdesk.notifications.actions import OutgoingMessage, queue_messages
from orderdesk.notifications.delivery import deliver_after_commit
from orderdesk.notifications.errors import PermanentFailure
from orderdesk.notifications.models import Notification
from orderdesk.notifications.topics import Composed, register_topic

TOPIC = "vendor.allocated"
# A digest's idempotency key: this, the vendor's id, ":" and its lowest new shipment id (or a key given).
KEY_PREFIX = "vendor-allocation:"


def queue_allocation_digests(shipments, *, merchant_id: int, key: str = "") -> list[Notification]:
    """One email per vendor of these new shipments (each carrying `vendor_email`), inside the
    placement's transaction; vendors with no contact email are not written to."""
    by_vendor: dict[int, list] = {}
    for shipment in shipments:
        if getattr(shipment, "vendor_email", ""):
            by_vendor.setdefault(shipment.vendor_id, []).append(shipment)
    return queue_messages(
        [
            OutgoingMessage(
                topic=TOPIC,
                channel=Notification.Channel.EMAIL,
                audience=Notification.Audience.VENDOR,
                recipient=given[0].vendor_email,
                # The lowest new shipment id names the placement for this vendor, once ever.
                idempotency_key=f"{KEY_PREFIX}{vendor_id}:{key or min(s.pk for s in given)}",
                merchant_id=merchant_id,
                about_type="vendor",
                about_id=str(vendor_id),
                payload={"vendor_id": vendor_id, "shipment_ids": sorted(s.pk for s in given)},
            )
            for vendor_id, given in by_vendor.items()
        ]
    )


def digests_beside(vendor_emails: dict[int, str], *, merchant_id: int) -> WrittenBeside | None:
    """The rows queue_allocation_digests writes, as the allocation's PostgreSQL statement writes
    them (fulfillment.actions.WrittenBeside): one per vendor of its new shipments that has a
    contact email here (`vendor_emails`, vendor id → email), named by its lowest new shipment
    id, skipped when that key is in the outbox already. None when no vendor has an email. Give
    it to the allocation, then call `deliver_digests`."""
    vendors = [(vendor_id, email) for vendor_id, email in vendor_emails.items() if email]
    if not vendors:
        return None
    sql, slots = _digest_statement()
    given = {_MERCHANT: merchant_id, _NOW: timezone.now()}
    return WrittenBeside(
        sql=sql,
        params=[
            *(given.get(value, value) if type(value) is _Slot else value for value in slots),
            array_literal([vendor_id for vendor_id, _ in vendors]),
            array_literal([email for _, email in vendors]),
        ],
    )


def deliver_digests(digests: WrittenBeside | None) -> None:
    """Send the digests the allocation wrote once its transaction commits (as queue_messages does)."""
    if digests is not None:
        deliver_after_commit(digests.returned)


class _Slot(str):
    """A parameter of _digest_statement given per call."""


_MERCHANT, _NOW = _Slot("merchant"), _Slot("now")


@functools.cache
def _digest_statement() -> tuple[str, tuple]:
    """The outbox's INSERT … SELECT of the digests from the new shipments `s`, and its
    parameters but the last two: each the value every digest has on every call (topic,
    audience, channel, every default) or a _Slot given per call (merchant, time). Then come
    arrays of the vendors and their emails. It returns the rows' ids."""
    quote = connection.ops.quote_name
    shipment, meta = Fulfillment._meta, Notification._meta
    pk, vendor = quote(shipment.pk.column), quote(shipment.get_field("vendor").column)
    # The columns each digest has of its own, from its vendor's shipments.
    per_row = {
        "about_id": f"s.{vendor}::text",
        "recipient": "e.email",
        "idempotency_key": f"'{KEY_PREFIX}' || s.{vendor} || ':' || min(s.{pk})",
        "payload": f"jsonb_build_object('vendor_id', s.{vendor}, 'shipment_ids', jsonb_agg(s.{pk} ORDER BY s.{pk}))",
    }
    given = {"merchant_id": _MERCHANT, "created_at": _NOW, "next_attempt_at": _NOW}
    prototype = Notification(
        topic=TOPIC,
        audience=Notification.Audience.VENDOR,
        channel=Notification.Channel.EMAIL,
        about_type="vendor",
    )
    fields = [f for f in meta.concrete_fields if not f.primary_key]
    values, slots = [], []
    for f in fields:
        if f.attname in per_row:
            values.append(per_row[f.attname])
            continue
        # Typed: PostgreSQL takes an untyped parameter in a SELECT's list as text.
        values.append(f"CAST(%s AS {f.cast_db_type(connection)})")
        slots.append(given.get(f.attname) or f.get_db_prep_save(getattr(prototype, f.attname), connection))
    key = quote(meta.get_field("idempotency_key").column)
    sql = (
        f"INSERT INTO {quote(meta.db_table)} ({', '.join(quote(f.column) for f in fields)}) "
        f"SELECT {', '.join(values)} FROM s "
        f"JOIN unnest(%s::bigint[], %s::text[]) AS e (vendor, email) ON e.vendor = s.{vendor} "
        f"GROUP BY s.{vendor}, e.email ORDER BY min(s.{pk}) "
        f"ON CONFLICT ({key}) DO NOTHING RETURNING {quote(meta.pk.column)}"
    )
    return sql, tuple(slots)


def compose_allocation_digest(notification: Notification) -> Composed:
    """The email, from the shipments as they are when it is sent (a shipment moved away since is left out)."""
    payload = notification.payload
    shipments = list(
        Fulfillment.objects.filter(pk__in=payload.get("shipment_ids", []), vendor_id=payload.get("vendor_id"))
        .select_related("order", "vendor", "merchant")
        .prefetch_related(
            _lines_prefetch(),
        )
        .order_by("order__placed_at", "pk")
    )
    if not shipments:
        raise PermanentFailure("The shipments of this message were moved to another vendor or removed.")
    vendor = shipments[0].vendor
    merchant = shipments[0].merchant
    orders = [
        {
            "reference": shipment.order.reference,
            "customer_name": shipment.order.customer_name,
            "customer_phone": shipment.order.customer_phone,
            "shipping_address": shipment.order.shipping_address,
            "shipping_option": shipment.order.shipping_option,
            "note": shipment.order.note,
            "shipment_url": f"{settings.SITE_URL}/shipments/{shipment.pk}/",
            "items": [
                {
                    "quantity": entry.quantity,
                    "title": entry.order_line.title,
                    "variant_title": entry.order_line.variant_title,
                    "sku": entry.order_line.sku,
                    "vendor_sku": _vendor_sku(entry, vendor.pk),
                }
                for entry in shipment.lines.all()
            ],
        }
        for shipment in shipments
    ]
    units = sum(item["quantity"] for order in orders for item in order["items"])
    context = {"vendor": vendor, "shop": merchant.name, "orders": orders, "units": units}
    plural = "s" if len(orders) != 1 else ""
    subject = (
        f"{merchant.name}: {len(orders)} new order{plural} to ship ({units} item{'s' if units != 1 else ''})"
    )
    return Composed(
        subject=" ".join(subject.split())[:255],
        body=render_to_string("orders/email/vendor_allocated.txt", context).strip() + "\n",
        html_body=render_to_string("orders/email/vendor_allocated.html", context),
    )


def _lines_prefetch():
    from django.db.models import Prefetch

    return Prefetch(
        "lines",
        queryset=FulfillmentLine.objects.select_related("order_line__variant__hosting").order_by("pk"),
    )


def _vendor_sku(entry, vendor_id: int) -> str:
    variant = entry.order_line.variant
    hosting = getattr(variant, "hosting", None) if variant is not None else None
    return hosting.vendor_sku if hosting is not None and hosting.vendor_id == vendor_id else ""


def _vendor_page(notification: Notification) -> str:
    return reverse("vendors:list")


def register_allocation_messages() -> None:
    """Tell the outbox about the vendor's digest (OrdersConfig.ready)."""
    register_topic(TOPIC, label="Placed with a vendor", compose=compose_allocation_digest, page=_vendor_page)
