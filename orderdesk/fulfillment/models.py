from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.utils import timezone

from orderdesk.money import MONEY
from orderdesk.tenancy import MerchantOwned

# Shipments someone still has to move (everything but delivered).
LIVE_STATUSES = ["pending", "processing", "in_transit", "exception"]


class Fulfillment(MerchantOwned):
    """One shipment of some of an order's lines by one party: a vendor, or the merchant itself.

    The merchant's Dispatch is the case of all lines shipped by the merchant.
    """

    class ShippingStatus(models.TextChoices):
        PENDING = "pending", "Pending"  # not yet allocated to whoever ships it
        PROCESSING = "processing", "Processing"  # the shipper is preparing it
        IN_TRANSIT = "in_transit", "In transit"  # with the carrier
        EXCEPTION = "exception", "Exception"  # something went wrong on the way
        DELIVERED = "delivered", "Delivered"

    class Shipper(models.TextChoices):
        # Who ships it: the merchant itself, or one of its vendors (then `vendor` names it).
        MERCHANT = "merchant", "The merchant"
        VENDOR = "vendor", "A vendor"

    # Indexed by fulfillment_by_status and the other indexes that start with it.
    merchant = models.ForeignKey(
        "accounts.Merchant", on_delete=models.PROTECT, related_name="+", db_index=False
    )
    order = models.ForeignKey("orders.Order", on_delete=models.CASCADE, related_name="fulfillments")
    shipped_by = models.CharField(max_length=20, choices=Shipper.choices, default=Shipper.MERCHANT)
    # Indexed by fulfillment_by_vendor, which starts with it.
    vendor = models.ForeignKey(
        "vendors.Vendor",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="shipments",
        db_index=False,
    )
    status = models.CharField(max_length=20, choices=ShippingStatus.choices, default=ShippingStatus.PENDING)
    carrier = models.CharField(max_length=100, blank=True)
    delivery_reference = models.CharField(max_length=100, blank=True)
    # The carrier's page for this parcel, as the shipper gave it (shown to the customer).
    tracking_url = models.URLField(max_length=500, blank=True, default="", db_default="")
    expected_on = models.DateField(null=True, blank=True)
    message = models.TextField(blank=True, help_text="For the customer")
    shipping_cost = models.DecimalField(
        **MONEY, null=True, blank=True, validators=[MinValueValidator(Decimal("0"))]
    )
    # A second shipment of units already shipped once (an after-sales resend): it has its own
    # tracking and cost but is no part of what the order itself shipped (orders.shipping, the
    # units left to ship).
    is_resend = models.BooleanField(default=False, db_default=False)
    photos = models.ManyToManyField("photos.Photo", blank=True, related_name="fulfillments")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    shipped_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    # When a vendor should have handed it to the carrier (allocation + its processing days).
    ship_by = models.DateTimeField(null=True, blank=True)
    # The time of its newest tracking event: a live shipment silent too long needs attention.
    last_event_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            # The carrier-tracking feed finds a shipment by the merchant and tracking number.
            models.Index(fields=["merchant", "delivery_reference"], name="fulfillment_by_reference"),
            # Shipments by status across orders (vendor work lists, reports).
            models.Index(fields=["merchant", "status", "created_at"], name="fulfillment_by_status"),
            # A vendor's work list across its merchants (the vendor portal).
            models.Index(fields=["vendor", "status", "created_at"], name="fulfillment_by_vendor"),
            # "Needs attention" (fulfillment.queries.attention_count): live shipments silent the
            # longest, and vendors' shipments past their processing days with no tracking number.
            models.Index(
                fields=["merchant", "last_event_at"],
                condition=models.Q(status__in=LIVE_STATUSES),
                name="fulfillment_live_by_last_event",
            ),
            models.Index(
                fields=["merchant", "ship_by"],
                condition=models.Q(status__in=LIVE_STATUSES, delivery_reference=""),
                name="fulfillment_untracked_ship_by",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=(models.Q(shipped_by="vendor", vendor__isnull=False))
                | (~models.Q(shipped_by="vendor") & models.Q(vendor__isnull=True)),
                name="vendor_named_when_shipped_by_vendor",
            )
        ]

    def __str__(self) -> str:
        return f"{self.carrier or 'Shipment'} {self.delivery_reference}".strip()

    @property
    def is_live(self) -> bool:
        """Neither delivered nor given up: someone still has to move it."""
        return self.status != self.ShippingStatus.DELIVERED

    @property
    def is_on_its_way(self) -> bool:
        """With the carrier or already delivered: what makes an order line dispatched."""
        return self.status in ON_ITS_WAY


# The one table of shipping status moves: forward along the road, and exception from (and back
# to) any live state. The shipment actions check it; the tests try every pair.
SHIPPING_TRANSITIONS: dict[str, frozenset[str]] = {
    Fulfillment.ShippingStatus.PENDING: frozenset({"processing", "in_transit", "exception"}),
    Fulfillment.ShippingStatus.PROCESSING: frozenset({"in_transit", "exception"}),
    Fulfillment.ShippingStatus.IN_TRANSIT: frozenset({"delivered", "exception"}),
    Fulfillment.ShippingStatus.EXCEPTION: frozenset({"pending", "processing", "in_transit", "delivered"}),
    Fulfillment.ShippingStatus.DELIVERED: frozenset(),
}


# Shipments in these statuses count as dispatched for their order (see orders.shipping).
ON_ITS_WAY = frozenset({Fulfillment.ShippingStatus.IN_TRANSIT, Fulfillment.ShippingStatus.DELIVERED})


class FulfillmentLine(MerchantOwned):
    """How many of one order line this shipment carries."""

    # Indexed by one_entry_per_line_per_fulfillment, which starts with it.
    fulfillment = models.ForeignKey(
        Fulfillment, on_delete=models.CASCADE, related_name="lines", db_index=False
    )
    order_line = models.ForeignKey(
        "orders.OrderLine", on_delete=models.CASCADE, related_name="fulfillment_lines"
    )
    quantity = models.PositiveIntegerField(validators=[MinValueValidator(1)])
    # What the vendor charges per unit, copied from its Hosting when the line was allocated,
    # so a later cost change never rewrites what an order cost. Empty for the merchant's own.
    unit_cost = models.DecimalField(
        **MONEY, null=True, blank=True, validators=[MinValueValidator(Decimal("0"))]
    )
    shipping_cost = models.DecimalField(
        **MONEY, null=True, blank=True, validators=[MinValueValidator(Decimal("0"))]
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["fulfillment", "order_line"], name="one_entry_per_line_per_fulfillment"
            )
        ]


class TrackingEvent(MerchantOwned):
    """A point on a shipment's way: status, time, place and what the carrier said."""

    fulfillment = models.ForeignKey(Fulfillment, on_delete=models.CASCADE, related_name="tracking_events")
    status = models.CharField(max_length=20, choices=Fulfillment.ShippingStatus.choices)
    occurred_at = models.DateTimeField(default=timezone.now)
    place = models.CharField(max_length=200, blank=True)
    text = models.TextField(blank=True)

    class Meta:
        ordering = ["occurred_at", "id"]


class ShipmentStatusCount(MerchantOwned):
    """How many of a merchant's shipments, of one vendor (or the merchant's own), are in one
    status: the shipping-status tab counts and the vendor work list's counts.

    Counting a million rows on every page load is too slow, so the shipment actions keep
    these in step in their own transaction; `counts.recount_shipments` rebuilds them.
    """

    vendor = models.ForeignKey(
        "vendors.Vendor", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    status = models.CharField(max_length=20, choices=Fulfillment.ShippingStatus.choices)
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["merchant", "vendor", "status"],
                condition=models.Q(vendor__isnull=False),
                name="one_shipment_count_per_vendor_status",
            ),
            models.UniqueConstraint(
                fields=["merchant", "status"],
                condition=models.Q(vendor__isnull=True),
                name="one_shipment_count_per_merchant_status",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.merchant_id}/{self.vendor_id}: {self.count} {self.status}"
