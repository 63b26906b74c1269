"""The email that says an export is ready, sent through the outbox."""

from __future__ import annotations

from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse

from orderdesk.notifications.actions import OutgoingMessage, queue_messages
from orderdesk.notifications.errors import PermanentFailure
from orderdesk.notifications.models import Notification
from orderdesk.notifications.topics import Composed, register_topic

EXPORT_READY = "reports.export_ready"


def register() -> None:
    register_topic(EXPORT_READY, label="Export ready", compose=compose_export_ready, page=_reports_page)


def queue_export_ready(export) -> list[Notification]:
    """Queue the email telling whoever asked for the export that it can be downloaded."""
    if not export.requested_email:
        return []
    return queue_messages(
        [
            OutgoingMessage(
                topic=EXPORT_READY,
                channel=Notification.Channel.EMAIL,
                audience=Notification.Audience.MERCHANT,
                recipient=export.requested_email,
                idempotency_key=f"{EXPORT_READY}:{export.pk}",
                merchant_id=export.merchant_id,
                about_type="export",
                about_id=str(export.pk),
                payload={"export_id": export.pk},
            )
        ]
    )


def compose_export_ready(notification: Notification) -> Composed:
    from .models import Export

    try:
        export = Export.objects.select_related("merchant").get(pk=notification.payload["export_id"])
    except Export.DoesNotExist as gone:
        raise PermanentFailure("The export no longer exists.") from gone
    context = {
        "export": export,
        "merchant": export.merchant,
        "link": f"{settings.SITE_URL}{reverse('reports:export_download', args=[export.pk])}",
    }
    return Composed(
        subject=render_to_string("reports/email/export_ready_subject.txt", context).strip(),
        body=render_to_string("reports/email/export_ready_message.txt", context),
    )


def _reports_page(notification: Notification) -> str:
    return reverse("reports:exports")
