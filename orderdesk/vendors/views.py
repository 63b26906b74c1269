"""The owner's Vendors page, the Hosting page and its CSV import, and the processing settings.

Each view parses input with a form, calls one domain function or query, and renders.
"""

from __future__ import annotations

import hashlib
from urllib.parse import urlencode

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from orderdesk.accounts.access import permission_required
from orderdesk.accounts.actions import update_processing_settings
from orderdesk.accounts.permissions import Permission
from orderdesk.errors import DomainError
from orderdesk.refusals import show_refusal

from . import actions, hosting_csv, queries
from .forms import HostForm, HostingImportForm, ProcessingSettingsForm, VendorForm
from .models import Vendor

_CSV_SESSION_KEY = "orderdesk_hosting_csv"


def _details(data) -> actions.VendorDetails:
    return actions.VendorDetails(
        name=data["name"],
        contact_email=data["contact_email"],
        contact_phone=data["contact_phone"],
        currency=data["currency"],
        processing_days=data["processing_days"],
    )


@permission_required(Permission.MANAGE_VENDORS)
def vendor_list(request):
    """The merchant's vendors, and a form to add one."""
    form = VendorForm(initial={"currency": request.merchant.currency, "processing_days": 3})
    if request.method == "POST":
        form = VendorForm(request.POST)
        if form.is_valid():
            try:
                vendor = actions.add_vendor(_details(form.cleaned_data), by=request.actor)
            except DomainError as refusal:
                show_refusal(form, refusal)
            else:
                messages.success(
                    request, f"{vendor.name} is added. Host products with it on the Hosting page."
                )
                return redirect("vendors:list")
    context = {"vendors": queries.vendors_of(request.merchant), "form": form}
    return render(request, "vendors/vendor_list.html", context, status=422 if form.errors else 200)


@permission_required(Permission.MANAGE_VENDORS)
def vendor_edit(request, vendor_id: int):
    vendor = _vendor_or_404(request, vendor_id)
    if request.method == "POST":
        form = VendorForm(request.POST)
        if form.is_valid():
            try:
                actions.update_vendor(vendor.pk, _details(form.cleaned_data), by=request.actor)
            except DomainError as refusal:
                show_refusal(form, refusal)
            else:
                messages.success(request, f"{form.cleaned_data['name']} is saved.")
                return redirect("vendors:list")
    else:
        form = VendorForm(
            initial={
                "name": vendor.name,
                "contact_email": vendor.contact_email,
                "contact_phone": vendor.contact_phone,
                "currency": vendor.currency,
                "processing_days": vendor.processing_days,
            }
        )
    return render(
        request,
        "vendors/vendor_edit.html",
        {"vendor": vendor, "form": form},
        status=422 if form.errors else 200,
    )


@require_POST
@permission_required(Permission.MANAGE_VENDORS)
def vendor_active(request, vendor_id: int):
    """Deactivate or activate a vendor."""
    vendor = _vendor_or_404(request, vendor_id)
    active = request.POST.get("active") == "1"
    actions.set_vendor_active(vendor.pk, by=request.actor, active=active)
    messages.success(
        request,
        f"{vendor.name} is active again."
        if active
        else f"{vendor.name} is inactive: new orders are not placed with it.",
    )
    return redirect("vendors:list")


@permission_required(Permission.MANAGE_VENDORS)
def hosting(request):
    """Products with their vendor and costs; filter the unhosted; host many at once."""
    show = request.GET.get("show", "")
    search = request.GET.get("q", "")[:100]
    vendor_id = _int(request.GET.get("vendor"))
    page = queries.hosting_page(
        request.merchant,
        unhosted_only=show == "unhosted",
        search=search,
        vendor_id=vendor_id,
        after=_int(request.GET.get("after")),
    )
    vendors = list(queries.vendors_of(request.merchant, active_only=True))
    form = HostForm(vendors=vendors)
    params = {k: v for k, v in {"show": show, "q": search, "vendor": vendor_id or ""}.items() if v}
    more_url = f"{reverse('vendors:hosting')}?{urlencode({**params, 'after': page.next_cursor})}"
    context = {
        "page": page,
        "vendors": vendors,
        "all_vendors": queries.vendors_of(request.merchant),
        "form": form,
        "show": show,
        "search": search,
        "vendor_id": vendor_id,
        "more_url": more_url if page.next_cursor else "",
        "back_url": request.get_full_path(),
    }
    if request.htmx and request.GET.get("after"):
        return render(request, "vendors/_hosting_rows.html", context)
    return render(request, "vendors/hosting.html", context)


@require_POST
@permission_required(Permission.MANAGE_VENDORS)
def host(request):
    """Host the chosen products with one vendor at these costs (re-hosting those hosted elsewhere)."""
    vendors = list(queries.vendors_of(request.merchant, active_only=True))
    posted = request.POST.getlist("variants")
    form = HostForm(request.POST, vendors=vendors, variant_ids=[_int(pk) for pk in posted if _int(pk)])
    back = _back(request, reverse("vendors:hosting"))
    if request.POST.get("unhost"):
        ids = [_int(pk) for pk in posted if _int(pk)]
        removed = actions.unhost_variants(ids, by=request.actor)
        messages.success(request, f"{removed} product{'s' if removed != 1 else ''} no longer hosted.")
        return redirect(back)
    if form.is_valid():
        data = form.cleaned_data
        try:
            written = actions.host_variants(
                data["variants"],
                actions.HostingTerms(
                    vendor_id=data["vendor"],
                    unit_cost=data["unit_cost"],
                    shipping_cost=data["shipping_cost"] or "0",
                    vendor_sku=data["vendor_sku"] or None,
                ),
                by=request.actor,
            )
        except DomainError as refusal:
            show_refusal(form, refusal)
        else:
            vendor = next(v for v in vendors if v.pk == data["vendor"])
            count = len(data["variants"])
            messages.success(
                request,
                f"{count} product{'s' if count != 1 else ''} hosted with {vendor.name}"
                f"{'' if written else ' (nothing changed)'}; new orders of them go there.",
            )
            return redirect(back)
    for error in [
        *form.non_field_errors(),
        *(
            f"{form.fields[name].label}: {e}"
            for name, errs in form.errors.items()
            if name != "__all__"
            for e in errs
        ),
    ]:
        messages.error(request, error)
    return redirect(back)


@permission_required(Permission.MANAGE_VENDORS)
def hosting_template(request):
    answer = HttpResponse(hosting_csv.template_csv(), content_type="text/csv; charset=utf-8")
    answer["Content-Disposition"] = 'attachment; filename="orderdesk-hosting-template.csv"'
    return answer


@permission_required(Permission.MANAGE_VENDORS)
def hosting_import(request):
    """Upload a hosting CSV: a preview of every row (errors beside their line) before anything is written."""
    form = HostingImportForm()
    if request.method == "POST":
        form = HostingImportForm(request.POST, request.FILES)
        if form.is_valid():
            data = form.cleaned_data["file"].read(hosting_csv.MAX_FILE_BYTES + 1)
            preview = hosting_csv.read_hosting_csv(request.merchant, data)
            if preview.file_error:
                form.add_error("file", preview.file_error)
            else:
                digest = hashlib.sha256(data).hexdigest()
                request.session[_CSV_SESSION_KEY] = {"text": data.decode("utf-8-sig"), "digest": digest}
                context = {"preview": preview, "digest": digest, "file_name": form.cleaned_data["file"].name}
                return render(request, "vendors/hosting_preview.html", context)
    return render(request, "vendors/hosting_import.html", {"form": form}, status=422 if form.errors else 200)


@require_POST
@permission_required(Permission.MANAGE_VENDORS)
def hosting_import_confirm(request):
    """Write the good rows of the file previewed last; the same file twice changes nothing."""
    kept = request.session.get(_CSV_SESSION_KEY) or {}
    if not kept or kept.get("digest") != request.POST.get("digest"):
        messages.error(request, "That preview has expired; upload the file again.")
        return redirect("vendors:hosting_import")
    preview = hosting_csv.import_hosting(kept["text"], by=request.actor)
    del request.session[_CSV_SESSION_KEY]
    written = len(preview.to_write)
    messages.success(
        request,
        f"Imported: {written} hosting{'s' if written != 1 else ''} written, "
        f"{len(preview.rows) - written} unchanged, {len(preview.errors)} row{'s' if len(preview.errors) != 1 else ''} skipped.",
    )
    return redirect("vendors:hosting")


@require_POST
@permission_required(Permission.MANAGE_VENDORS)
def processing_settings(request):
    """The Account page's auto-processing and fulfil-when-delivered switches."""
    form = ProcessingSettingsForm(request.POST)
    form.is_valid()
    update_processing_settings(
        by=request.actor,
        auto_processing=form.cleaned_data.get("auto_processing", False),
        fulfil_when_delivered=form.cleaned_data.get("fulfil_when_delivered", False),
    )
    messages.success(request, "Processing settings saved.")
    return redirect("accounts:account")


def _vendor_or_404(request, vendor_id) -> Vendor:
    try:
        return queries.vendor_of(request.merchant, vendor_id)
    except Vendor.DoesNotExist as missing:
        raise Http404("No such vendor.") from missing


def _int(value) -> int | None:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if 0 < number < 2**63 else None


def _back(request, default: str) -> str:
    from django.utils.http import url_has_allowed_host_and_scheme

    url = request.POST.get("next") or ""
    if url and url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return url
    return default
