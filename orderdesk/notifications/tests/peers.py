"""Real peers on loopback for delivery tests: an SMTP server and SMS provider doubles.

Each provider double is an HTTP server in a thread that checks a request the way
the provider does (path, auth, fields, signature) and answers in the provider's
format. `fail_next(...)` and `stall_next(...)` script faults for the next requests.
"""

from __future__ import annotations

import base64
import email
import email.policy
import hashlib
import hmac
import json
import socket
import threading
import time
import uuid

from aiosmtpd.controller import Controller

from orderdesk.testing.http_double import HttpDouble


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class UnansweredPort:
    """A port on 127.0.0.1 whose listen queue is full, so a new connection times out
    before anything is sent: the loopback stand-in for a provider that cannot be reached."""

    def __init__(self):
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(0)
        self.port = self.listener.getsockname()[1]
        self._fillers: list[socket.socket] = []

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> UnansweredPort:
        # Never accepted: these take the queue's places (Linux queues backlog + 1).
        for _ in range(3):
            filler = socket.socket()
            filler.setblocking(False)
            filler.connect_ex(("127.0.0.1", self.port))
            self._fillers.append(filler)
        time.sleep(0.05)
        return self

    def stop(self) -> None:
        for filler in self._fillers:
            filler.close()
        self.listener.close()


# --- SMTP ----------------------------------------------------------------------------


class SilentSmtpServer:
    """Accepts connections on 127.0.0.1 and never answers (no greeting): a mail server that hangs."""

    def __init__(self):
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(16)
        self.port = self.listener.getsockname()[1]
        self.accepted: list[socket.socket] = []
        self._thread = threading.Thread(target=self._accept, daemon=True)

    def _accept(self):
        while True:
            try:
                connection, _ = self.listener.accept()
            except OSError:
                return
            self.accepted.append(connection)

    def start(self) -> SilentSmtpServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.listener.close()
        for connection in self.accepted:
            connection.close()


class _Inbox:
    def __init__(self, refuse: dict[str, str]):
        self.messages: list[email.message.EmailMessage] = []
        self.refuse = refuse

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        return "250 Message accepted for delivery"


class SmtpServer:
    """An aiosmtpd server on 127.0.0.1; `messages` holds what arrived, parsed."""

    def __init__(self, port: int | None = None):
        self.port = port or free_port()
        self.refuse: dict[str, str] = {}
        self.inbox = _Inbox(self.refuse)
        self.controller: Controller | None = None

    @property
    def messages(self):
        return self.inbox.messages

    def start(self) -> SmtpServer:
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)
        self.controller.start()
        return self

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


def parts_of(message) -> dict[str, str]:
    """content type → decoded text of each leaf part of an email."""
    return {part.get_content_type(): part.get_content() for part in message.walk() if not part.is_multipart()}


# --- HTTP provider doubles ---------------------------------------------------------


class ProviderDouble(HttpDouble):
    """Base of the SMS provider doubles: also keeps the messages the provider accepted to send."""

    def __init__(self):
        super().__init__()
        self.delivered: list[dict] = []  # messages the provider accepted to send


class TwilioDouble(ProviderDouble):
    """Twilio's Messages API as documented: basic auth, form fields, 201 with a sid."""

    def __init__(self, account_sid="AC" + "1" * 32, auth_token="twilio-token"):
        self.account_sid, self.auth_token = account_sid, auth_token
        super().__init__()

    def error(self, status, code, message):
        return (
            status,
            {
                "code": code,
                "message": message,
                "more_info": f"https://www.twilio.com/docs/errors/{code}",
                "status": status,
            },
            {},
        )

    def answer(self, request):
        if request.path != f"/2010-04-01/Accounts/{self.account_sid}/Messages.json":
            return self.error(404, 20404, f"The requested resource {request.path} was not found")
        expected = "Basic " + base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()
        if request.headers.get("authorization") != expected:
            return self.error(401, 20003, "Authenticate")
        to, sender, body = (request.form.get(k, "") for k in ("To", "From", "Body"))
        if not to.startswith("+") or not to[1:].isdigit():
            return self.error(400, 21211, f"The 'To' number {to} is not a valid phone number.")
        if not sender:
            return self.error(400, 21603, "The 'From' phone number is required.")
        if not body:
            return self.error(400, 21602, "Message body is required.")
        sid = "SM" + uuid.uuid4().hex
        self.delivered.append({"sid": sid, "to": to, "from": sender, "body": body})
        return 201, {"sid": sid, "status": "queued", "to": to, "from": sender, "body": body}, {}


class SemaphoreDouble(ProviderDouble):
    """Semaphore's /api/v4/messages: form fields, a JSON list with message_id per recipient."""

    def __init__(self, api_key="semaphore-key"):
        self.api_key = api_key
        self._next_id = 1000
        super().__init__()

    def answer(self, request):
        if request.path != "/api/v4/messages":
            return 404, {"message": "Not Found"}, {}
        form = request.form
        if form.get("apikey") != self.api_key:
            return 401, {"apikey": ["The selected apikey is invalid."]}, {}
        number, message, sender = form.get("number", ""), form.get("message", ""), form.get("sendername", "")
        if not number.isdigit() or not (number.startswith("63") or number.startswith("09")):
            return 200, {"number": ["The number format is invalid."]}, {}
        if not message:
            return 200, {"message": ["The message field is required."]}, {}
        if len(sender) > 11:
            return 200, {"sendername": ["The sendername may not be greater than 11 characters."]}, {}
        self._next_id += 1
        entry = {
            "message_id": self._next_id,
            "recipient": number,
            "message": message,
            "sender_name": sender,
            "network": "Globe",
            "status": "Pending",
            "type": "Single",
            "source": "Api",
        }
        self.delivered.append(entry)
        return 200, [entry], {}


class WebhookDouble(ProviderDouble):
    """An operator's own gateway: checks the HMAC signature and honours Idempotency-Key."""

    def __init__(self, secret="webhook-secret"):
        self.secret = secret
        self.by_key: dict[str, str] = {}
        super().__init__()

    def answer(self, request):
        expected = "sha256=" + hmac.new(self.secret.encode(), request.body, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(request.headers.get("x-orderdesk-signature", ""), expected):
            return 401, {"error": "bad signature"}, {}
        key = request.headers.get("idempotency-key", "")
        if not key:
            return 400, {"error": "Idempotency-Key header is required"}, {}
        payload = json.loads(request.body)
        with self._lock:
            if key in self.by_key:
                return 200, {"id": self.by_key[key], "duplicate": True}, {}
            message_id = f"gw-{len(self.by_key) + 1}"
            self.by_key[key] = message_id
            self.delivered.append(payload)
        return 202, {"id": message_id}, {}
