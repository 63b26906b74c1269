import base64
import hashlib
import hmac

import pytest

from orderdesk.api.webhook_signing import (
    WebhookAddressRefused,
    ensure_sendable,
    new_webhook_secret,
    signature_headers,
)


def test_the_signature_is_a_base64_hmac_sha256_of_id_timestamp_and_body_as_standard_webhooks_say():
    secret = new_webhook_secret()
    body = b'{"type":"order.paid"}'
    headers = signature_headers(secret=secret, message_id="msg_1", timestamp=1700000000, body=body)
    key = base64.b64decode(secret.removeprefix("whsec_"))
    expected = hmac.new(key, b"msg_1.1700000000." + body, hashlib.sha256).digest()
    assert headers["webhook-id"] == "msg_1"
    assert headers["webhook-timestamp"] == "1700000000"
    assert headers["webhook-signature"] == "v1," + base64.b64encode(expected).decode()


def test_the_standard_webhooks_test_vector_verifies():
    # From the Standard Webhooks specification's example.
    headers = signature_headers(
        secret="whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        message_id="msg_p5jXN8AQM9LWM0D4loKWxJek",
        timestamp=1614265330,
        body=b'{"test": 2432232314}',
    )
    assert headers["webhook-signature"] == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_two_secrets_are_never_the_same():
    assert new_webhook_secret() != new_webhook_secret()


@pytest.mark.parametrize(
    "url, message",
    [
        ("http://hooks.example.com/in", "Webhook endpoints must use https."),
        (
            "https://127.0.0.1/in",
            "127.0.0.1 leads to a private address (127.0.0.1); webhooks go to public addresses only.",
        ),
        (
            "https://10.0.0.1/in",
            "10.0.0.1 leads to a private address (10.0.0.1); webhooks go to public addresses only.",
        ),
        (
            "https://169.254.169.254/latest",
            "169.254.169.254 leads to a private address (169.254.169.254); webhooks go to public addresses only.",
        ),
        ("https://localhost/in", None),
        ("ftp://example.com/in", "Enter the endpoint's full URL, starting with https://."),
    ],
)
def test_in_production_http_and_private_loopback_and_link_local_addresses_are_refused(url, message):
    with pytest.raises(WebhookAddressRefused) as refused:
        ensure_sendable(url, production=True)
    assert refused.value.field == "url"
    if message:
        assert refused.value.message == message
    else:
        assert "private address" in refused.value.message


def test_a_public_https_address_may_be_sent_to_in_production():
    ensure_sendable("https://8.8.8.8/hooks", production=True)


def test_outside_production_a_receiver_on_loopback_is_allowed():
    ensure_sendable("http://127.0.0.1:8765/hooks", production=False)
