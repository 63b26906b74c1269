"""A webhook receiver on loopback that checks Standard Webhooks signatures its own way.

The verification below is written from the specification (https://www.standardwebhooks.com),
not from orderdesk.api.webhook_signing, so a mistake in our signing fails here.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import ssl
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

TOLERANCE_SECONDS = 5 * 60


class InvalidSignature(Exception):
    pass


def verify_standard_webhook(
    secret: str, headers: dict[str, str], body: bytes, *, now: float | None = None
) -> dict:
    """The receiving side of Standard Webhooks: raises InvalidSignature, else returns the JSON."""
    message_id = headers.get("webhook-id")
    timestamp = headers.get("webhook-timestamp")
    signatures = headers.get("webhook-signature")
    if not (message_id and timestamp and signatures):
        raise InvalidSignature("missing headers")
    if abs((now or time.time()) - int(timestamp)) > TOLERANCE_SECONDS:
        raise InvalidSignature("timestamp outside the tolerance")
    if not secret.startswith("whsec_"):
        raise InvalidSignature("not a whsec_ secret")
    key = base64.b64decode(secret[len("whsec_") :])
    to_sign = message_id.encode() + b"." + timestamp.encode() + b"." + body
    expected = base64.b64encode(hmac.new(key, to_sign, hashlib.sha256).digest())
    for candidate in signatures.split(" "):
        version, _, signature = candidate.partition(",")
        if version == "v1" and hmac.compare_digest(signature.encode(), expected):
            return json.loads(body)
    raise InvalidSignature("no signature matches")


@dataclass
class Delivery:
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def event(self) -> dict:
        return json.loads(self.body)


class WebhookReceiver:
    """An HTTP server on 127.0.0.1 in a thread. `answer_next(503, 500)` scripts the next answers;
    `stall_next(seconds)` answers the next request late; every other request gets 200."""

    def __init__(self, *, tls_files: tuple[str, str] | None = None):
        self.deliveries: list[Delivery] = []
        self._script: list[tuple[str, float]] = []
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with receiver._lock:
                    receiver.deliveries.append(
                        Delivery(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                    )
                    kind, value = receiver._script.pop(0) if receiver._script else ("status", 200)
                if kind == "stall":
                    time.sleep(value)
                    status = 200
                else:
                    status = int(value)
                data = b'{"received": true}' if status < 300 else b'{"error": "receiver is down"}'
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        if tls_files:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(*tls_files)
            self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_address[1]
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/orderdesk"

    def answer_next(self, *statuses: int) -> None:
        with self._lock:
            self._script.extend(("status", status) for status in statuses)

    def stall_next(self, seconds: float) -> None:
        with self._lock:
            self._script.append(("stall", seconds))

    def start(self) -> WebhookReceiver:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def certificate_for(name: str, folder) -> tuple[str, str, str]:
    """A throwaway CA and a certificate for `name` it signed: (ca.pem, cert.pem, key.pem) in `folder`."""
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Test webhook CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True, key_cert_sign=True, crl_sign=True, content_commitment=False,
                key_encipherment=False, data_encipherment=False, key_agreement=False,
                encipher_only=False, decipher_only=False,
            ),
            critical=True,
        )
        .sign(ca_key, hashes.SHA256())
    )  # fmt: skip
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    paths = [str(folder / "ca.pem"), str(folder / "cert.pem"), str(folder / "key.pem")]
    with open(paths[0], "wb") as out:
        out.write(ca.public_bytes(serialization.Encoding.PEM))
    with open(paths[1], "wb") as out:
        out.write(cert.public_bytes(serialization.Encoding.PEM))
    with open(paths[2], "wb") as out:
        out.write(
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
    return paths[0], paths[1], paths[2]
