"""The read every order action starts with, compiled once: the order locked (its row alone), its
merchant and store beside it.

The ORM builds and compiles this three-table query afresh on every call, which cost more than
running it. Here the queryset is compiled once per database connection (a connection belongs to
one thread) and each call runs the same SQL with the merchant's and the order's ids, and turns
the row into instances the way the queryset does (the same converters and related populators).
"""

from __future__ import annotations

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import F, Func
from django.db.models.query import get_related_populators

from orderdesk.compiled_queries import fixed_statement_cursor

from .models import Order

# Stand-ins the compiled SQL's parameters are found by (never real ids).
_MERCHANT, _ORDER = -7_300_001, -7_300_002


def locked_order_with_merchant_and_store(merchant_id: int, order_id) -> Order | None:
    """The merchant's order `order_id` locked FOR UPDATE OF its own row, with `.merchant` and
    `.store` read beside it; None when the merchant has no such order. Raises ValueError or
    TypeError for an id that is not one, as the ORM's `.get(pk=…)` does."""
    pk = Order._meta.pk.get_prep_value(order_id)
    wrapper = connections[DEFAULT_DB_ALIAS]
    # Kept on the connection itself (one a thread), so it goes when the connection does.
    compiled = getattr(wrapper, "_orderdesk_locked_order", None)
    if compiled is None:
        compiled = wrapper._orderdesk_locked_order = _Compiled(wrapper)
    return compiled.run(merchant_id, pk)


class _Compiled:
    def __init__(self, wrapper) -> None:
        # `merchant + 0`: the order is found by its id alone. PostgreSQL took the merchant's index
        # for a merchant it thought small (a new shop, or one its statistics have not caught up
        # with) and walked every order of the merchant to find this one.
        queryset = (
            Order.objects.alias(merchant_plus_zero=Func(F("merchant_id"), template="(%(expressions)s + 0)"))
            .filter(merchant_plus_zero=_MERCHANT, pk=_ORDER)
            .select_for_update(of=("self",))
            .select_related("merchant", "store")
        )
        self.compiler = queryset.query.get_compiler(connection=wrapper)
        self.sql, params = self.compiler.as_sql()
        self.order_of_params = [{_MERCHANT: 0, _ORDER: 1}[param] for param in params]
        self.alias = wrapper.alias
        select, klass_info = self.compiler.select, self.compiler.klass_info
        fields = klass_info["select_fields"]
        self.start, self.end = fields[0], fields[-1] + 1
        self.init_list = [column[0].target.attname for column in select[self.start : self.end]]
        self.populators = get_related_populators(klass_info, select, self.alias)
        # Worked out once: results_iter() asked every column for its converters on every call.
        self.converters = self.compiler.get_converters(
            [column[0] for column in select[: self.compiler.col_count]]
        )

    def run(self, merchant_id: int, pk: int) -> Order | None:
        ids = (merchant_id, pk)
        # Prepared on PostgreSQL: its planning (three tables joined) cost more than running it.
        with fixed_statement_cursor(self.alias) as cursor:
            cursor.execute(self.sql, [ids[i] for i in self.order_of_params])
            rows = cursor.fetchall()
        if self.converters:
            rows = self.compiler.apply_converters(rows, self.converters)
        for row in rows:
            order = Order.from_db(self.alias, self.init_list, row[self.start : self.end])
            for populator in self.populators:
                populator.populate(row, order)
            return order
        return None
