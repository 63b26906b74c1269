"""The Reports page, its charts' data, and exports (streamed when small, made in the background when large)."""

from __future__ import annotations

import tempfile

from django.conf import settings
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_http_methods

from orderdesk.accounts.access import permission_required
from orderdesk.accounts.permissions import Permission

from . import actions
from .charts import charts_of
from .exports import SHEETS, csv_chunks, file_name, orders_for, write_xlsx
from .figures import build_report
from .forms import ExportForm, ReportForm
from .models import Export, RollupState


@permission_required(Permission.VIEW_REPORTS)
def report(request):
    """Sales, orders, shipping, fulfillment time, cost and the vendor scorecard of one period."""
    merchant = request.merchant
    form = ReportForm(request.GET or None, merchant=merchant)
    period = form.period()
    actions.refresh_rollups_if_stale(merchant)
    figures = build_report(merchant, period)
    state = RollupState.objects.filter(merchant=merchant).first()
    export_query = {
        "starts_on": period.starts_on.isoformat(),
        "ends_on": period.ends_on.isoformat(),
        **({"store": period.store_id} if period.store_id else {}),
    }
    context = {
        "form": form,
        "period": period,
        "report": figures,
        "charts": charts_of(figures),
        "counted_at": state.refreshed_at if state else None,
        "export_links": [
            {
                "label": Export.Kind(kind).label,
                "csv": _export_url(kind, "csv", export_query),
                "xlsx": _export_url(kind, "xlsx", export_query),
            }
            for kind in SHEETS
        ],
    }
    return render(request, "reports/report.html", context)


def _export_url(kind: str, file_format: str, query: dict) -> str:
    return f"{reverse('reports:export')}?{urlencode({'kind': kind, 'file_format': file_format, **query})}"


@permission_required(Permission.VIEW_REPORTS)
@require_http_methods(["GET", "POST"])
def export(request):
    """An export of the orders a filter picks: streamed at once when small, else made in the background.

    GET with a kind and format answers with the file (or, when too large, the form offering the
    background export); POST asks for the background export.
    """
    merchant = request.merchant
    data = request.POST if request.method == "POST" else request.GET
    form = ExportForm(data if "kind" in data else None, merchant=merchant)
    if not form.is_bound or not form.is_valid():
        return _exports_page(request, form, status=422 if form.is_bound else 200)
    criteria = form.criteria()
    kind, file_format = form.cleaned_data["kind"], form.cleaned_data["file_format"]
    if request.method == "POST":
        actions.ask_for_export(by=request.actor, kind=kind, file_format=file_format, criteria=criteria)
        return redirect("reports:exports")
    sheet = SHEETS[kind]
    orders = orders_for(merchant, criteria)
    limit = settings.REPORTS_EXPORT_STREAM_MAX_ROWS
    if sheet.count(merchant, orders[: limit + 1] if kind == Export.Kind.ORDERS else orders) > limit:
        return _exports_page(request, form, too_large=True)
    name = file_name(merchant, kind, file_format, criteria)
    if file_format == Export.Format.CSV:
        response = StreamingHttpResponse(
            csv_chunks(sheet, merchant, orders), content_type="text/csv; charset=utf-8"
        )
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response
    # FileResponse closes (and so deletes) the file once it is sent.
    scratch = tempfile.TemporaryFile()  # noqa: SIM115
    write_xlsx(sheet, merchant, orders, scratch)
    scratch.seek(0)
    return FileResponse(
        scratch,
        as_attachment=True,
        filename=name,
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )


@permission_required(Permission.VIEW_REPORTS)
def exports(request):
    """The export form and the merchant's recent exports (the list refreshes itself while one runs)."""
    form = ExportForm(None, merchant=request.merchant, initial=_initial_from(request.GET))
    return _exports_page(request, form)


def _initial_from(query) -> dict:
    """An Order Tracking filter (status, q) or a report's period carried over in the address."""
    keys = ("kind", "file_format", "starts_on", "ends_on", "store", "status", "q")
    return {key: query[key] for key in keys if query.get(key)}


def _exports_page(request, form, *, status: int = 200, too_large: bool = False):
    recent = list(Export.objects.for_merchant(request.merchant)[:20])
    context = {
        "form": form,
        "exports": recent,
        "too_large": too_large,
        "stream_limit": settings.REPORTS_EXPORT_STREAM_MAX_ROWS,
        "running": any(item.status in (Export.Status.QUEUED, Export.Status.RUNNING) for item in recent),
    }
    if request.htmx and request.htmx.target == "export-list":
        return render(request, "reports/_export_list.html", context)
    return render(request, "reports/exports.html", context, status=status)


@permission_required(Permission.VIEW_REPORTS)
def export_download(request, export_id: int):
    """A finished export's file; another merchant's export (or one not ready) is a 404."""
    try:
        made = Export.objects.for_merchant(request.merchant).get(pk=export_id, status=Export.Status.DONE)
    except Export.DoesNotExist as missing:
        raise Http404("No such export.") from missing
    return FileResponse(
        default_storage.open(made.file_path, "rb"), as_attachment=True, filename=made.file_name
    )
