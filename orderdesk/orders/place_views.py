"""Manual processing, the guide's five steps: on the Pending tab select orders, Action → Place;
when they hold products no vendor hosts, host some (vendor and costs) or choose Done to leave
them with the merchant; then the orders are placed. And moving units to another vendor from
the order page.

Each view parses input, calls one domain function (orders.allocation, vendors.actions), and
renders the pop-up (htmx) or redirects back to the list with what happened.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_POST

from orderdesk.accounts.access import permission_required
from orderdesk.accounts.permissions import Permission, can
from orderdesk.errors import DomainError
from orderdesk.fulfillment.models import Fulfillment
from orderdesk.vendors.actions import HostingTerms, host_variants
from orderdesk.vendors.queries import vendors_of

from . import allocation
from .views import _go, _next_url


def _chosen_orders(request) -> list[int]:
    ids = []
    for value in request.POST.getlist("orders"):
        try:
            number = int(value)
        except ValueError:
            continue
        if 0 < number < 2**63:
            ids.append(number)
    return sorted(set(ids))[: allocation.MAX_ORDERS_PER_PLACEMENT + 1]


def _back(request) -> str:
    return _next_url(request) or f"{reverse('orders:tracking')}?status=pending"


@require_POST
@permission_required(Permission.PLACE_WITH_VENDORS)
def place(request):
    """Step 3: Place the chosen orders. Unhosted products in them → step 4's list; else placed at once."""
    order_ids = _chosen_orders(request)
    if not order_ids:
        messages.warning(request, "Choose the orders to place first (tick them in the list).")
        return _go(request, _back(request))
    unhosted = allocation.unhosted_products(request.merchant, order_ids)
    if unhosted:
        return _unhosted_dialog(request, order_ids, unhosted)
    return _place(request, order_ids)


@require_POST
@permission_required(Permission.PLACE_WITH_VENDORS)
def place_host(request):
    """Step 4: host the chosen unhosted products with a vendor; the list shows what is left."""
    order_ids = _chosen_orders(request)
    variant_ids = [int(v) for v in request.POST.getlist("variants") if v.isdigit()]
    error = None
    try:
        if not variant_ids:
            raise allocation.AllocationRefused("Choose the products to host.", field="variants")
        host_variants(
            variant_ids,
            HostingTerms(
                vendor_id=request.POST.get("vendor") or 0,
                unit_cost=request.POST.get("unit_cost", ""),
                shipping_cost=request.POST.get("shipping_cost") or "0",
            ),
            by=request.actor,
        )
    except DomainError as refusal:
        error = refusal
    unhosted = allocation.unhosted_products(request.merchant, order_ids)
    if error is None and not unhosted:
        return _place(request, order_ids)
    return _unhosted_dialog(request, order_ids, unhosted, error=error, status=422 if error else 200)


@require_POST
@permission_required(Permission.PLACE_WITH_VENDORS)
def place_done(request):
    """Step 4's Done, and step 5: the unhosted products stay with the merchant; the orders are placed."""
    return _place(request, _chosen_orders(request))


def _place(request, order_ids):
    try:
        results = allocation.place_orders(order_ids, by=request.actor)
    except DomainError as refusal:
        messages.error(request, refusal.message)
        return _go(request, _back(request))
    placed = [result for result in results if result.shipments]
    if placed:
        per_vendor: dict[str, int] = {}
        for result in placed:
            for shipment in result.shipments:
                per_vendor[shipment.vendor_name] = per_vendor.get(shipment.vendor_name, 0) + shipment.units
        parts = ", ".join(
            f"{name} {units} item{'s' if units != 1 else ''}" for name, units in per_vendor.items()
        )
        messages.success(
            request, f"Placed {len(placed)} order{'s' if len(placed) != 1 else ''} with vendors: {parts}."
        )
    left = [result for result in results if not result.shipments]
    if left:
        messages.warning(
            request,
            "Not placed: " + "; ".join(f"{result.reference} ({result.skipped})" for result in left) + ".",
        )
    return _go(request, _back(request))


def _unhosted_dialog(request, order_ids, unhosted, *, error=None, status=200):
    context = {
        "order_ids": order_ids,
        "unhosted": unhosted,
        "vendors": vendors_of(request.merchant, active_only=True),
        "can_host": can(request.actor, Permission.MANAGE_VENDORS),
        "error": error,
        "posted": request.POST,
        "next_url": _back(request),
    }
    template = "orders/_unhosted_dialog.html" if request.htmx else "orders/unhosted.html"
    return render(request, template, context, status=status)


@permission_required(Permission.PLACE_WITH_VENDORS)
def move_units(request, shipment_id: int):
    """From the order page: move units of a line in a vendor's shipment to another vendor (or back to you)."""
    try:
        shipment = (
            Fulfillment.objects.for_merchant(request.merchant)
            .select_related("vendor", "order")
            .get(pk=shipment_id, vendor__isnull=False)
        )
    except (Fulfillment.DoesNotExist, ValueError) as missing:
        raise Http404("No such shipment.") from missing
    order_id = shipment.order_id
    if request.method != "POST":
        context = {
            "shipment": shipment,
            "entries": shipment.lines.select_related("order_line"),
            "vendors": vendors_of(request.merchant, active_only=True).exclude(pk=shipment.vendor_id),
        }
        template = "orders/_move_dialog.html" if request.htmx else "orders/move.html"
        return render(request, template, context)
    to_vendor = request.POST.get("to_vendor", "")
    try:
        allocation.move_to_vendor(
            shipment_id,
            by=request.actor,
            order_line_id=int(request.POST.get("line") or 0),
            quantity=int(request.POST.get("quantity") or 0),
            to_vendor_id=int(to_vendor) if to_vendor.isdigit() else None,
            unit_cost=request.POST.get("unit_cost", ""),
            shipping_cost=request.POST.get("shipping_cost", ""),
        )
    except (DomainError, ValueError) as refusal:
        messages.error(request, getattr(refusal, "message", "Enter a whole number of items to move."))
    else:
        messages.success(request, "The items are moved; the timeline says so.")
    return _go(request, reverse("orders:detail", args=[order_id]))
