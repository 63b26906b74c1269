"""After-sales pages: the four-step Confirm After Sales form, a case's page with its thread and
steps, and the list of cases (Order Tracking's After-sales view; a vendor's own cases).

Each view parses a form, calls one action or query, and renders; a refusal is shown beside
its field with what was typed kept (status 422).
"""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST
from django_htmx.http import HttpResponseClientRedirect

from orderdesk.accounts.access import permission_required
from orderdesk.accounts.permissions import Permission, can
from orderdesk.errors import DomainError
from orderdesk.notifications.queries import notifications_about
from orderdesk.orders import actions as order_actions
from orderdesk.orders.models import Order
from orderdesk.refusals import show_refusal

from . import actions, queries
from .forms import (
    STEP_OF_FIELD,
    STEPS,
    AcceptForm,
    CloseForm,
    MessageForm,
    NewCaseForm,
    RefundForm,
    RejectForm,
    ResendShippedForm,
    ResolveForm,
)
from .models import CASE_TRANSITIONS, REFUND_MODES, AfterSalesCase


@permission_required(Permission.VIEW_AFTER_SALES)
def case_list(request):
    """Open cases first (oldest first, with their age), then the rest; a vendor sees its own."""
    live_only = request.GET.get("show") == "open"
    cases = queries.after_sales_list(request.actor, live_only=live_only)
    context = {
        "cases": cases,
        "live_only": live_only,
        "is_vendor": request.actor.party.vendor_id is not None,
        "open_count": sum(1 for case in cases if case.is_live),
    }
    return render(request, "aftersales/list.html", context)


@permission_required(Permission.MANAGE_AFTER_SALES)
def new_case(request, order_id: int):
    """Confirm After Sales: type → mode → products → words and photos → Submit."""
    try:
        order = Order.objects.for_merchant(request.merchant).prefetch_related("lines").get(pk=order_id)
    except Order.DoesNotExist as missing:
        raise Http404("No such order.") from missing
    claimable = queries.claimable_lines(order)
    if request.method == "POST":
        form = NewCaseForm(request.POST, request.FILES, claimable=claimable)
        step = _posted_step(request)
        status = 200
        if "back" in request.POST:
            form.is_valid()
            form.errors.clear()
            step = max(1, step - 1)
        elif not form.check_step(step):
            step = min([_step_of(name) for name in form.errors] or [step])
            status = 422
        elif step < 4:
            step += 1
        else:
            try:
                cases = actions.open_cases(
                    order.pk,
                    by=request.actor,
                    type=form.cleaned_data["type"],
                    mode=form.cleaned_data["mode"],
                    lines=[actions.CaseLineInput(line_id, qty) for line_id, qty in form.quantities().items()],
                    text=form.cleaned_data["text"],
                    photos=form.cleaned_data["photos"],
                )
            except DomainError as refusal:
                show_refusal(form, refusal)
                step = STEP_OF_FIELD.get(refusal.field, 4)
                status = 422
            else:
                messages.success(request, _opened_message(cases))
                url = (
                    reverse("aftersales:case", args=[cases[0].pk])
                    if len(cases) == 1
                    else reverse("orders:detail", args=[order.pk])
                )
                return HttpResponseClientRedirect(url) if request.htmx else redirect(url)
    else:
        form = NewCaseForm(claimable=claimable)
        step, status = 1, 200
    context = {
        "order": order,
        "form": form,
        "step": step,
        "steps": STEPS,
        "claimable_units": sum(line.claimable for line in claimable),
    }
    template = "aftersales/_new_case_form.html" if request.htmx else "aftersales/new.html"
    return render(request, template, context, status=status)


@permission_required(Permission.VIEW_AFTER_SALES)
def case_page(request, case_id: int):
    """One case: what was claimed, the thread, and the steps this person may take now."""
    case = _case_or_404(request, case_id)
    return render(request, "aftersales/case.html", _case_context(request, case))


_STEP_FORMS = {
    "accept": AcceptForm,
    "reject": RejectForm,
    "refund": RefundForm,
    "resolve": ResolveForm,
    "close": CloseForm,
    "message": MessageForm,
    "resend_shipped": ResendShippedForm,
    "resend_delivered": ResolveForm,
}


@require_POST
@permission_required(Permission.VIEW_AFTER_SALES)
def case_step(request, case_id: int, step: str):
    """One step on a case (accept, reject, refund, resolve, close, a message, the resend's tracking)."""
    if step not in _STEP_FORMS:
        raise Http404("No such step.")
    case = _case_or_404(request, case_id)
    form = _STEP_FORMS[step](request.POST, request.FILES)
    if form.is_valid():
        try:
            done = _take_step(request, case, step, form.cleaned_data)
        except DomainError as refusal:
            show_refusal(form, refusal)
        else:
            messages.success(request, done)
            return redirect(reverse("aftersales:case", args=[case.pk]))
    case = _case_or_404(request, case_id)
    return render(request, "aftersales/case.html", _case_context(request, case, **{step: form}), status=422)


def _take_step(request, case: AfterSalesCase, step: str, data: dict) -> str:
    by = request.actor
    if step == "accept":
        actions.accept_case(
            case.pk,
            by=by,
            vendor_credit=data["vendor_credit"] or None,
            resend_cost=data["resend_cost"] or None,
        )
        return f"Case #{case.pk} is accepted."
    if step == "reject":
        actions.reject_case(case.pk, by=by, reason=data["reason"])
        return f"Case #{case.pk} is rejected."
    if step == "refund":
        actions.record_refund(case.pk, by=by, amount=data["amount"])
        return f"The refund on case #{case.pk} is recorded."
    if step == "resolve":
        actions.resolve_case(case.pk, by=by, tell_customer=data["tell_customer"])
        return f"Case #{case.pk} is resolved."
    if step == "close":
        actions.close_case(case.pk, by=by, note=data["note"])
        return f"Case #{case.pk} is closed."
    if step == "message":
        actions.add_case_message(case.pk, by=by, text=data["text"], photos=data["photos"])
        return "Your message is sent."
    if case.resend_shipment_id is None:
        raise Http404("This case has no resend.")
    _ensure_shipper(case, by)
    if step == "resend_shipped":
        order_actions.move_order_shipment(
            case.resend_shipment_id,
            by=by,
            to="in_transit",
            carrier=data["carrier"],
            delivery_reference=data["delivery_reference"],
            expected_on=data["expected_on"],
        )
        return "The resend is on its way."
    order_actions.move_order_shipment(case.resend_shipment_id, by=by, to="delivered")
    return "The resend is delivered."


def _ensure_shipper(case: AfterSalesCase, by) -> None:
    """The resend's tracking is entered by whoever ships it: its vendor, or the shop for its own."""
    if case.vendor_id != by.party.vendor_id:
        raise actions.CaseStatusRefused("The resend's tracking is entered by whoever ships it.")


def _case_or_404(request, case_id) -> AfterSalesCase:
    try:
        return queries.case_for_page(request.actor, case_id)
    except (AfterSalesCase.DoesNotExist, ValueError) as missing:
        raise Http404("No such after-sales case.") from missing


def _case_context(request, case: AfterSalesCase, **bound_forms) -> dict:
    actor = request.actor
    merchant_side = actor.party.vendor_id is None
    handler = case.vendor_id == actor.party.vendor_id
    moves = CASE_TRANSITIONS[case.status]
    can_manage = merchant_side and can(actor, Permission.MANAGE_AFTER_SALES)
    can_answer = handler and can(actor, Permission.ANSWER_AFTER_SALES) and "accepted" in moves
    resend = case.resend_shipment
    forms = {
        "accept": AcceptForm(initial={"vendor_credit": case.requested_credit}),
        "reject": RejectForm(),
        "refund": RefundForm(),
        "resolve": ResolveForm(),
        "close": CloseForm(),
        "message": MessageForm(),
        "resend_shipped": ResendShippedForm(),
    }
    forms.update(bound_forms)
    return {
        "case": case,
        "order": case.order,
        "merchant_side": merchant_side,
        "forms": forms,
        "can_answer": can_answer,
        "asks_credit": case.vendor_id is not None and case.mode in REFUND_MODES,
        "is_resend": case.mode == AfterSalesCase.Mode.RESEND,
        # A resend is put right by the new parcel; the other modes may end in money back.
        "can_refund": can_manage
        and case.status == "accepted"
        and case.customer_refund is None
        and case.mode != AfterSalesCase.Mode.RESEND,
        "can_resolve": can_manage and "resolved" in moves,
        "can_close": can_manage and "closed" in moves,
        "can_write": case.status not in ("resolved", "closed")
        and (can_manage or (handler and can(actor, Permission.ANSWER_AFTER_SALES))),
        "ships_resend": resend is not None and handler and resend.status not in ("in_transit", "delivered"),
        "delivers_resend": resend is not None and handler and resend.status == "in_transit",
        # Only the merchant's side sees what the customer paid and got back.
        "paid": actions.paid_by_customer(case.order) if merchant_side else None,
        # The emails and SMS this case sent, and where each stands (the merchant's side only).
        "case_messages": list(notifications_about(actor.merchant, "after_sales_case", case.pk))
        if merchant_side
        else [],
    }


def _step_of(field_name: str) -> int:
    """The step showing this field (a product quantity, or the products' own error: step 3)."""
    if field_name.startswith("qty_") or field_name == "__all__":
        return STEP_OF_FIELD["lines"]
    return STEP_OF_FIELD.get(field_name, 4)


def _posted_step(request) -> int:
    try:
        return min(4, max(1, int(request.POST.get("step", 1))))
    except ValueError:
        return 1


def _opened_message(cases: list[AfterSalesCase]) -> str:
    said = [
        f"case #{case.pk} with {case.vendor.name}" if case.vendor_id else f"case #{case.pk} with you"
        for case in cases
    ]
    return "Opened " + " and ".join(said) + "."
