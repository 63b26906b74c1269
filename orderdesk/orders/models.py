import secrets
from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.utils import timezone

from orderdesk.covering_index import CoveringIndex
from orderdesk.money import MONEY
from orderdesk.tenancy import MerchantOwned, MerchantScopedQuerySet


def new_customer_page_token() -> str:
    return secrets.token_urlsafe(24)


# Migration 0001 names the default by its first name.
new_tracking_token = new_customer_page_token


class Order(MerchantOwned):
    """A customer's order: what they bought, how they pay, where it goes, and where it stands."""

    # No index of its own: every index in Meta starts with the merchant, and one more index
    # would be one more for each order written and each status change to update.
    merchant = models.ForeignKey(
        "accounts.Merchant", on_delete=models.PROTECT, related_name="+", db_index=False
    )

    class Status(models.TextChoices):
        # Outside Order Tracking until the payment is verified (or COD is confirmed).
        AWAITING_PAYMENT = "awaiting_payment", "Awaiting payment"
        PENDING = "pending", "Pending"
        DISPATCHED = "dispatched", "Dispatched"
        FULFILLED = "fulfilled", "Fulfilled"
        CANCELLED = "cancelled", "Cancelled"

    class PaymentMethod(models.TextChoices):
        CASH_ON_DELIVERY = "cod", "Cash on delivery"
        CARD = "card", "Card"
        GCASH = "gcash", "GCash"
        MAYA = "maya", "Maya"
        BANK_TRANSFER = "bank_transfer", "Bank transfer"
        PAYPAL = "paypal", "PayPal"
        OTHER = "other", "Other"

    class PaymentStatus(models.TextChoices):
        UNPAID = "unpaid", "Unpaid"
        # Cash on delivery the merchant has confirmed: shipped now, paid on arrival.
        COD_CONFIRMED = "cod_confirmed", "Cash on delivery, confirmed"
        PAID = "paid", "Paid"

    store = models.ForeignKey("stores.Store", on_delete=models.PROTECT, related_name="orders")
    # The order's id in its store; null for orders entered in Orderdesk.
    external_id = models.CharField(max_length=100, null=True, blank=True)
    reference = models.CharField(max_length=40)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.AWAITING_PAYMENT)

    customer = models.ForeignKey(
        "customers.Customer", null=True, blank=True, on_delete=models.SET_NULL, related_name="orders"
    )
    # Snapshot of the customer as they were when they ordered.
    customer_name = models.CharField(max_length=200)
    customer_phone = models.CharField(max_length=20, blank=True, help_text="E.164")
    customer_email = models.EmailField(blank=True)
    shipping_address = models.TextField(blank=True)

    currency = models.CharField(max_length=3)
    subtotal = models.DecimalField(**MONEY, validators=[MinValueValidator(Decimal("0"))])
    shipping_fee = models.DecimalField(**MONEY, default=Decimal("0"))
    discount = models.DecimalField(**MONEY, default=Decimal("0"))
    total = models.DecimalField(**MONEY)

    payment_method = models.CharField(max_length=20, choices=PaymentMethod.choices)
    payment_status = models.CharField(
        max_length=20, choices=PaymentStatus.choices, default=PaymentStatus.UNPAID
    )
    # The courier the customer chose at checkout, e.g. "J&T Express".
    shipping_option = models.CharField(max_length=100, blank=True)
    processing_days = models.PositiveSmallIntegerField(default=3)
    # The day the order should be dispatched by: payment day plus processing days.
    due_on = models.DateField(null=True, blank=True)
    note = models.TextField(blank=True, help_text="The customer's note at checkout")

    placed_at = models.DateTimeField(default=timezone.now)
    payment_verified_at = models.DateTimeField(null=True, blank=True)
    dispatched_at = models.DateTimeField(null=True, blank=True)
    fulfilled_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancel_reason = models.TextField(blank=True)
    fulfill_remarks = models.TextField(blank=True)
    # The customer page (/t/<token>/) is reached by this unguessable token alone.
    customer_page_token = models.CharField(max_length=64, unique=True, default=new_customer_page_token)
    updated_at = models.DateTimeField(auto_now=True)

    # What after-sales did to the order, kept by the aftersales steps through
    # actions.record_after_sales_money in their own transaction, so the order page and Order
    # Tracking read the margin off the row: how many cases it has, the merchant's refunds to the
    # customer, its vendors' credits to it, and what resends cost it.
    # A plain integer: a PositiveIntegerField's CHECK would scan the orders table as it is added.
    after_sales_case_count = models.IntegerField(default=0, db_default=0)
    refunded_total = models.DecimalField(**MONEY, default=Decimal("0"), db_default=Decimal("0"))
    vendor_credit_total = models.DecimalField(**MONEY, default=Decimal("0"), db_default=Decimal("0"))
    resend_cost_total = models.DecimalField(**MONEY, default=Decimal("0"), db_default=Decimal("0"))

    objects = MerchantScopedQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["merchant", "reference"], name="order_reference_unique_per_merchant"
            ),
            # An import can never create the same store order twice.
            models.UniqueConstraint(
                fields=["store", "external_id"],
                condition=models.Q(external_id__isnull=False),
                name="order_external_id_unique_per_store",
            ),
            models.CheckConstraint(condition=models.Q(total__gte=0), name="order_total_not_negative"),
        ]
        indexes = [
            # Order Tracking: one status tab, newest first, keyset on (placed_at, id). It also
            # holds what a search reads (PostgreSQL), so a tab's capped match count walks the
            # index alone, without reading the orders.
            CoveringIndex(
                fields=["merchant", "status", "-placed_at", "-id"],
                covers=["reference", "customer_name", "customer_phone"],
                name="order_tracking_tab_covering",
            ),
            # Late-order alerts: pending orders by due date.
            models.Index(fields=["merchant", "status", "due_on"], name="order_due"),
            # Search by customer phone (exact E.164 match).
            models.Index(fields=["merchant", "customer_phone"], name="order_by_customer_phone"),
            # The reports' roll-up refresh: a merchant's orders changed since its last run, and
            # the orders placed on the days it rebuilds (any status; exports of a period too).
            models.Index(fields=["merchant", "updated_at"], name="order_changed"),
            models.Index(fields=["merchant", "placed_at"], name="order_placed"),
        ]

    def __str__(self) -> str:
        return self.reference

    @property
    def after_sales_cost(self) -> Decimal:
        """What after-sales cost the merchant on this order: refunds and resends, less credits."""
        return self.refunded_total + self.resend_cost_total - self.vendor_credit_total

    @property
    def is_in_order_tracking(self) -> bool:
        return self.status != self.Status.AWAITING_PAYMENT

    def is_late(self, today=None) -> bool:
        """Late: still in a LATE_STATUSES status after its due date, in the merchant's time zone.

        The one rule for "late"; queries.late_order_count asks the database the same question.
        """
        if self.status not in LATE_STATUSES or self.due_on is None:
            return False
        today = today or timezone.localdate(timezone=self.merchant.zone)
        return self.due_on < today


# An order can be late only while it waits to be dispatched (see Order.is_late).
LATE_STATUSES = frozenset({Order.Status.PENDING})

# The one table of allowed status moves: actions check it, pages use it to pick buttons.
ORDER_TRANSITIONS: dict[str, frozenset[str]] = {
    Order.Status.AWAITING_PAYMENT: frozenset({Order.Status.PENDING}),
    Order.Status.PENDING: frozenset({Order.Status.DISPATCHED, Order.Status.CANCELLED}),
    Order.Status.DISPATCHED: frozenset({Order.Status.FULFILLED, Order.Status.CANCELLED}),
    Order.Status.FULFILLED: frozenset(),
    Order.Status.CANCELLED: frozenset(),
}


def can_move(order: Order, to: str) -> bool:
    return to in ORDER_TRANSITIONS[order.status]


class OrderLine(MerchantOwned):
    """A snapshot of one thing bought: it stays as it was even if the catalog changes."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    variant = models.ForeignKey(
        "catalog.Variant", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    sku = models.CharField("SKU", max_length=64, blank=True)
    title = models.CharField(max_length=255)
    variant_title = models.CharField(max_length=255, blank=True)
    quantity = models.PositiveIntegerField(validators=[MinValueValidator(1)])
    unit_price = models.DecimalField(**MONEY, validators=[MinValueValidator(Decimal("0"))])

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(quantity__gte=1), name="line_quantity_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.title}"

    @property
    def line_total(self) -> Decimal:
        return self.unit_price * self.quantity


class OrderEvent(MerchantOwned):
    """One entry of an order's timeline: who did what, when, with which values. Append-only."""

    class Kind(models.TextChoices):
        PLACED = "placed", "Order placed"
        PAYMENT_VERIFIED = "payment_verified", "Payment verified"
        COD_CONFIRMED = "cod_confirmed", "Cash on delivery confirmed"
        DISPATCHED = "dispatched", "Dispatched"
        FULFILLED = "fulfilled", "Fulfilled"
        CANCELLED = "cancelled", "Cancelled"
        NOTIFICATIONS_QUEUED = "notifications_queued", "Notifications queued"
        NOTIFICATION_RESENT = "notification_resent", "Notification resent"
        NOTE_ADDED = "note_added", "Note added"
        UPDATED_FROM_STORE = "updated_from_store", "Updated from the store"
        # The store changed or cancelled an order that had already left Pending: not applied.
        STORE_CHANGE_FLAGGED = "store_change_flagged", "Store change needs your attention"
        # After-sales cases on this order (orderdesk.aftersales writes them through events.py).
        AFTER_SALES_OPENED = "after_sales_opened", "After-sales case opened"
        AFTER_SALES_ACCEPTED = "after_sales_accepted", "After-sales case accepted"
        AFTER_SALES_REJECTED = "after_sales_rejected", "After-sales case rejected"
        AFTER_SALES_REFUNDED = "after_sales_refunded", "After-sales refund recorded"
        AFTER_SALES_MESSAGE = "after_sales_message", "After-sales message"
        AFTER_SALES_RESOLVED = "after_sales_resolved", "After-sales case resolved"
        AFTER_SALES_CLOSED = "after_sales_closed", "After-sales case closed"
        # Lines allocated to vendors (auto-processing or the Pending tab's Place), or moved between them.
        PLACED_WITH_VENDORS = "placed_with_vendors", "Placed with vendors"
        MOVED_TO_VENDOR = "moved_to_vendor", "Items moved to another vendor"
        # The merchant saw that flagged change and put it aside.
        STORE_CHANGE_DISMISSED = "store_change_dismissed", "Store change dismissed"

    # Indexed by order_timeline (order, created_at), whose first column serves the foreign key.
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="events", db_index=False)
    kind = models.CharField(max_length=40, choices=Kind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Who it was in words, kept even if the user is later deleted ("Ana Cruz", "Shopify sync").
    actor_name = models.CharField(max_length=200)
    created_at = models.DateTimeField(default=timezone.now)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            # The order page's timeline.
            models.Index(fields=["order", "created_at"], name="order_timeline"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} by {self.actor_name}"

    def save(self, *args, **kwargs):
        if self.pk is not None and not self._state.adding:
            raise ValueError("Order events are append-only; they are never changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("Order events are append-only; they are never deleted.")


class OrderStatusCount(MerchantOwned):
    """How many of a merchant's orders are in one status: the Order Tracking tab counts.

    Counting a million rows on every page load is too slow, so the order actions keep
    these in step in their own transaction; `recount_orders` rebuilds them from the orders.
    """

    status = models.CharField(max_length=20, choices=Order.Status.choices)
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["merchant", "status"], name="one_count_per_merchant_status")
        ]

    def __str__(self) -> str:
        return f"{self.merchant_id}: {self.count} {self.status}"
