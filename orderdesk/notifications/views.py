from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from orderdesk.errors import DomainError

from .actions import resend_notification
from .models import Notification
from .queries import notification_for_merchant, notifications_about
from .topics import RESEND_NOTIFICATIONS


@require_POST
@login_required
def resend(request, notification_id: int):
    """Resend a failed message of the signed-in merchant; anyone else's is a 404."""
    actor = request.actor
    if actor is None:
        return render(request, "accounts/no_merchant.html", status=403)
    try:
        actor.ensure_can(RESEND_NOTIFICATIONS)
    except DomainError as refusal:
        return render(request, "accounts/not_allowed.html", {"refusal": refusal}, status=403)
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
