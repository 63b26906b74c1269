"""After-sales in the REST API (/api/v1/after-sales-cases): thin views over aftersales.queries
and aftersales.actions, with the API's keys, problem+json errors and throttling (its DRF
settings). An API key acts for the merchant: it opens, answers (its own lines' cases),
refunds, resolves and closes, as a read-write key may (accounts.permissions).

Opening a case and writing in its thread take photos as Dispatch does: a multipart/form-data
body with `photos` files, checked by orderdesk.photos (the same formats and limits). In such a
body a case's `lines` is one part holding the JSON array.
"""

from __future__ import annotations

import json

from drf_spectacular.utils import OpenApiRequest, extend_schema
from rest_framework import parsers, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.pagination import CursorPagination
from rest_framework.response import Response

from orderdesk.accounts.permissions import Permission, ensure_can
from orderdesk.api.serializers import ProblemSerializer
from orderdesk.photos.actions import describe_limits

from . import actions, queries
from .errors import CaseNotFound
from .models import AfterSalesCase, CaseLine, CaseMessage

MAX_ID = 2**63 - 1
PROBLEMS = {
    (code, "application/problem+json"): ProblemSerializer for code in (400, 401, 403, 404, 409, 422, 429)
}


class CaseLineSerializer(serializers.ModelSerializer):
    title = serializers.CharField(source="order_line.title", read_only=True)

    class Meta:
        model = CaseLine
        fields = ["order_line_id", "title", "quantity"]


class CaseMessageSerializer(serializers.ModelSerializer):
    photos = serializers.IntegerField(source="photos.count", read_only=True)

    class Meta:
        model = CaseMessage
        fields = ["id", "author_name", "by_vendor", "text", "photos", "created_at"]


class CaseSerializer(serializers.ModelSerializer):
    order_reference = serializers.CharField(source="order.reference", read_only=True)
    vendor_name = serializers.CharField(source="vendor.name", read_only=True, allow_null=True, default=None)
    lines = CaseLineSerializer(many=True, read_only=True)
    messages = CaseMessageSerializer(many=True, read_only=True)

    class Meta:
        model = AfterSalesCase
        fields = [
            "id",
            "order_id",
            "order_reference",
            "vendor_id",
            "vendor_name",
            "type",
            "mode",
            "status",
            "text",
            "lines",
            "requested_credit",
            "vendor_credit",
            "customer_refund",
            "resend_cost",
            "resend_shipment_id",
            "reject_reason",
            "close_note",
            "customer_told",
            "created_at",
            "updated_at",
            "answered_at",
            "resolved_at",
            "closed_at",
            "messages",
        ]


class NewCaseLineSerializer(serializers.Serializer):
    order_line_id = serializers.IntegerField(min_value=1, max_value=MAX_ID)
    quantity = serializers.IntegerField(min_value=1, max_value=100_000)


class NewCaseSerializer(serializers.Serializer):
    order_id = serializers.IntegerField(min_value=1, max_value=MAX_ID)
    type = serializers.ChoiceField(choices=AfterSalesCase.Type.choices)
    mode = serializers.ChoiceField(choices=AfterSalesCase.Mode.choices)
    lines = NewCaseLineSerializer(many=True, allow_empty=False, max_length=200)
    text = serializers.CharField(max_length=actions.MAX_TEXT_LENGTH, allow_blank=True)


def photo_files():
    """The `photos` of a multipart body; orderdesk.photos checks each (formats, size, how many)."""
    return serializers.ListField(
        child=serializers.FileField(),
        required=False,
        default=list,
        max_length=20,
        help_text=describe_limits(),
    )


class NewCaseWithPhotosSerializer(NewCaseSerializer):
    photos = photo_files()


class AcceptSerializer(serializers.Serializer):
    vendor_credit = serializers.DecimalField(
        max_digits=12, decimal_places=2, min_value=0, required=False, allow_null=True
    )
    resend_cost = serializers.DecimalField(
        max_digits=12, decimal_places=2, min_value=0, required=False, allow_null=True
    )


class RejectSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=actions.MAX_REASON_LENGTH, allow_blank=True)


class RefundSerializer(serializers.Serializer):
    amount = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=0)


class ResolveSerializer(serializers.Serializer):
    tell_customer = serializers.BooleanField(default=False)


class CloseSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=actions.MAX_REASON_LENGTH, allow_blank=True, default="")


class NewMessageSerializer(serializers.Serializer):
    text = serializers.CharField(max_length=actions.MAX_TEXT_LENGTH, allow_blank=True)


class NewMessageWithPhotosSerializer(NewMessageSerializer):
    text = serializers.CharField(
        max_length=actions.MAX_TEXT_LENGTH, allow_blank=True, required=False, default=""
    )
    photos = photo_files()


# The bodies that may carry photos: JSON as before, or multipart/form-data with files.
WITH_PHOTOS = [parsers.JSONParser, parsers.MultiPartParser]


class NewestFirst(CursorPagination):
    ordering = ("-created_at", "-id")
    page_size = 50
    page_size_query_param = "limit"
    max_page_size = 200


class AfterSalesCaseViewSet(viewsets.GenericViewSet):
    """After-sales cases of the key's merchant: list, one, open, and each step."""

    serializer_class = CaseSerializer
    pagination_class = NewestFirst

    def get_parsers(self):
        # Opening a case takes photos; its route is the list's, so the method picks the parsers.
        method = getattr(getattr(self, "request", None), "method", "") or ""
        if "create" in (getattr(self, "action", None), getattr(self, "action_map", {}).get(method.lower())):
            return [parser() for parser in WITH_PHOTOS]
        return super().get_parsers()

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        pk = kwargs.get("pk")
        if pk is not None and not (pk.isdigit() and 0 < int(pk) <= MAX_ID):
            raise CaseNotFound()
        # A case the key cannot see is not found, whatever the body says (404 before 400).
        if pk is not None and not queries.cases_seen_by(request.actor).filter(pk=pk).exists():
            raise CaseNotFound()

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return AfterSalesCase.objects.none()
        ensure_can(self.request.actor, Permission.VIEW_AFTER_SALES)
        return (
            queries.cases_seen_by(self.request.actor)
            .prefetch_related("lines__order_line", "messages__photos")
            .select_related("order", "vendor")
        )

    @extend_schema(responses={200: CaseSerializer(many=True), **PROBLEMS})
    def list(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(CaseSerializer(page, many=True).data)

    @extend_schema(responses={200: CaseSerializer, **PROBLEMS})
    def retrieve(self, request, pk=None):
        return Response(self._shown(pk))

    @extend_schema(
        request={
            "application/json": NewCaseSerializer,
            "multipart/form-data": OpenApiRequest(
                NewCaseWithPhotosSerializer, encoding={"lines": {"contentType": "application/json"}}
            ),
        },
        responses={201: CaseSerializer(many=True), **PROBLEMS},
    )
    def create(self, request):
        form = _is_form(request.data)
        given = self._valid(
            NewCaseWithPhotosSerializer if form else NewCaseSerializer, _with_json_lines(request.data)
        )
        cases = actions.open_cases(
            given["order_id"],
            by=request.actor,
            type=given["type"],
            mode=given["mode"],
            lines=[actions.CaseLineInput(line["order_line_id"], line["quantity"]) for line in given["lines"]],
            text=given["text"],
            photos=given.get("photos", ()),
        )
        return Response([self._shown(case.pk) for case in cases], status=status.HTTP_201_CREATED)

    @extend_schema(request=AcceptSerializer, responses={200: CaseSerializer, **PROBLEMS})
    @action(detail=True, methods=["post"])
    def accept(self, request, pk=None):
        given = self._valid(AcceptSerializer)
        actions.accept_case(
            pk,
            by=request.actor,
            vendor_credit=given.get("vendor_credit"),
            resend_cost=given.get("resend_cost"),
        )
        return Response(self._shown(pk))

    @extend_schema(request=RejectSerializer, responses={200: CaseSerializer, **PROBLEMS})
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        actions.reject_case(pk, by=request.actor, **self._valid(RejectSerializer))
        return Response(self._shown(pk))

    @extend_schema(request=RefundSerializer, responses={200: CaseSerializer, **PROBLEMS})
    @action(detail=True, methods=["post"])
    def refund(self, request, pk=None):
        actions.record_refund(pk, by=request.actor, **self._valid(RefundSerializer))
        return Response(self._shown(pk))

    @extend_schema(request=ResolveSerializer, responses={200: CaseSerializer, **PROBLEMS})
    @action(detail=True, methods=["post"])
    def resolve(self, request, pk=None):
        actions.resolve_case(pk, by=request.actor, **self._valid(ResolveSerializer))
        return Response(self._shown(pk))

    @extend_schema(request=CloseSerializer, responses={200: CaseSerializer, **PROBLEMS})
    @action(detail=True, methods=["post"])
    def close(self, request, pk=None):
        actions.close_case(pk, by=request.actor, **self._valid(CloseSerializer))
        return Response(self._shown(pk))

    @extend_schema(
        request={
            "application/json": NewMessageSerializer,
            "multipart/form-data": NewMessageWithPhotosSerializer,
        },
        responses={201: CaseSerializer, **PROBLEMS},
    )
    @action(detail=True, methods=["post"], parser_classes=WITH_PHOTOS)
    def messages(self, request, pk=None):
        given = self._valid(
            NewMessageWithPhotosSerializer if _is_form(request.data) else NewMessageSerializer
        )
        actions.add_case_message(pk, by=request.actor, **given)
        return Response(self._shown(pk), status=status.HTTP_201_CREATED)

    def _valid(self, serializer_class, data=None) -> dict:
        serializer = serializer_class(data=self.request.data if data is None else data)
        serializer.is_valid(raise_exception=True)
        return dict(serializer.validated_data)

    def _shown(self, case_id) -> dict:
        try:
            return CaseSerializer(self.get_queryset().get(pk=case_id)).data
        except (AfterSalesCase.DoesNotExist, ValueError, TypeError) as missing:
            raise CaseNotFound() from missing


def _is_form(data) -> bool:
    """A multipart body reads as a QueryDict (with its files); a JSON body as plain data."""
    return hasattr(data, "getlist")


def _with_json_lines(data):
    """A multipart body's fields with its `lines` part read as JSON; a JSON body as it came."""
    if not _is_form(data):
        return data
    given = {name: data[name] for name in ("order_id", "type", "mode", "text") if name in data}
    given["photos"] = data.getlist("photos")
    if "lines" in data:
        try:
            given["lines"] = json.loads(data["lines"])
        except (TypeError, ValueError) as unreadable:
            raise serializers.ValidationError(
                {"lines": ['Give the lines as one JSON part: [{"order_line_id": 1, "quantity": 1}].']}
            ) from unreadable
    return given
