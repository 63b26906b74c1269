"""The vendor's email of new allocations: one per vendor per placement, never one per line.

A placement (an order entering Order Tracking with auto-processing, or one click of Place
on the Pending tab) queues one outbox row per vendor with a contact email, naming the
shipments it was given; the worker writes the email from them when it sends it. The email
says what to ship and where (orders, items, quantities, the vendor's SKU, the customer's
name, address and phone) and never a price, total or cost.
"""

from __future__ import annotations

from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse

from orderdesk.fulfillment.models import Fulfillment, FulfillmentLine
from orderdesk.notifications.actions import OutgoingMessage, queue_messages
from orderdesk.notifications.errors import PermanentFailure
from orderdesk.notifications.models import Notification
from orderdesk.notifications.topics import Composed, register_topic

TOPIC = "vendor.allocated"


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
                idempotency_key=f"vendor-allocation:{vendor_id}:{key or min(s.pk for s in given)}",
                merchant_id=merchant_id,
                about_type="vendor",
                about_id=str(vendor_id),
                payload={"vendor_id": vendor_id, "shipment_ids": sorted(s.pk for s in given)},
            )
            for vendor_id, given in by_vendor.items()
        ]
    )


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
