"""`Idempotency-Key` on creating POSTs: the first answer is replayed, a different request refused."""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable

from django.db import connection
from django.utils import timezone
from rest_framework.response import Response

from orderdesk.notifications.webhooks import publishing_once

from .errors import IdempotencyKeyReused
from .models import IdempotentRequest

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255


def run_idempotently(request, create: Callable[[], Response]) -> Response:
    """Run `create` once per key: its work and the key's claim row, which holds the answer, are
    written in one transaction, the claim last (INSERT … ON CONFLICT DO NOTHING). A concurrent
    identical POST waits on the claim's unique index (or, for an order, on the merchant's row)
    until the first commits, then finds the key taken: its own work is rolled back and the
    stored answer replayed; so is a retry the domain refuses for what the first one did (the
    same order reference again). Only successful answers are kept; a refused request leaves
    the key free to retry.

    The transaction is a publishing_once() one: the domain function called inside joins it
    without a savepoint of its own (any exception rolls the whole of it back).
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
    try:
        with publishing_once():
            response = create()
            if response.status_code >= 300:
                raise _Undone(response)
            if not _claimed(request.auth, key, fingerprint, response):
                raise _Undone(None)
    except _Undone as undone:
        earlier = _earlier(request.auth, key)
        if earlier is not None:
            return _replay(earlier, fingerprint)
        if undone.response is not None:
            return undone.response
        # Claimed when this one tried, gone since (no sweep removes keys yet): a plain retry works.
        raise IdempotencyKeyReused(
            "This Idempotency-Key was claimed by a request that has since gone; try again.", field=HEADER
        ) from None
    except Exception:
        # A retry refused for what the first request did (its reference, its vendor's name):
        # the first answer, if the key holds one.
        earlier = _earlier(request.auth, key)
        if earlier is None:
            raise
        return _replay(earlier, fingerprint)
    return response


class _Undone(Exception):
    """Leaves the transaction rolled back: with this answer, or (None) to replay the stored one."""

    def __init__(self, response: Response | None):
        super().__init__()
        self.response = response


def _claimed(api_key, key: str, fingerprint: str, response: Response) -> bool:
    """INSERT … ON CONFLICT DO NOTHING RETURNING id of the key's row with its answer: whether
    this request claimed the key. A concurrent claim not yet committed makes this wait for its
    transaction (the unique index), then see it; no savepoint and no error to catch."""
    sql, fields = _claim_sql()
    values = (
        api_key.merchant_id,
        api_key.pk,
        key,
        fingerprint,
        response.status_code,
        response.data,
        timezone.now(),
    )
    with connection.cursor() as cursor:
        cursor.execute(
            sql,
            [
                field.get_db_prep_save(value, connection) if prepared else value
                for (field, prepared), value in zip(fields, values, strict=True)
            ],
        )
        return cursor.fetchone() is not None


@functools.cache
def _claim_sql() -> tuple[str, list]:
    meta = IdempotentRequest._meta
    quote = connection.ops.quote_name
    names = ["merchant", "api_key", "key", "request_sha256", "response_status", "response_body", "created_at"]
    fields = [meta.get_field(name) for name in names]
    sql = (
        f"INSERT INTO {quote(meta.db_table)} ({', '.join(quote(field.column) for field in fields)}) "
        f"VALUES ({', '.join(['%s'] * len(fields))}) "
        f"ON CONFLICT ({quote(meta.get_field('api_key').column)}, {quote(meta.get_field('key').column)}) "
        f"DO NOTHING RETURNING {quote(meta.pk.column)}"
    )
    # Only the answer (JSON) and the time need the field's conversion; the rest go as they are.
    return sql, [
        (field, name in ("response_body", "created_at")) for field, name in zip(fields, names, strict=True)
    ]


def _earlier(api_key, key: str) -> IdempotentRequest | None:
    return IdempotentRequest.objects.filter(api_key=api_key, key=key).first()


def _replay(earlier: IdempotentRequest, fingerprint: str) -> Response:
    if earlier.request_sha256 != fingerprint:
        raise IdempotencyKeyReused(
            "This Idempotency-Key was already used for a different request; use a new key.",
            field=HEADER,
        )
    response = Response(earlier.response_body, status=earlier.response_status)
    response["Idempotent-Replayed"] = "true"
    return response
