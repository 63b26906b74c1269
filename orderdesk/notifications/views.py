from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from orderdesk.accounts.access import permission_required
from orderdesk.accounts.permissions import Permission
from orderdesk.errors import DomainError

from .actions import resend_notification
from .models import Notification
from .queries import notification_for_merchant, notifications_about


@require_POST
@permission_required(Permission.RESEND_NOTIFICATIONS)
def resend(request, notification_id: int):
    """Resend a failed message of the signed-in merchant; anyone else's is a 404."""
    actor = request.actor
    try:
        notification = notification_for_merchant(actor.merchant, notification_id)
    except Notification.DoesNotExist as missing:
        raise Http404("No such notification.") from missing
    try:
        resend_notification(notification.pk, by=actor)
    except DomainError as refusal:
        notice, level = refusal.message, messages.ERROR
    else:
        notice = f"Sending the {notification.get_channel_display()} to {notification.recipient} again."
        level = messages.SUCCESS
    if request.htmx and notification.about_type:
        return render(
            request,
            "notifications/_messages.html",
            {
                "about_type": notification.about_type,
                "messages_about": notifications_about(
                    actor.merchant, notification.about_type, notification.about_id
                ),
                "notice": notice,
            },
        )
    messages.add_message(request, level, notice)
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(back, {request.get_host()}, require_https=request.is_secure()):
        back = notification.page or "/"
    return redirect(back)
