"""After-sales cases: a problem with shipped products, worked out with whoever shipped them.

A case belongs to one order and one shipper: a vendor, or the merchant itself (vendor null)
for lines it shipped. Its lines say which products and how many; a unit is in at most one
case that still holds it (see `HOLDING`), never more units than were shipped.
"""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.utils import timezone

from orderdesk.money import MONEY
from orderdesk.tenancy import MerchantOwned


class AfterSalesCase(MerchantOwned):
    """One after-sales case: type, mode, products, words and photos, status, outcome."""

    class Type(models.TextChoices):
        PRODUCT_BROKEN = "product_broken", "Product broken"
        LOGISTICS_ISSUE = "logistics_issue", "Logistics issue"
        WRONG_ITEM = "wrong_item", "Wrong item"
        MISSING_ITEM = "missing_item", "Missing item"
        NOT_AS_DESCRIBED = "not_as_described", "Not as described"
        OTHER = "other", "Other"

    class Mode(models.TextChoices):
        RESEND = "resend", "Resend"
        REFUND = "refund", "Refund"
        PARTIAL_REFUND = "partial_refund", "Partial refund"
        RETURN_AND_REFUND = "return_and_refund", "Return and refund"
        OTHER = "other", "Other"

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        ACCEPTED = "accepted", "Accepted"
        REJECTED = "rejected", "Rejected"
        RESOLVED = "resolved", "Resolved"
        CLOSED = "closed", "Closed"

    order = models.ForeignKey("orders.Order", on_delete=models.CASCADE, related_name="after_sales_cases")
    # Who handles it: the vendor that shipped the lines, or null for the merchant's own lines.
    vendor = models.ForeignKey(
        "vendors.Vendor", null=True, blank=True, on_delete=models.PROTECT, related_name="after_sales_cases"
    )
    type = models.CharField(max_length=20, choices=Type.choices)
    mode = models.CharField(max_length=20, choices=Mode.choices)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    text = models.TextField()
    photos = models.ManyToManyField("photos.Photo", blank=True, related_name="after_sales_cases")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by_name = models.CharField(max_length=200)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    answered_at = models.DateTimeField(null=True, blank=True)
    reject_reason = models.TextField(blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    close_note = models.TextField(blank=True)
    # Whether the customer was told when the case was resolved (the merchant ticks it).
    customer_told = models.BooleanField(default=False)

    # What the merchant asks the vendor to credit (a refund mode): the vendor's own charges for
    # the units, from the shipments' cost snapshots. The vendor sees this, never the order's prices.
    requested_credit = models.DecimalField(
        **MONEY, null=True, blank=True, validators=[MinValueValidator(Decimal("0"))]
    )
    # The vendor's credit to the merchant, as agreed when it accepted.
    vendor_credit = models.DecimalField(
        **MONEY, null=True, blank=True, validators=[MinValueValidator(Decimal("0"))]
    )
    # The merchant's refund to the customer. Never shown to a vendor.
    customer_refund = models.DecimalField(
        **MONEY, null=True, blank=True, validators=[MinValueValidator(Decimal("0"))]
    )
    refunded_at = models.DateTimeField(null=True, blank=True)
    # A resend: the new shipment of the case's lines by the case's shipper, and what it costs the
    # merchant (its lines carry no unit cost of their own).
    resend_shipment = models.OneToOneField(
        "fulfillment.Fulfillment",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="after_sales_case",
    )
    resend_cost = models.DecimalField(
        **MONEY, null=True, blank=True, validators=[MinValueValidator(Decimal("0"))]
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # Order Tracking's After-sales view: a merchant's cases by status, oldest open first.
            models.Index(fields=["merchant", "status", "created_at"], name="case_by_status"),
            # A vendor's open cases (its list).
            models.Index(fields=["vendor", "status", "created_at"], name="case_by_vendor"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(vendor_credit__isnull=True) | models.Q(vendor__isnull=False),
                name="case_vendor_credit_needs_a_vendor",
            )
        ]

    def __str__(self) -> str:
        return f"Case #{self.pk}"

    @property
    def is_live(self) -> bool:
        return self.status in LIVE


Status = AfterSalesCase.Status

# The one table of case status moves. Who may take each is in actions.py (the handler answers,
# the merchant resolves and closes); the tests try every pair.
CASE_TRANSITIONS: dict[str, frozenset[str]] = {
    Status.OPEN: frozenset({Status.ACCEPTED, Status.REJECTED, Status.CLOSED}),
    Status.ACCEPTED: frozenset({Status.RESOLVED, Status.CLOSED}),
    Status.REJECTED: frozenset({Status.CLOSED}),
    Status.RESOLVED: frozenset(),
    Status.CLOSED: frozenset(),
}

# Still being worked out: open first in the lists, with their age.
LIVE = frozenset({Status.OPEN, Status.ACCEPTED})

# Modes whose outcome is money back.
REFUND_MODES = frozenset(
    {AfterSalesCase.Mode.REFUND, AfterSalesCase.Mode.PARTIAL_REFUND, AfterSalesCase.Mode.RETURN_AND_REFUND}
)


class CaseLine(MerchantOwned):
    """How many units of one order line the case is about."""

    case = models.ForeignKey(AfterSalesCase, on_delete=models.CASCADE, related_name="lines")
    order_line = models.ForeignKey("orders.OrderLine", on_delete=models.CASCADE, related_name="+")
    quantity = models.PositiveIntegerField(validators=[MinValueValidator(1)])

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["case", "order_line"], name="one_case_line_per_order_line"),
            models.CheckConstraint(condition=models.Q(quantity__gte=1), name="case_line_quantity_positive"),
        ]


class CaseMessage(MerchantOwned):
    """One message of a case's thread, by the merchant's side or the vendor's."""

    case = models.ForeignKey(AfterSalesCase, on_delete=models.CASCADE, related_name="messages")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    author_name = models.CharField(max_length=200)
    # Which side wrote it: the merchant's people or the vendor's.
    by_vendor = models.BooleanField(default=False)
    text = models.TextField(blank=True)
    photos = models.ManyToManyField("photos.Photo", blank=True, related_name="after_sales_messages")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
