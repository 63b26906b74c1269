"""The shipping-status list (Order Tracking's shipping view; a vendor's work list), a
shipment's page and its four actions: accept, in transit, exception, delivered.

The same pages serve the merchant and a vendor's people: the queries scope what each sees
(`fulfillment.queries.shipments_for`), and a vendor's people see no prices, totals or
margin — only what they need to ship. Every move goes through
`orders.actions.move_order_shipment`, so the order follows its shipments.
"""

import functools
from urllib.parse import urlencode

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import get_language
from django.views.decorators.http import require_POST

from orderdesk.accounts.access import permission_required
from orderdesk.accounts.permissions import Permission, can
from orderdesk.errors import DomainError
from orderdesk.fulfillment.counts import shipment_counts
from orderdesk.fulfillment.errors import ShipmentNotFound
from orderdesk.fulfillment.models import SHIPPING_TRANSITIONS, Fulfillment
from orderdesk.fulfillment.queries import (
    SHIPPING_TABS,
    attention_count,
    shipment_for_page,
    shipments_in_status,
)
from orderdesk.orders.actions import move_order_shipment
from orderdesk.refusals import show_refusal

from .actions import feed_url, set_carrier_feed_secret
from .forms import AcceptForm, CarrierFeedForm, DeliveredForm, ExceptionForm, InTransitForm, ShipmentListForm
from .models import CarrierFeed
from .rows import shipment_rows_html

Status = Fulfillment.ShippingStatus
# A shipment id no row has, replaced by each row's id in the detail URL reversed once per page.
_URL_MARK = 987654321987654321


@permission_required(Permission.VIEW_SHIPMENTS)
def shipment_list(request):
    """Shipments by shipping status, newest first, a page at a time (keyset): the merchant's
    all, or a vendor's own across its work for this merchant."""
    actor = request.actor
    choice = ShipmentListForm(request.GET).choice()
    page = shipments_in_status(actor, status=choice["status"], after=choice["after"])
    # One reverse() of each for the page, not one per row and tab.
    list_url, detail_url = reverse("shipments:list"), reverse("shipments:detail", args=[_URL_MARK])
    for row in page.shipments:
        row.url = detail_url.replace(str(_URL_MARK), str(row.pk))
    is_vendor = actor.party.vendor_id is not None
    context = {
        "page": page,
        "rows": shipment_rows_html(page.shipments, is_vendor=is_vendor),
        "choice": choice,
        "is_vendor": is_vendor,
        "more_url": _list_url(choice["status"], after=page.next_cursor, base=list_url),
    }
    if request.htmx and choice["after"]:
        return render(request, "shipments/_shipment_rows.html", context)
    counts = shipment_counts(actor.merchant, vendor_id=actor.party.vendor_id)
    context["tabs"] = [
        {
            "status": status,
            "label": status.label,
            "count": counts[status],
            "url": _list_url(status, base=list_url),
            "current": status == choice["status"],
        }
        for status in SHIPPING_TABS
    ]
    context["current_label"] = Status(choice["status"]).label
    context["attention"], context["attention_capped"] = attention_count(actor)
    if request.htmx:
        return render(request, "shipments/_list.html", context)
    return render(request, "shipments/list.html", context | _feed_context(request))


@require_POST
@permission_required(Permission.MANAGE_STORES)
def carrier_feed(request):
    """The owner sets the AfterShip webhook secret; the page then shows the address to paste."""
    form = CarrierFeedForm(request.POST)
    if form.is_valid():
        try:
            set_carrier_feed_secret(form.cleaned_data["secret"], by=request.actor)
        except DomainError as refusal:
            show_refusal(form, refusal)
        else:
            messages.success(
                request, "AfterShip webhook secret saved. Paste the address below into AfterShip."
            )
            return redirect(f"{reverse('shipments:list')}#carrier-feed")
    return render(request, "shipments/carrier_feed.html", _feed_context(request, form=form), status=422)


def _feed_context(request, *, form=None) -> dict:
    """The owner's card for the carrier-tracking feed (nobody else sees it)."""
    if not can(request.actor, Permission.MANAGE_STORES):
        return {}
    feed = CarrierFeed.objects.for_merchant(request.merchant).first()
    return {
        "feed_form": form or CarrierFeedForm(),
        # The blank field (every list page the owner opens) is the same HTML each time: written once.
        "feed_field": form["secret"].as_field_group()
        if form is not None
        else _blank_secret_field(get_language()),
        "feed_url": feed_url(feed) if feed else "",
    }


@functools.cache
def _blank_secret_field(language: str) -> str:
    """The carrier feed form's empty secret field as its field template writes it (no request's
    data in it: label, input, help), in this language."""
    return CarrierFeedForm()["secret"].as_field_group()


@permission_required(Permission.VIEW_SHIPMENTS)
def detail(request, shipment_id: int):
    """What a shipment's shipper needs: the customer's name, address and phone, the items, the
    tracking; and the moves it can make now. Outside the actor's sight: 404."""
    return _shipment_page(request, shipment_id)


@require_POST
@permission_required(Permission.UPDATE_SHIPMENTS)
def accept(request, shipment_id: int):
    """Pending → Processing: the vendor is preparing the parcel."""
    return _move(request, shipment_id, to=Status.PROCESSING, form_class=AcceptForm, done="is accepted")


@require_POST
@permission_required(Permission.UPDATE_SHIPMENTS)
def in_transit(request, shipment_id: int):
    """→ In transit, with the carrier, tracking number and tracking link."""
    return _move(
        request, shipment_id, to=Status.IN_TRANSIT, form_class=InTransitForm, done="is with the carrier"
    )


@require_POST
@permission_required(Permission.UPDATE_SHIPMENTS)
def exception(request, shipment_id: int):
    """→ Exception, with what went wrong (the merchant hears of it)."""
    return _move(request, shipment_id, to=Status.EXCEPTION, form_class=ExceptionForm, done="has an exception")


@require_POST
@permission_required(Permission.UPDATE_SHIPMENTS)
def delivered(request, shipment_id: int):
    """→ Delivered (the customer hears of it)."""
    return _move(request, shipment_id, to=Status.DELIVERED, form_class=DeliveredForm, done="is delivered")


_FORMS = {
    Status.PROCESSING: ("accept_form", AcceptForm),
    Status.IN_TRANSIT: ("in_transit_form", InTransitForm),
    Status.EXCEPTION: ("exception_form", ExceptionForm),
    Status.DELIVERED: ("delivered_form", DeliveredForm),
}


def _move(request, shipment_id, *, to: str, form_class, done: str):
    form = form_class(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            shipment = move_order_shipment(
                shipment_id,
                by=request.actor,
                to=to,
                carrier=data.get("carrier", ""),
                delivery_reference=data.get("delivery_reference", ""),
                tracking_url=data.get("tracking_url", ""),
                reason=data.get("reason", ""),
            )
        except ShipmentNotFound as missing:
            raise Http404(missing.message) from missing
        except DomainError as refusal:
            show_refusal(form, _in_this_pages_words(refusal))
        else:
            messages.success(request, f"Shipment {_label(shipment)} {done}.")
            return redirect("shipments:detail", shipment_id=shipment.pk)
    return _shipment_page(request, shipment_id, refused={to: form}, status=422)


# The shipment actions speak of the merchant's Dispatch form ("Delivery reference no."); this page
# labels the same field "Tracking number", as carriers and vendors call it, so its refusals do too.
_TRACKING_WORDS = (
    ("the courier's delivery reference number", "the tracking number"),
    ("A delivery reference", "A tracking number"),
    ("delivery reference", "tracking number"),
)


def _in_this_pages_words(refusal: DomainError) -> DomainError:
    if refusal.field != "delivery_reference":
        return refusal
    message = refusal.message
    for theirs, ours in _TRACKING_WORDS:
        message = message.replace(theirs, ours)
    return DomainError(message, field=refusal.field)


def _shipment_page(request, shipment_id, *, refused=None, status=200):
    actor = request.actor
    try:
        shipment = shipment_for_page(actor, shipment_id)
    except Fulfillment.DoesNotExist as missing:
        raise Http404("No such shipment.") from missing
    allowed = (
        SHIPPING_TRANSITIONS[shipment.status] if can(actor, Permission.UPDATE_SHIPMENTS) else frozenset()
    )
    moves = {str(move) for move in allowed}
    refused = refused or {}
    context = {
        "shipment": shipment,
        "order": shipment.order,
        "is_vendor": actor.party.vendor_id is not None,
        "can_open_order": can(actor, Permission.VIEW_ORDERS),
        # A merchant acting on a vendor's shipment is told so before pressing anything.
        "on_behalf_of": shipment.vendor if actor.party.vendor_id is None and shipment.vendor else None,
        "moves": moves,
        "refused": next(iter(refused), None),
        # A move no longer offered (someone moved the shipment meanwhile) says why above the page.
        "refused_elsewhere": [
            error for to, form in refused.items() if str(to) not in moves for error in form.non_field_errors()
        ],
    }
    for to, (name, form_class) in _FORMS.items():
        context[name] = refused.get(to) or form_class(
            initial={"carrier": shipment.carrier, "delivery_reference": shipment.delivery_reference}
            if to == Status.IN_TRANSIT
            else None
        )
    return render(request, "shipments/detail.html", context, status=status)


def _label(shipment: Fulfillment) -> str:
    return f"{shipment.order.reference}" if shipment.order_id else f"#{shipment.pk}"


def _list_url(status: str, *, after: str | None = None, base: str | None = None) -> str:
    params = {"status": status}
    if after:
        params["after"] = after
    return f"{base or reverse('shipments:list')}?{urlencode(params)}"
