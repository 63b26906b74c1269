"""The shapes of API requests and answers; business rules stay in the domain functions."""

from rest_framework import serializers

from orderdesk.catalog.models import Product, Variant
from orderdesk.customers.models import Customer
from orderdesk.fulfillment.models import Fulfillment, TrackingEvent
from orderdesk.orders.models import Order, OrderEvent, OrderLine
from orderdesk.stores.models import Store
from orderdesk.vendors.models import Hosting, Vendor


class ProblemSerializer(serializers.Serializer):
    """RFC 9457 problem details."""

    type = serializers.CharField()
    title = serializers.CharField()
    status = serializers.IntegerField()
    detail = serializers.CharField(allow_blank=True)
    field = serializers.CharField(required=False)
    errors = serializers.DictField(required=False)


class StoreSerializer(serializers.ModelSerializer):
    class Meta:
        model = Store
        fields = ["id", "name", "channel", "processing", "url", "is_active", "last_synced_at", "created_at"]


class VariantSerializer(serializers.ModelSerializer):
    class Meta:
        model = Variant
        fields = ["id", "sku", "title", "price", "created_at"]


class ProductSerializer(serializers.ModelSerializer):
    variants = VariantSerializer(many=True, read_only=True)

    class Meta:
        model = Product
        fields = ["id", "title", "description", "is_active", "created_at", "variants"]


class CustomerSerializer(serializers.ModelSerializer):
    class Meta:
        model = Customer
        fields = ["id", "name", "phone", "email", "address", "created_at"]


class OrderLineSerializer(serializers.ModelSerializer):
    class Meta:
        model = OrderLine
        fields = ["id", "variant_id", "sku", "title", "variant_title", "quantity", "unit_price"]


class TrackingEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = TrackingEvent
        fields = ["id", "status", "occurred_at", "place", "text"]


class ShipmentSerializer(serializers.ModelSerializer):
    tracking_events = TrackingEventSerializer(many=True, read_only=True)

    class Meta:
        model = Fulfillment
        fields = [
            "id", "status", "carrier", "delivery_reference", "expected_on", "message",
            "created_at", "shipped_at", "delivered_at", "tracking_events",
        ]  # fmt: skip


class OrderShipmentSerializer(ShipmentSerializer):
    """A shipment on its own: which order, who ships it, and its tracking events."""

    order_id = serializers.IntegerField(read_only=True)
    vendor_id = serializers.IntegerField(read_only=True, allow_null=True)

    class Meta(ShipmentSerializer.Meta):
        fields = ["order_id", "shipped_by", "vendor_id", *ShipmentSerializer.Meta.fields]


class MoveShipmentSerializer(serializers.Serializer):
    to = serializers.ChoiceField(choices=Fulfillment.ShippingStatus.choices, help_text="The new status.")
    carrier = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    delivery_reference = serializers.CharField(
        max_length=100,
        required=False,
        allow_blank=True,
        default="",
        help_text="When handing it to the carrier.",
    )
    expected_on = serializers.DateField(required=False, allow_null=True, default=None)
    message = serializers.CharField(max_length=1000, required=False, allow_blank=True, default="")
    reason = serializers.CharField(
        max_length=1000, required=False, allow_blank=True, default="", help_text="Why (for an exception)."
    )
    place = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class VendorSerializer(serializers.ModelSerializer):
    class Meta:
        model = Vendor
        fields = [
            "id", "name", "contact_email", "contact_phone", "currency", "processing_days", "is_active",
            "created_at",
        ]  # fmt: skip


class HostingSerializer(serializers.ModelSerializer):
    """Costs are null for whoever may not see the cost figures (API keys, as of now)."""

    variant_id = serializers.IntegerField(read_only=True)
    vendor_id = serializers.IntegerField(read_only=True)
    unit_cost = serializers.DecimalField(max_digits=12, decimal_places=2, read_only=True, allow_null=True)
    shipping_cost = serializers.DecimalField(max_digits=12, decimal_places=2, read_only=True, allow_null=True)

    def to_representation(self, instance):
        shown = super().to_representation(instance)
        if not self.context.get("show_costs"):
            shown["unit_cost"] = shown["shipping_cost"] = None
        return shown

    class Meta:
        model = Hosting
        fields = ["id", "variant_id", "vendor_id", "vendor_sku", "unit_cost", "shipping_cost", "updated_at"]


MAX_ID = 2**63 - 1


class VendorInputSerializer(serializers.Serializer):
    """A new vendor, or (PATCH) the fields to change; the vendors app's rules check the values."""

    name = serializers.CharField(max_length=200)
    contact_email = serializers.CharField(max_length=254, required=False, allow_blank=True)
    contact_phone = serializers.CharField(max_length=40, required=False, allow_blank=True)
    currency = serializers.CharField(
        max_length=3,
        required=False,
        allow_blank=True,
        help_text="Three letters; the shop's currency when left out.",
    )
    processing_days = serializers.IntegerField(required=False, min_value=0, max_value=365)
    is_active = serializers.BooleanField(
        required=False, help_text="False: no new allocations to it (its shipments go on)."
    )


class HostingInputSerializer(serializers.Serializer):
    """Host one variant with a vendor at these costs per unit; a variant hosted elsewhere is re-hosted."""

    variant_id = serializers.IntegerField(min_value=1, max_value=MAX_ID)
    vendor_id = serializers.IntegerField(min_value=1, max_value=MAX_ID)
    unit_cost = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=0)
    shipping_cost = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=0, default=0)
    vendor_sku = serializers.CharField(
        max_length=64,
        required=False,
        allow_blank=True,
        help_text="Left out: the vendor's SKU stays as it is.",
    )


class HostingsInputSerializer(HostingInputSerializer):
    """Host many variants with one vendor at the same costs (the Hosting page's "Host selected")."""

    variant_id = None
    variant_ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_ID), min_length=1, max_length=500
    )


class OrderEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = OrderEvent
        fields = ["id", "kind", "actor_name", "created_at", "data"]


_ORDER_FIELDS = [
    "id", "reference", "status", "store_id", "external_id", "customer_id", "customer_name",
    "customer_phone", "customer_email", "shipping_address", "currency", "subtotal", "shipping_fee",
    "discount", "total", "payment_method", "payment_status", "shipping_option", "processing_days",
    "due_on", "note", "placed_at", "payment_verified_at", "dispatched_at", "fulfilled_at",
    "cancelled_at", "cancel_reason", "fulfill_remarks", "updated_at",
]  # fmt: skip


class OrderSummarySerializer(serializers.ModelSerializer):
    store_id = serializers.IntegerField(read_only=True)
    customer_id = serializers.IntegerField(read_only=True, allow_null=True)

    class Meta:
        model = Order
        fields = _ORDER_FIELDS


class OrderSerializer(OrderSummarySerializer):
    lines = OrderLineSerializer(many=True, read_only=True)
    shipments = ShipmentSerializer(many=True, read_only=True, source="fulfillments")
    events = OrderEventSerializer(many=True, read_only=True)

    class Meta:
        model = Order
        fields = [*_ORDER_FIELDS, "lines", "shipments", "events"]


class WebhookOrderSerializer(OrderSummarySerializer):
    """An order in a webhook: as the API shows it, without the timeline (the event is the news)."""

    lines = OrderLineSerializer(many=True, read_only=True)
    shipments = ShipmentSerializer(many=True, read_only=True, source="fulfillments")

    class Meta:
        model = Order
        fields = [*_ORDER_FIELDS, "lines", "shipments"]


class CustomerInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    phone = serializers.CharField(max_length=40, required=False, allow_blank=True, default="")
    email = serializers.CharField(max_length=254, required=False, allow_blank=True, default="")
    address = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class LineInputSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=255)
    quantity = serializers.IntegerField(min_value=1, max_value=100_000)
    unit_price = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=0)
    sku = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")
    variant_title = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")
    variant_id = serializers.IntegerField(required=False, allow_null=True, default=None, min_value=1)


class NewOrderSerializer(serializers.Serializer):
    customer = CustomerInputSerializer()
    lines = LineInputSerializer(many=True, allow_empty=False, max_length=500)
    payment_method = serializers.ChoiceField(choices=Order.PaymentMethod.choices)
    payment_confirmed = serializers.BooleanField(
        default=False,
        help_text="Paid already (or cash on delivery confirmed): the order goes straight to Pending.",
    )
    shipping_option = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    shipping_fee = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=0, default=0)
    discount = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=0, default=0)
    processing_days = serializers.IntegerField(required=False, allow_null=True, min_value=0, max_value=365)
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")
    store_id = serializers.IntegerField(required=False, allow_null=True, min_value=1)
    external_id = serializers.CharField(max_length=100, required=False, allow_null=True, allow_blank=True)
    reference = serializers.CharField(max_length=40, required=False, allow_null=True, allow_blank=True)
    placed_at = serializers.DateTimeField(required=False, allow_null=True)


class DispatchSerializer(serializers.Serializer):
    delivery_reference = serializers.CharField(max_length=100)
    expected_on = serializers.DateField()
    message = serializers.CharField(max_length=1000, required=False, allow_blank=True, default="")
    photos = serializers.ListField(child=serializers.FileField(), required=False, default=list, max_length=20)


class FulfillSerializer(serializers.Serializer):
    remarks = serializers.CharField(max_length=1000, required=False, allow_blank=True, default="")


class CancelSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=1000)
