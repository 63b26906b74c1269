"""The REST API under /api/v1/: thin views that read through queries and write through domain functions."""

from __future__ import annotations

import datetime
import functools

from django import forms
from django.db import transaction
from django.db.models import Prefetch
from django_filters import rest_framework as filters
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, mixins, parsers, status, viewsets
from rest_framework.decorators import action
from rest_framework.pagination import CursorPagination
from rest_framework.response import Response

from orderdesk.accounts.permissions import Permission, can, ensure_can
from orderdesk.catalog.models import Product, Variant
from orderdesk.customers.models import Customer
from orderdesk.fulfillment.errors import ShipmentNotFound
from orderdesk.fulfillment.models import Fulfillment, TrackingEvent
from orderdesk.orders import actions as order_actions
from orderdesk.orders.errors import OrderNotFound
from orderdesk.orders.models import Order
from orderdesk.orders.queries import matching_search, order_for_page
from orderdesk.stores.models import Store
from orderdesk.vendors import actions as vendor_actions
from orderdesk.vendors.errors import VendorNotFound
from orderdesk.vendors.models import Hosting, Vendor

from . import lean, serializers
from .idempotency import HEADER as IDEMPOTENCY_HEADER
from .idempotency import run_idempotently

PROBLEMS = {
    (code, "application/problem+json"): serializers.ProblemSerializer
    for code in (400, 401, 403, 404, 409, 422, 429)
}


class NewestFirst(CursorPagination):
    """Keyset pages by creation, newest first: stable while rows are added."""

    ordering = ("-created_at", "-id")
    page_size = 50
    page_size_query_param = "limit"
    max_page_size = 200


class NewestPlacedFirst(NewestFirst):
    ordering = ("-placed_at", "-id")


MAX_ID = 2**63 - 1


class MerchantScoped:
    """Every queryset starts from the key's merchant; an id from the URL is looked up inside it."""

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        pk = kwargs.get("pk")
        # An id no row can have is simply not found, before it reaches the database.
        if pk is not None and not (pk.isdigit() and 0 < int(pk) <= MAX_ID):
            raise self.not_found()

    def not_found(self) -> Exception:
        return exceptions.NotFound()

    def merchant_rows(self, model, *, permission: Permission = Permission.VIEW_ORDERS):
        if getattr(self, "swagger_fake_view", False):  # drf-spectacular reading the view's model
            return model.objects.none()
        ensure_can(self.request.actor, permission)
        return model.objects.for_merchant(self.request.actor.merchant)


@extend_schema(responses={200: serializers.StoreSerializer, **PROBLEMS})
class StoreViewSet(MerchantScoped, viewsets.ReadOnlyModelViewSet):
    serializer_class = serializers.StoreSerializer
    pagination_class = NewestFirst

    def get_queryset(self):
        return self.merchant_rows(Store)


@extend_schema(responses={200: serializers.ProductSerializer, **PROBLEMS})
class ProductViewSet(MerchantScoped, viewsets.ReadOnlyModelViewSet):
    serializer_class = serializers.ProductSerializer
    pagination_class = NewestFirst

    def get_queryset(self):
        return self.merchant_rows(Product).prefetch_related(
            Prefetch("variants", queryset=Variant.objects.order_by("id"))
        )


@extend_schema(responses={200: serializers.CustomerSerializer, **PROBLEMS})
class CustomerViewSet(MerchantScoped, viewsets.ReadOnlyModelViewSet):
    serializer_class = serializers.CustomerSerializer
    pagination_class = NewestFirst

    def get_queryset(self):
        return self.merchant_rows(Customer)


class IdFilter(filters.NumberFilter):
    field_class = forms.IntegerField


class UtcDateTimeFilter(filters.IsoDateTimeFilter):
    """The same instant in UTC: PostgreSQL refuses offsets beyond ±15:59 that ISO 8601 allows."""

    def filter(self, qs, value):
        if value is not None:
            try:
                value = value.astimezone(datetime.UTC)
            except OverflowError as out_of_range:
                raise exceptions.ValidationError(
                    {self.field_name: ["This time is out of range."]}
                ) from out_of_range
        return super().filter(qs, value)


class OrderFilter(filters.FilterSet):
    status = filters.ChoiceFilter(choices=Order.Status.choices)
    store = IdFilter(field_name="store_id", min_value=1, max_value=MAX_ID)
    placed_after = UtcDateTimeFilter(field_name="placed_at", lookup_expr="gte")
    placed_before = UtcDateTimeFilter(field_name="placed_at", lookup_expr="lt")
    updated_after = UtcDateTimeFilter(field_name="updated_at", lookup_expr="gte")
    updated_before = UtcDateTimeFilter(field_name="updated_at", lookup_expr="lt")
    search = filters.CharFilter(method="filter_search", help_text="Reference, customer name or phone.")

    class Meta:
        model = Order
        fields = ["status", "store"]

    def filter_search(self, queryset, name, value):
        return queryset.filter(matching_search(self.request.actor.merchant, value))


@functools.cache
def _order_summary() -> serializers.OrderSummarySerializer:
    """One summary serializer for every list: building its fields took longer than writing 50 rows.
    Its to_representation keeps no state, so threads share it."""
    return serializers.OrderSummarySerializer()


@functools.cache
def _new_order_input() -> serializers.NewOrderSerializer:
    return serializers.NewOrderSerializer()


@functools.cache
def _new_order_check():
    """NewOrderSerializer's check of plain input, worked out once (lean.input_check)."""
    return lean.input_check(_new_order_input())


@functools.cache
def _order_shown():
    """OrderSerializer's to_representation, worked out once (lean.shown)."""
    return lean.shown(_order_serializer())


@functools.cache
def _order_serializer() -> serializers.OrderSerializer:
    """One order serializer for the answers that show one order, built once like _order_summary
    (building a ModelSerializer's nested fields cost more than writing the order)."""
    return serializers.OrderSerializer()


def prepare() -> None:
    """Build what the order answers and the create's check share (the serializers' fields, the
    lean plans) now rather than on a process's first request: gunicorn calls it before forking
    (deploy/gunicorn.conf.py), so each worker starts with them. Touches no database."""
    _order_summary()
    _new_order_check()
    _order_shown()


class OrderViewSet(MerchantScoped, mixins.ListModelMixin, viewsets.GenericViewSet):
    """Orders: list, one with its lines, shipments and events, and the lifecycle actions."""

    pagination_class = NewestPlacedFirst
    filterset_class = OrderFilter
    serializer_class = serializers.OrderSerializer

    def get_queryset(self):
        return self.merchant_rows(Order)

    def not_found(self) -> Exception:
        return OrderNotFound()

    def get_serializer_class(self):
        return serializers.OrderSummarySerializer if self.action == "list" else serializers.OrderSerializer

    @extend_schema(responses={200: serializers.OrderSummarySerializer(many=True), **PROBLEMS})
    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        summary = _order_summary()
        return self.get_paginated_response([summary.to_representation(order) for order in page])

    @extend_schema(responses={200: serializers.OrderSerializer, **PROBLEMS})
    def retrieve(self, request, pk=None):
        self.merchant_rows(Order)
        return Response(self._shown(pk))

    @extend_schema(
        request=serializers.NewOrderSerializer,
        responses={201: serializers.OrderSerializer, **PROBLEMS},
        parameters=[
            OpenApiParameter(
                IDEMPOTENCY_HEADER,
                location=OpenApiParameter.HEADER,
                required=False,
                description="Retry safely: the same key and body return the first answer.",
            )
        ],
    )
    def create(self, request):
        def record():
            given = self._valid_new_order()
            customer = given.pop("customer")
            lines = given.pop("lines")
            payment_confirmed = given.pop("payment_confirmed")
            new = order_actions.NewOrder(
                customer=order_actions.CustomerDetails(**customer),
                lines=[order_actions.LineInput(**line) for line in lines],
                **{name: value for name, value in given.items() if value is not None},
            )
            order = order_actions.record_order(new, by=request.actor, payment_confirmed=payment_confirmed)
            # The order as written (record_order hands it back with its lines and events): no read-back.
            return Response(_order_shown()(order), status=status.HTTP_201_CREATED)

        return run_idempotently(request, record)

    @extend_schema(request=None, responses={200: serializers.OrderSerializer, **PROBLEMS})
    @action(detail=True, methods=["post"], url_path="verify-payment")
    def verify_payment(self, request, pk=None):
        order_actions.verify_payment(pk, by=request.actor)
        return Response(self._shown(pk))

    @extend_schema(
        request={"multipart/form-data": serializers.DispatchSerializer},
        responses={200: serializers.OrderSerializer, **PROBLEMS},
    )
    @action(
        detail=True,
        methods=["post"],
        url_path="dispatch",
        parser_classes=[parsers.MultiPartParser, parsers.FormParser, parsers.JSONParser],
    )
    def dispatch_order(self, request, pk=None):
        given = self._valid(serializers.DispatchSerializer)
        order_actions.dispatch_order(pk, by=request.actor, **given)
        return Response(self._shown(pk))

    @extend_schema(
        request=serializers.FulfillSerializer, responses={200: serializers.OrderSerializer, **PROBLEMS}
    )
    @action(detail=True, methods=["post"])
    def fulfill(self, request, pk=None):
        given = self._valid(serializers.FulfillSerializer)
        order_actions.fulfill_order(pk, by=request.actor, **given)
        return Response(self._shown(pk))

    @extend_schema(
        request=serializers.CancelSerializer, responses={200: serializers.OrderSerializer, **PROBLEMS}
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        given = self._valid(serializers.CancelSerializer)
        order_actions.cancel_order(pk, by=request.actor, **given)
        return Response(self._shown(pk))

    @extend_schema(responses={200: serializers.OrderShipmentSerializer(many=True), **PROBLEMS})
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    def shipments(self, request, pk=None):
        """The order's shipments, oldest first, each with its tracking events."""
        if not self.merchant_rows(Order).filter(pk=pk).exists():
            raise OrderNotFound()
        shipments = shipments_with_tracking(self.merchant_rows(Fulfillment)).filter(order_id=pk)
        return Response(serializers.OrderShipmentSerializer(shipments, many=True).data)

    def _valid_new_order(self) -> dict:
        """The new order's fields: plain JSON is checked by the lean check of NewOrderSerializer
        (the same answer, without DRF's per-value machinery); anything else by one
        NewOrderSerializer shared by every request (its fields are built once; checking keeps no
        state on it). A refusal takes the usual path, which words it exactly as ever."""
        given = _new_order_check()(self.request.data)
        if given is not None:
            return given
        try:
            return dict(_new_order_input().run_validation(self.request.data))
        except exceptions.ValidationError:
            return self._valid(serializers.NewOrderSerializer)

    def _valid(self, serializer_class) -> dict:
        serializer = serializer_class(data=self.request.data)
        serializer.is_valid(raise_exception=True)
        return dict(serializer.validated_data)

    def _shown(self, order_id) -> dict:
        try:
            order = order_for_page(self.request.actor.merchant, order_id)
        except (Order.DoesNotExist, ValueError, TypeError) as missing:
            raise OrderNotFound() from missing
        return _order_shown()(order)


def shipments_with_tracking(shipments):
    return shipments.order_by("created_at", "id").prefetch_related(
        Prefetch("tracking_events", queryset=TrackingEvent.objects.order_by("occurred_at", "id"))
    )


class ShipmentFilter(filters.FilterSet):
    order = IdFilter(field_name="order_id", min_value=1, max_value=MAX_ID)
    vendor = IdFilter(field_name="vendor_id", min_value=1, max_value=MAX_ID)
    status = filters.ChoiceFilter(choices=Fulfillment.ShippingStatus.choices)

    class Meta:
        model = Fulfillment
        fields = ["order", "vendor", "status"]


@extend_schema(responses={200: serializers.OrderShipmentSerializer, **PROBLEMS})
class ShipmentViewSet(MerchantScoped, viewsets.ReadOnlyModelViewSet):
    """Shipments of every order (by the merchant or a vendor), with their tracking events."""

    serializer_class = serializers.OrderShipmentSerializer
    pagination_class = NewestFirst
    filterset_class = ShipmentFilter

    def get_queryset(self):
        return shipments_with_tracking(self.merchant_rows(Fulfillment))

    def not_found(self) -> Exception:
        return ShipmentNotFound()

    def retrieve(self, request, pk=None):
        return Response(self._shown(pk))

    @extend_schema(
        request=serializers.MoveShipmentSerializer,
        responses={200: serializers.OrderShipmentSerializer, **PROBLEMS},
    )
    @action(detail=True, methods=["post"])
    def move(self, request, pk=None):
        """Move the shipment along its allowed statuses; the order follows (all on its way: dispatched)."""
        if not self.merchant_rows(Fulfillment).filter(pk=pk).exists():
            raise ShipmentNotFound()
        given = serializers.MoveShipmentSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        order_actions.move_order_shipment(pk, by=request.actor, **given.validated_data)
        return Response(self._shown(pk))

    def _shown(self, shipment_id) -> dict:
        try:
            shipment = self.get_queryset().get(pk=shipment_id)
        except (Fulfillment.DoesNotExist, ValueError, TypeError) as missing:
            raise ShipmentNotFound() from missing
        return serializers.OrderShipmentSerializer(shipment).data


# Creating POSTs of vendors and hostings, as an order's: a retry with the same key and body gets the first answer.
_IDEMPOTENT_CREATE = OpenApiParameter(
    IDEMPOTENCY_HEADER,
    location=OpenApiParameter.HEADER,
    required=False,
    description="Retry safely: the same key and body return the first answer.",
)


@extend_schema(responses={200: serializers.VendorSerializer, **PROBLEMS})
class VendorViewSet(
    MerchantScoped, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """The merchant's vendors (source agents, suppliers): read; a read-write key adds and changes them
    through the vendors app (vendors.actions), as the owner does on the Vendors page."""

    serializer_class = serializers.VendorSerializer
    pagination_class = NewestFirst

    def get_queryset(self):
        return self.merchant_rows(Vendor)

    def not_found(self) -> Exception:
        return VendorNotFound()

    @extend_schema(
        request=serializers.VendorInputSerializer,
        responses={201: serializers.VendorSerializer, **PROBLEMS},
        parameters=[_IDEMPOTENT_CREATE],
    )
    def create(self, request):
        def add():
            given = _valid(request, serializers.VendorInputSerializer)
            active = given.pop("is_active", True)
            vendor = vendor_actions.add_vendor(vendor_actions.VendorDetails(**given), by=request.actor)
            if not active:
                vendor = vendor_actions.set_vendor_active(vendor.pk, by=request.actor, active=False)
            return Response(serializers.VendorSerializer(vendor).data, status=status.HTTP_201_CREATED)

        with transaction.atomic():  # an inactive new vendor is added and switched off together
            return run_idempotently(request, add)

    @extend_schema(
        request=serializers.VendorInputSerializer(partial=True),
        responses={200: serializers.VendorSerializer, **PROBLEMS},
    )
    def partial_update(self, request, pk=None):
        """Change the fields given; the others stay as they are."""
        ensure_can(request.actor, Permission.MANAGE_VENDORS)  # also when nothing is given
        given = _valid(request, serializers.VendorInputSerializer, partial=True)
        with transaction.atomic():
            try:
                vendor = self.get_queryset().get(pk=pk)
            except Vendor.DoesNotExist as missing:
                raise VendorNotFound() from missing
            active = given.pop("is_active", None)
            if given:
                current = {
                    field: getattr(vendor, field)
                    for field in ("name", "contact_email", "contact_phone", "currency", "processing_days")
                }
                details = vendor_actions.VendorDetails(**(current | given))
                vendor = vendor_actions.update_vendor(vendor.pk, details, by=request.actor)
            if active is not None:
                vendor = vendor_actions.set_vendor_active(vendor.pk, by=request.actor, active=active)
        return Response(serializers.VendorSerializer(vendor).data)


class HostingFilter(filters.FilterSet):
    vendor = IdFilter(field_name="vendor_id", min_value=1, max_value=MAX_ID)
    variant = IdFilter(field_name="variant_id", min_value=1, max_value=MAX_ID)

    class Meta:
        model = Hosting
        fields = ["vendor", "variant"]


class ByIdNewestFirst(NewestFirst):
    ordering = ("-id",)


@extend_schema(responses={200: serializers.HostingSerializer, **PROBLEMS})
class HostingViewSet(MerchantScoped, viewsets.ReadOnlyModelViewSet):
    """Which vendor hosts which variant; its costs only for those who may see the cost figures.
    A read-write key hosts (or re-hosts) one variant or many through vendors.actions.host_variants."""

    serializer_class = serializers.HostingSerializer
    pagination_class = ByIdNewestFirst
    filterset_class = HostingFilter

    def get_queryset(self):
        return self.merchant_rows(Hosting)

    def get_serializer_context(self):
        actor = getattr(self.request, "actor", None)
        return super().get_serializer_context() | {
            "show_costs": actor is not None and can(actor, Permission.VIEW_REPORTS)
        }

    @extend_schema(
        request=serializers.HostingInputSerializer,
        responses={201: serializers.HostingSerializer, **PROBLEMS},
        parameters=[_IDEMPOTENT_CREATE],
    )
    def create(self, request):
        """Host one variant with a vendor (re-host it when another vendor hosts it)."""

        def host():
            given = _valid(request, serializers.HostingInputSerializer)
            [hosting] = self._host([given.pop("variant_id")], given)
            return Response(self.get_serializer(hosting).data, status=status.HTTP_201_CREATED)

        return run_idempotently(request, host)

    @extend_schema(
        request=serializers.HostingsInputSerializer,
        responses={201: serializers.HostingSerializer(many=True), **PROBLEMS},
        parameters=[_IDEMPOTENT_CREATE],
    )
    @action(detail=False, methods=["post"], url_path="many", pagination_class=None, filter_backends=[])
    def host_many(self, request):
        """Host many variants with one vendor at the same costs; all or none."""

        def host():
            given = _valid(request, serializers.HostingsInputSerializer)
            hostings = self._host(given.pop("variant_ids"), given)
            return Response(self.get_serializer(hostings, many=True).data, status=status.HTTP_201_CREATED)

        return run_idempotently(request, host)

    def _host(self, variant_ids: list[int], terms: dict) -> list[Hosting]:
        """Through the vendors app; then every variant's hosting as it now is (unchanged ones too)."""
        vendor_actions.host_variants(variant_ids, vendor_actions.HostingTerms(**terms), by=self.request.actor)
        return list(self.get_queryset().filter(variant_id__in=variant_ids).order_by("variant_id"))


def _valid(request, serializer_class, *, partial: bool = False) -> dict:
    serializer = serializer_class(data=request.data, partial=partial)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)
