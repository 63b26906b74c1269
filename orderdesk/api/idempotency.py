"""`Idempotency-Key` on creating POSTs: the first answer is replayed, a different request refused."""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from django.db import IntegrityError, transaction
from rest_framework.response import Response

from .errors import IdempotencyKeyReused
from .models import IdempotentRequest

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255


def run_idempotently(request, create: Callable[[], Response]) -> Response:
    """Run `create` once per key: the claim row is inserted first, in the same transaction as
    the work, so concurrent identical POSTs wait on it and then replay the stored answer.

    Only successful answers are kept; a refused request leaves the key free to retry.
    """
    key = request.headers.get(HEADER, "").strip()
    if not key:
        return create()
    if len(key) > MAX_KEY_LENGTH:
        raise IdempotencyKeyReused(
            f"An Idempotency-Key has at most {MAX_KEY_LENGTH} characters.", field=HEADER
        )
    fingerprint = hashlib.sha256(
        b"\n".join([request.method.encode(), request.path.encode(), request.body])
    ).hexdigest()
    with transaction.atomic():
        try:
            with transaction.atomic():
                claim = IdempotentRequest.objects.create(
                    merchant_id=request.auth.merchant_id,
                    api_key=request.auth,
                    key=key,
                    request_sha256=fingerprint,
                    response_status=0,
                )
        except IntegrityError:
            return _replay(request, key, fingerprint)
        response = create()
        if response.status_code >= 300:
            transaction.set_rollback(True)
            return response
        claim.response_status = response.status_code
        claim.response_body = response.data
        claim.save(update_fields=["response_status", "response_body"])
    return response


def _replay(request, key: str, fingerprint: str) -> Response:
    earlier = IdempotentRequest.objects.get(api_key=request.auth, key=key)
    if earlier.request_sha256 != fingerprint:
        raise IdempotencyKeyReused(
            "This Idempotency-Key was already used for a different request; use a new key.",
            field=HEADER,
        )
    response = Response(earlier.response_body, status=earlier.response_status)
    response["Idempotent-Replayed"] = "true"
    return response
