from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from orderdesk.notifications.errors import TemporaryFailure

from . import OutgoingSms, post_to_provider, refused


class TwilioBackend:
    """Twilio's Messages API: form POST with basic auth; answers 201 with the message's sid.

    Twilio errors are JSON {"code", "message", "more_info", "status"}; 429 (code
    20429) and 5xx are retried, other 4xx codes are final. Twilio's Messages API
    takes no idempotency key, so only our claim on the row keeps a message single,
    and an answer that comes too late is not retried (the message may have gone out).
    """

    def __init__(self):
        self.account_sid = settings.TWILIO_ACCOUNT_SID
        self.auth_token = settings.TWILIO_AUTH_TOKEN
        if not self.account_sid or not self.auth_token:
            raise ImproperlyConfigured("SMS_BACKEND=twilio needs TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN.")
        self.url = (
            f"{settings.TWILIO_API_BASE.rstrip('/')}/2010-04-01/Accounts/{self.account_sid}/Messages.json"
        )

    def send(self, sms: OutgoingSms) -> str:
        response = post_to_provider(
            "Twilio",
            self.url,
            takes_idempotency_key=False,
            data={"To": sms.to, "From": sms.sender, "Body": sms.body},
            auth=(self.account_sid, self.auth_token),
        )
        try:
            answer = response.json()
        except ValueError:
            answer = {}
        if not isinstance(answer, dict):
            answer = {}
        if response.status_code in (200, 201) and answer.get("sid"):
            return str(answer["sid"])
        if response.ok:
            raise TemporaryFailure(f"Twilio answered {response.status_code} without a message sid.")
        code = answer.get("code")
        detail = f"error {code}: {answer.get('message', '')}" if code else response.text[:300]
        raise refused("Twilio", response, detail)
