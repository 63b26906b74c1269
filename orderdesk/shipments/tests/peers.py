"""A loopback double of AfterShip's tracking webhook: documented-shape deliveries, signed as
AfterShip signs them (`aftership-hmac-sha256`: base64 HMAC-SHA256 of the raw body), sent
over HTTP to a live server or through Django's test client."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass


@dataclass
class Sent:
    status: int
    json: dict


class AfterShipDouble:
    def __init__(self, *, secret: str, path: str):
        self.secret = secret
        self.path = path

    def delivery(
        self,
        tracking_number: str,
        tag: str,
        *,
        subtag: str = "",
        subtag_message: str = "",
        checkpoints: list[dict] | None = None,
        event_id: str | None = None,
        ts: int | None = None,
        slug: str = "lbc",
        event: str = "tracking_update",
    ) -> dict:
        """A tracking_update as AfterShip's webhook specification shapes it."""
        return {
            "event": event,
            "event_id": event_id or str(uuid.uuid4()),
            "is_tracking_first_tag": True,
            "ts": int(time.time()) if ts is None else ts,
            "msg": {
                "id": uuid.uuid4().hex,
                "tracking_number": tracking_number,
                "slug": slug,
                "tag": tag,
                "subtag": subtag or f"{tag}_001",
                "subtag_message": subtag_message,
                "checkpoints": checkpoints if checkpoints is not None else [],
            },
        }

    @staticmethod
    def checkpoint(
        when: str, message: str, *, tag: str = "InTransit", city: str = "", country: str = "PHL"
    ) -> dict:
        return {
            "checkpoint_time": when,
            "message": message,
            "tag": tag,
            "subtag": f"{tag}_001",
            "city": city,
            "country_name": country,
            "location": city,
            "slug": "lbc",
        }

    def sign(self, body: bytes, secret: str | None = None) -> str:
        digest = hmac.new((secret or self.secret).encode(), body, hashlib.sha256).digest()
        return base64.b64encode(digest).decode()

    def post(self, client, payload, *, signature: str | None = None, raw: bytes | None = None) -> Sent:
        """Through Django's test client."""
        body = raw if raw is not None else json.dumps(payload).encode()
        headers = {"HTTP_AFTERSHIP_HMAC_SHA256": signature if signature is not None else self.sign(body)}
        response = client.post(self.path, data=body, content_type="application/json", **headers)
        return Sent(response.status_code, json.loads(response.content or b"{}"))

    def send(self, base_url: str, payload) -> Sent:
        """Over HTTP on loopback, as AfterShip would."""
        body = json.dumps(payload).encode()
        request = urllib.request.Request(
            base_url + self.path,
            data=body,
            method="POST",
            headers={"Content-Type": "application/json", "aftership-hmac-sha256": self.sign(body)},
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 (loopback)
                return Sent(response.status, json.loads(response.read()))
        except urllib.error.HTTPError as refused:
            return Sent(refused.code, json.loads(refused.read() or b"{}"))
