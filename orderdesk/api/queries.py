"""The read side of API keys."""

import functools

from django.db import connection
from django.db.models import QuerySet

from orderdesk import rows
from orderdesk.accounts.models import Merchant

from .actions import token_sha256
from .models import ApiKey


def api_keys_of(merchant) -> QuerySet[ApiKey]:
    """The merchant's keys, newest first, revoked ones included (the owner sees they are off)."""
    return ApiKey.objects.for_merchant(merchant).select_related("created_by")


def live_api_key(token: str) -> ApiKey | None:
    """The unrevoked key this token belongs to, with its merchant; None for any other token.
    Read on every API request, never cached (a revoked key is refused at once): one plain
    query, without the ORM's compiling of it."""
    with connection.cursor() as cursor:
        cursor.execute(_live_key_sql(), [token_sha256(token)])
        row = cursor.fetchone()
    if row is None:
        return None
    split = rows.width(ApiKey)
    api_key = rows.instance(ApiKey, row[:split])
    ApiKey._meta.get_field("merchant").set_cached_value(api_key, rows.instance(Merchant, row[split:]))
    return api_key


@functools.cache
def _live_key_sql() -> str:
    quote = connection.ops.quote_name
    keys, merchants = ApiKey._meta.db_table, Merchant._meta.db_table
    return (
        f"SELECT {rows.columns(ApiKey, keys)}, {rows.columns(Merchant, merchants)} FROM {quote(keys)} "
        f"JOIN {quote(merchants)} ON {quote(merchants)}.{quote('id')} = {quote(keys)}.{quote('merchant_id')} "
        f"WHERE {quote(keys)}.{quote('token_sha256')} = %s AND {quote(keys)}.{quote('revoked_at')} IS NULL"
    )
