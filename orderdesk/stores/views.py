"""The owner's store pages: connect, look at one store (webhook URL, state, sync log), act on it."""

import datetime
import hashlib

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from orderdesk.accounts.access import permission_required
from orderdesk.accounts.permissions import Permission
from orderdesk.errors import DomainError, NotFound
from orderdesk.refusals import show_refusal

from . import actions, csv_import
from .errors import StoreNotFound
from .forms import CsvUploadForm, StoreForm
from .models import Store, SyncRun
from .queries import sync_log_of, webhook_url
from .sync import start_sync


@permission_required(Permission.MANAGE_STORES)
def add_store(request):
    form = StoreForm(request.POST or None, initial={"channel": request.GET.get("channel", "shopify")})
    if request.method == "POST" and form.is_valid():
        try:
            store = actions.add_store(actions.StoreDetails(**form.cleaned_data), by=request.actor)
        except DomainError as refusal:
            show_refusal(form, refusal)
        else:
            if store.is_connected_store:
                _check_then_backfill(request, store)
            else:
                messages.success(request, f"{store.name} is added. Upload its orders below.")
            return redirect("stores:detail", store_id=store.pk)
    return render(request, "stores/add.html", {"form": form}, status=422 if form.errors else 200)


def _store(request, store_id) -> Store:
    try:
        return Store.objects.for_merchant(request.merchant).filter(removed_at=None).get(pk=store_id)
    except Store.DoesNotExist as missing:
        raise Http404("No such store") from missing


def _check_then_backfill(request, store: Store) -> None:
    """A new connection is checked at once and, when the store answers, its backfill starts."""
    try:
        said = actions.check_store_connection(store.pk, by=request.actor)
    except DomainError as refusal:
        messages.error(request, f"{store.name} is saved, but the check failed: {refusal.message}")
        return
    messages.success(
        request,
        f"{said} Taking in paid, unfulfilled orders of the last {settings.STORE_BACKFILL_DAYS} days now.",
    )
    start_sync(store.pk, kind=SyncRun.Kind.BACKFILL)


@permission_required(Permission.MANAGE_STORES)
def detail(request, store_id: int):
    store = _store(request, store_id)
    sync_log = sync_log_of(store)
    log = {"store": store, "sync_log": sync_log, "sync_asked": _sync_asked(request, store, sync_log)}
    if request.htmx:
        # The sync log polls itself while a run is going (or about to start).
        return render(request, "stores/_sync_log.html", log)
    return render(
        request,
        "stores/detail.html",
        {**log, "webhook_url": webhook_url(store), "csv_form": CsvUploadForm()},
    )


# How long the page waits for a sync it asked for to show up in the log.
_SYNC_START_SECONDS = 60


def _sync_asked(request, store: Store, sync_log) -> bool:
    """A sync asked for from this session that has not started yet (the background job is on
    its way): the log keeps polling until it shows."""
    asked = request.session.get(f"stores-sync-asked-{store.pk}")
    if not asked:
        return False
    asked_at = datetime.datetime.fromisoformat(asked)
    latest = sync_log[0] if sync_log else None
    if (latest and latest.started_at >= asked_at) or timezone.now() - asked_at > datetime.timedelta(
        seconds=_SYNC_START_SECONDS
    ):
        del request.session[f"stores-sync-asked-{store.pk}"]
        return False
    return True


def _act(request, store_id: int, act, done: str):
    try:
        said = act(store_id, by=request.actor)
    except StoreNotFound as missing:
        raise Http404(missing.message) from missing
    except DomainError as refusal:
        messages.error(request, refusal.message)
    else:
        messages.success(request, said if isinstance(said, str) else done)
    return redirect("stores:detail", store_id=store_id)


@require_POST
@permission_required(Permission.MANAGE_STORES)
def test_connection(request, store_id: int):
    return _act(request, store_id, actions.check_store_connection, "")


@require_POST
@permission_required(Permission.MANAGE_STORES)
def pause(request, store_id: int):
    return _act(request, store_id, actions.pause_store, "Syncing is paused.")


@require_POST
@permission_required(Permission.MANAGE_STORES)
def resume(request, store_id: int):
    return _act(request, store_id, actions.resume_store, "Syncing is on again.")


@require_POST
@permission_required(Permission.MANAGE_STORES)
def remove(request, store_id: int):
    try:
        store = actions.remove_store(store_id, by=request.actor)
    except StoreNotFound as missing:
        raise Http404(missing.message) from missing
    messages.success(request, f"The store is removed; its orders stay. ({store.name})")
    return redirect("accounts:account")


@require_POST
@permission_required(Permission.MANAGE_STORES)
def sync_now(request, store_id: int):
    store = _store(request, store_id)
    if not store.is_active:
        messages.error(request, f"{store.name} is paused; resume it to sync.")
    else:
        start_sync(store.pk, kind=_run_kind(request))
        request.session[f"stores-sync-asked-{store.pk}"] = timezone.now().isoformat()
        messages.success(request, "Sync started; the log below shows its progress.")
    return redirect("stores:detail", store_id=store.pk)


def _run_kind(request) -> str:
    return SyncRun.Kind.BACKFILL if request.POST.get("kind") == SyncRun.Kind.BACKFILL else SyncRun.Kind.POLL


_CSV_SESSION_KEY = "stores_csv_upload"


@permission_required(Permission.MANAGE_STORES)
def csv_template(request):
    """The CSV template with its columns and one example row."""
    answer = HttpResponse(csv_import.template_csv(), content_type="text/csv; charset=utf-8")
    answer["Content-Disposition"] = 'attachment; filename="orderdesk-orders-template.csv"'
    return answer


@require_POST
@permission_required(Permission.MANAGE_STORES)
def csv_preview(request, store_id: int):
    """Read an uploaded file and show what it would import, row errors included; writes nothing."""
    store = _store(request, store_id)
    form = CsvUploadForm(request.POST, request.FILES)
    preview = None
    if form.is_valid():
        data = form.cleaned_data["file"].read(csv_import.MAX_FILE_BYTES + 1)
        try:
            preview = csv_import.read_csv(data, store=store)
        except DomainError as refusal:
            show_refusal(form, refusal)
        else:
            # Kept until the owner confirms; the confirm names the file by its digest.
            digest = hashlib.sha256(data).hexdigest()
            request.session[_CSV_SESSION_KEY] = {
                "store": store.pk,
                "text": data.decode("utf-8-sig"),
                "digest": digest,
            }
            return render(
                request,
                "stores/csv_preview.html",
                {
                    "store": store,
                    "preview": preview,
                    "digest": digest,
                    "file_name": form.cleaned_data["file"].name,
                },
            )
    return render(
        request,
        "stores/detail.html",
        {"store": store, "webhook_url": webhook_url(store), "sync_log": sync_log_of(store), "csv_form": form},
        status=422,
    )


@require_POST
@permission_required(Permission.MANAGE_STORES)
def csv_confirm(request, store_id: int):
    """Import the file previewed last; the same file twice changes nothing."""
    store = _store(request, store_id)
    kept = request.session.get(_CSV_SESSION_KEY) or {}
    if kept.get("store") != store.pk or kept.get("digest") != request.POST.get("digest"):
        messages.error(request, "That preview has expired; upload the file again.")
        return redirect("stores:detail", store_id=store.pk)
    run = csv_import.import_csv(kept["text"].encode(), store=store)
    del request.session[_CSV_SESSION_KEY]
    messages.success(
        request,
        f"Imported: {run.new_count} new, {run.updated_count} updated, {run.unchanged_count} unchanged, "
        f"{run.failed_count} failed.",
    )
    return redirect("stores:detail", store_id=store.pk)


@require_POST
@permission_required(Permission.RECORD_ORDERS)
def dismiss_store_change(request, order_id: int):
    """The merchant puts aside a store's change flagged on an order; back to the order's page."""
    try:
        order = actions.dismiss_store_change(order_id, by=request.actor)
    except NotFound as missing:
        raise Http404(missing.message) from missing
    except DomainError as refusal:
        messages.error(request, refusal.message)
    else:
        messages.success(request, f"The store's change to order {order.reference} is dismissed.")
    return redirect(reverse("orders:detail", args=[order_id]))
