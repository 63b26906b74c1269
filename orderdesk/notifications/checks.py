from django.conf import settings
from django.core.checks import Error, register
from django.core.exceptions import ImproperlyConfigured


@register()
def sms_backend_is_usable(app_configs, **kwargs):
    """SMS_BACKEND names a backend and its credentials are set (else every SMS would fail)."""
    from .sms import get_sms_backend

    try:
        get_sms_backend()
    except ImproperlyConfigured as problem:
        return [Error(str(problem), id="notifications.E001")]
    errors = []
    if settings.NOTIFICATION_SENDING_LEASE_SECONDS <= settings.NOTIFICATION_SEND_TIMEOUT_SECONDS * 2:
        errors.append(
            Error(
                "NOTIFICATION_SENDING_LEASE_SECONDS must be well above NOTIFICATION_SEND_TIMEOUT_SECONDS, "
                "or a slow send could be taken up and sent again.",
                id="notifications.E002",
            )
        )
    return errors
