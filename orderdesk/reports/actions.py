"""The write side of reports: asking for an export, making it in the background, refreshing roll-ups."""

from __future__ import annotations

import logging
import secrets
import tempfile

from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from orderdesk.accounts.permissions import Permission, ensure_can

from . import background
from .exports import SHEETS, file_name, orders_for, write_csv, write_xlsx
from .messages import queue_export_ready
from .models import Export, RollupState
from .rollups import refresh_order_figures

logger = logging.getLogger(__name__)


def ask_for_export(*, by, kind: str, file_format: str, criteria: dict) -> Export:
    """Queue a background export of `kind` for the orders `criteria` picks; made after commit,
    with an email to the person asking when it is ready. Raises NotAllowed."""
    ensure_can(by, Permission.VIEW_REPORTS)
    merchant = by.merchant
    with transaction.atomic():
        export = Export.objects.create(
            merchant=merchant,
            kind=kind,
            file_format=file_format,
            criteria=criteria,
            file_name=file_name(merchant, kind, file_format, criteria),
            requested_by=by.user,
            requested_email=by.user.email if by.user else "",
        )
        background.after_commit(_task(), export.pk)
    return export


def _task():
    from .tasks import make_export_task

    return make_export_task


def make_export(export_id: int) -> Export:
    """Write the export's file, noting progress as it goes; then mark it ready and queue the email.
    A failure marks it failed with the reason (the person sees it on the Exports page)."""
    with transaction.atomic():
        export = Export.objects.select_for_update().select_related("merchant").get(pk=export_id)
        if export.status != Export.Status.QUEUED:
            return export  # taken already (a retried task)
        export.status = Export.Status.RUNNING
        export.save(update_fields=["status"])
    merchant = export.merchant
    sheet = SHEETS[export.kind]
    orders = orders_for(merchant, export.criteria)
    try:
        Export.objects.filter(pk=export.pk).update(row_count=sheet.count(merchant, orders))

        def progress(rows: int) -> None:
            Export.objects.filter(pk=export.pk).update(rows_written=rows)

        write = write_xlsx if export.file_format == Export.Format.XLSX else write_csv
        with tempfile.TemporaryFile() as scratch:
            written = write(sheet, merchant, orders, scratch, progress=progress)
            scratch.seek(0)
            # A generated name: the person's words never become a path.
            path = default_storage.save(
                f"exports/{merchant.pk}/{secrets.token_urlsafe(16)}.{export.file_format}", File(scratch)
            )
    except Exception as failure:
        logger.exception("Export %s failed.", export.pk)
        Export.objects.filter(pk=export.pk).update(
            status=Export.Status.FAILED, error=str(failure)[:500], finished_at=timezone.now()
        )
        export.refresh_from_db()
        return export
    with transaction.atomic():
        export = Export.objects.select_for_update().get(pk=export.pk)
        export.status = Export.Status.DONE
        export.rows_written = written
        export.row_count = written
        export.file_path = path
        export.finished_at = timezone.now()
        export.save()
        queue_export_ready(export)
    return export


def refresh_rollups_if_stale(merchant) -> bool:
    """Start a background refresh of the merchant's roll-ups when the last is older than
    REPORTS_ROLLUP_MAX_AGE_SECONDS (the first ever runs at once); whether one was started."""
    state = RollupState.objects.filter(merchant=merchant).only("refreshed_at").first()
    if state is None:
        # The very first report: built now, so it never shows a shop with no orders.
        refresh_order_figures(merchant)
        return False
    max_age = settings.REPORTS_ROLLUP_MAX_AGE_SECONDS
    if state is not None and (timezone.now() - state.refreshed_at).total_seconds() < max_age:
        return False
    from .tasks import refresh_rollups_task

    background.after_commit(refresh_rollups_task, merchant.pk)
    return True
