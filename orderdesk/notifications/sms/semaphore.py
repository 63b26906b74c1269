from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from orderdesk.notifications.errors import PermanentFailure, TemporaryFailure

from . import OutgoingSms, post_to_provider, refused


class SemaphoreBackend:
    """Semaphore (Philippines): form POST to /api/v4/messages with apikey, number, message,
    sendername; answers a JSON list with one entry per recipient carrying its message_id.

    A refused request answers a JSON object of field → messages instead of the list.
    Semaphore takes no idempotency key: an answer that comes too late is not retried.
    """

    def __init__(self):
        self.api_key = settings.SEMAPHORE_API_KEY
        if not self.api_key:
            raise ImproperlyConfigured("SMS_BACKEND=semaphore needs SEMAPHORE_API_KEY.")
        self.url = f"{settings.SEMAPHORE_API_BASE.rstrip('/')}/api/v4/messages"

    def send(self, sms: OutgoingSms) -> str:
        response = post_to_provider(
            "Semaphore",
            self.url,
            takes_idempotency_key=False,
            data={
                "apikey": self.api_key,
                # Semaphore takes 639171234567 or 09171234567, not the leading "+".
                "number": sms.to.removeprefix("+"),
                "message": sms.body,
                "sendername": sms.sender,
            },
        )
        try:
            answer = response.json()
        except ValueError:
            answer = None
        if not response.ok:
            raise refused("Semaphore", response, _errors(answer) or response.text[:300])
        if isinstance(answer, list) and answer and isinstance(answer[0], dict) and "message_id" in answer[0]:
            if str(answer[0].get("status", "")).lower() in ("failed", "refunded"):
                raise PermanentFailure(f"Semaphore refused the message: status {answer[0]['status']}.")
            return str(answer[0]["message_id"])
        if isinstance(answer, dict | list) and answer:
            raise PermanentFailure(f"Semaphore refused the message: {_errors(answer)}")
        raise TemporaryFailure(f"Semaphore answered {response.status_code} without a message_id.")


def _errors(answer) -> str:
    """Semaphore's errors, {"number": ["The number format is invalid."]}, as one line."""
    if isinstance(answer, dict):
        parts = []
        for field, messages in answer.items():
            messages = messages if isinstance(messages, list) else [messages]
            parts.append(f"{field}: {' '.join(str(m) for m in messages)}")
        return "; ".join(parts)
    if isinstance(answer, list):
        return "; ".join(str(item) for item in answer)
    return ""
