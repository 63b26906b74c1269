"""`Idempotency-Key` on creating POSTs: the first answer is replayed, a different request refused."""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from django.db import connection, transaction
from django.utils import timezone
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
        claim_id = _claim(request.auth, key, fingerprint)
        if claim_id is None:
            return _replay(request, key, fingerprint)
        response = create()
        if response.status_code >= 300:
            transaction.set_rollback(True)
            return response
        IdempotentRequest.objects.filter(pk=claim_id).update(
            response_status=response.status_code, response_body=response.data
        )
    return response


def _claim(api_key, key: str, fingerprint: str) -> int | None:
    """INSERT … ON CONFLICT DO NOTHING RETURNING id: the claim row's id, or None when the key is
    claimed already. A concurrent claim not yet committed makes this wait for its transaction
    (the unique index), then see it; no savepoint and no error to catch."""
    meta = IdempotentRequest._meta
    quote = connection.ops.quote_name
    values = {
        "merchant": api_key.merchant_id,
        "api_key": api_key.pk,
        "key": key,
        "request_sha256": fingerprint,
        "response_status": 0,
        "response_body": {},
        "created_at": timezone.now(),
    }
    fields = [meta.get_field(name) for name in values]
    sql = (
        f"INSERT INTO {quote(meta.db_table)} ({', '.join(quote(field.column) for field in fields)}) "
        f"VALUES ({', '.join(['%s'] * len(fields))}) "
        f"ON CONFLICT ({quote(meta.get_field('api_key').column)}, {quote(meta.get_field('key').column)}) "
        f"DO NOTHING RETURNING {quote(meta.pk.column)}"
    )
    with connection.cursor() as cursor:
        cursor.execute(
            sql,
            [
                field.get_db_prep_save(value, connection)
                for field, value in zip(fields, values.values(), strict=True)
            ],
        )
        claimed = cursor.fetchone()
    return claimed[0] if claimed else None


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
