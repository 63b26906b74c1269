"""The reads of the batched write path (record_orders, a store's batch taken in): what a batch
of a thousand orders needs to know from the database, each one statement per batch.

A batch looks up a thousand values at once (external ids, phones, emails, SKUs). As an
`IN (%s, %s, …)` list that is a thousand parameters: the ORM prepares each one, psycopg
parses each placeholder, the server plans a long list, and SQLite's parameter limit splits
it into several statements. Here the values travel as one parameter: an array on PostgreSQL
(`= ANY(%s)`, or `unnest` to join pairs), a JSON array on SQLite (`json_each`). Both probe
the same indexes the `IN` list did (tests/test_batch_reads.py looks at the plans).
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Sequence

from django.db import connection, models

from orderdesk import rows
from orderdesk.catalog.models import Variant
from orderdesk.customers.models import Customer

from .models import Order


def values_where_any(
    model: type[models.Model],
    selected: Sequence[str],
    *,
    column: str,
    any_of: Collection,
    equal: dict[str, object] | None = None,
) -> list[tuple]:
    """The `selected` columns of the rows of `model` whose `column` is any of `any_of` (and each
    column of `equal` that value), as tuples; one statement, none when `any_of` is empty."""
    if not any_of:
        return []
    quote = connection.ops.quote_name
    conditions, params = [], []
    for name, value in (equal or {}).items():
        conditions.append(f"{quote(name)} = %s")
        params.append(value)
    condition, param = _any_of(quote(column), any_of)
    conditions.append(condition)
    params.append(param)
    sql = (
        f"SELECT {', '.join(quote(name) for name in selected)} FROM {quote(model._meta.db_table)} "
        f"WHERE {' AND '.join(conditions)}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def recorded_external_ids(wanted: Iterable[tuple[int, str]]) -> dict[tuple[int, str], int]:
    """(store id, external id) → the order already recorded for it, of those wanted: one join
    of the wanted pairs with the orders, probing the (store, external id) unique index."""
    wanted = sorted(set(wanted))
    if not wanted:
        return {}
    quote = connection.ops.quote_name
    table = quote(Order._meta.db_table)
    store, external, pk = quote("store_id"), quote("external_id"), quote("id")
    if connection.vendor == "postgresql":
        sql = (
            f"SELECT o.{store}, o.{external}, o.{pk} "
            f"FROM unnest(%s::bigint[], %s::text[]) AS w(store_id, external_id) "
            f"JOIN {table} o ON o.{store} = w.store_id AND o.{external} = w.external_id"
        )
        params = [[store_id for store_id, _ in wanted], [external_id for _, external_id in wanted]]
    else:
        sql = (
            f"SELECT o.{store}, o.{external}, o.{pk} FROM json_each(%s) AS w "
            f"JOIN {table} o ON o.{store} = json_extract(w.value, '$[0]') "
            f"AND o.{external} = json_extract(w.value, '$[1]')"
        )
        params = [json.dumps(wanted)]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return {(store_id, external_id): order_id for store_id, external_id, order_id in cursor.fetchall()}


def customers_by_phone_or_email(
    merchant_id: int, phones: Collection[str], emails: Collection[str]
) -> list[Customer]:
    """The merchant's customers with any of these phones or emails, oldest first."""
    if not phones and not emails:
        return []
    quote = connection.ops.quote_name
    # One SELECT for each, joined by UNION (which also drops a customer both find): with an OR,
    # SQLite walked all the merchant's customers instead of probing the two indexes.
    selects, params = [], []
    for column, values in (("phone", phones), ("email", emails)):
        if values:
            condition, param = _any_of(quote(column), values)
            selects.append(
                f"SELECT {rows.columns(Customer)} FROM {quote(Customer._meta.db_table)} "
                f"WHERE {quote('merchant_id')} = %s AND {condition}"
            )
            params += [merchant_id, param]
    sql = " UNION ".join(selects)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        found = [rows.instance(Customer, row) for row in cursor.fetchall()]
    # Sorted here: with an ORDER BY id SQLite walked the merchant's customers in id order (its
    # merchant index holds them so) instead of probing the phone or email index.
    found.sort(key=lambda customer: customer.pk)
    return found


def merchant_variant_ids(merchant_id: int, variant_ids: Collection[int]) -> set[int]:
    """Which of these variant ids are the merchant's (an id no row can have is simply not found)."""
    possible = {pk for pk in variant_ids if type(pk) is int and 0 < pk < 2**63}
    found = values_where_any(
        Variant, ["id"], column="id", any_of=possible, equal={"merchant_id": merchant_id}
    )
    return {pk for (pk,) in found}


def variant_ids_by_sku(merchant_id: int, skus: Collection[str]) -> dict[str, int]:
    """The merchant's variant id of each of these SKUs it has."""
    found = values_where_any(
        Variant, ["sku", "id"], column="sku", any_of=skus, equal={"merchant_id": merchant_id}
    )
    return dict(found)


def _any_of(column_sql: str, values: Collection) -> tuple[str, object]:
    """`column is any of values` as SQL with one parameter, and that parameter."""
    values = list(values)
    if connection.vendor == "postgresql":
        # Typed, so an empty or all-digit list means what the column holds.
        kind = "bigint" if all(type(value) is int for value in values) else "text"
        return f"{column_sql} = ANY(%s::{kind}[])", values
    return f"{column_sql} IN (SELECT value FROM json_each(%s))", json.dumps(values)
