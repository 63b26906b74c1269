"""Taking a store's orders in: one order (upsert by store and external id), a whole run
(backfill or poll, with its sync log), and a webhook delivery.

New paid orders of a page (or of a CSV chunk) go through `orders.actions.record_orders`
together, in one transaction; updates of orders already here go one at a time through the
single path. A bad order is refused with its reason and never stops the rest.
"""

from __future__ import annotations

import datetime
import json
import logging
from collections.abc import Callable, Iterator
from contextlib import closing
from dataclasses import dataclass

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.db.models import Q
from django.utils import timezone

from orderdesk.accounts.actors import Actor
from orderdesk.accounts.models import Merchant
from orderdesk.catalog.actions import SoldItem, variants_for_skus
from orderdesk.customers.models import Customer
from orderdesk.errors import DomainError
from orderdesk.garbage_collection import fewer_collections
from orderdesk.orders import actions as order_actions
from orderdesk.orders import batch_reads
from orderdesk.orders import events as order_events
from orderdesk.orders.actions import CustomerDetails, LineInput, NewOrder
from orderdesk.orders.errors import DuplicateOrder
from orderdesk.orders.inserts import insert_values
from orderdesk.orders.models import Order, OrderEvent, OrderLine

from . import fulfilled_in_store, shopify, woocommerce
from .errors import ConnectionRefused, MalformedStoreOrder, StoreUnreachable, SyncRefused
from .incoming import IncomingOrder
from .messages import queue_backfill_summary, queue_connection_broken
from .models import InboundDelivery, Store, StoreOrderLink, SyncRun
from .read_ahead import read_ahead

logger = logging.getLogger(__name__)

SYNC_LOG_DAYS = 30
# Orders taken in per transaction by a backfill or poll (several of the store's pages).
BATCH_ORDERS = 1000


class Outcome:
    NEW = "new"
    UPDATED = "updated"
    UNCHANGED = "unchanged"


def sync_actor(store: Store) -> Actor:
    return Actor.system(store.merchant, label=f"{store.get_channel_display()} sync ({store.name})")


def lock_merchant(merchant_id: int) -> None:
    """The merchant row's lock that takes a merchant's store orders in one at a time (and that
    record_order takes to number orders). FOR NO KEY UPDATE, as the UPDATE of its order
    counter takes anyway: it serializes the same, but leaves alone the KEY SHARE lock that an
    INSERT of a row referencing the merchant takes — a webhook's delivery stored while a
    batch is being taken in is not kept waiting for that batch's commit."""
    Merchant.objects.select_for_update(no_key=True).get(pk=merchant_id)


def apply_incoming_order(store: Store, incoming: IncomingOrder, *, notify: bool = True) -> str:
    """Take one store order in: record it when new and paid, apply or flag a change, cancel
    when the store cancelled it. Returns new, updated or unchanged; raises DomainError."""
    by = sync_actor(store)
    if incoming.currency and incoming.currency != store.merchant.currency:
        raise MalformedStoreOrder(
            f"The order is in {incoming.currency}, but the shop keeps its books in {store.merchant.currency}."
        )
    fingerprint = incoming.fingerprint
    with transaction.atomic():
        # The merchant row is the lock record_order takes to number orders; taking it first
        # here takes a merchant's store orders in one at a time (the same order arriving by
        # webhook and poll at once is recorded once) without a second lock to deadlock on.
        lock_merchant(store.merchant_id)
        link = StoreOrderLink.objects.filter(store=store, external_id=incoming.external_id).first()
        if link is None:
            existing = Order.objects.filter(store=store, external_id=incoming.external_id).first()
            if existing is not None:
                # Recorded before links existed (or through the API): take it up as is.
                link = StoreOrderLink.objects.create(
                    merchant_id=store.merchant_id,
                    store=store,
                    external_id=incoming.external_id,
                    order=existing,
                    fingerprint="",
                )
        if link is None:
            if incoming.standing != IncomingOrder.Standing.PAID:
                # Unpaid orders enter when paid; fulfilled or cancelled ones never needed us.
                return Outcome.UNCHANGED
            new_order = _new_order(store, incoming)
            try:
                order = order_actions.record_order(new_order, by=by, payment_confirmed=True, notify=notify)
            except DuplicateOrder as taken:
                raise MalformedStoreOrder(taken.message) from taken
            StoreOrderLink.objects.create(
                merchant_id=store.merchant_id,
                store=store,
                external_id=incoming.external_id,
                order=order,
                fingerprint=fingerprint,
            )
            return Outcome.NEW
        if link.fingerprint == fingerprint:
            return Outcome.UNCHANGED
        order = Order.objects.select_related("store").get(pk=link.order_id)
        not_yet_dispatched = order.status in (Order.Status.AWAITING_PAYMENT, Order.Status.PENDING)
        if incoming.standing == IncomingOrder.Standing.CANCELLED:
            if order.status == Order.Status.CANCELLED:
                pass
            elif order.status == Order.Status.PENDING:
                order_actions.cancel_order(order.pk, by=by, reason=f"Cancelled in {store.name}.")
            else:
                _flag(
                    link,
                    order,
                    by,
                    f"{store.name} cancelled this order after it was {order.get_status_display().lower()}.",
                )
        elif incoming.standing == IncomingOrder.Standing.FULFILLED:
            # Fulfilled in the store: never applied here; flagged unless it was our own tracking.
            summary = fulfilled_in_store.flag_summary(store, order)
            if summary:
                _flag(link, order, by, summary)
        elif not_yet_dispatched:
            order_actions.update_order_from_store(order.pk, by=by, new=_new_order(store, incoming))
        else:
            _flag(
                link,
                order,
                by,
                f"{store.name} changed this order after it was {order.get_status_display().lower()}; "
                "the change was not applied. Check the order in the store.",
            )
        link.fingerprint = fingerprint
        link.save(update_fields=["fingerprint", "flagged_change", "flagged_at", "updated_at"])
        return Outcome.UPDATED


def _flag(link: StoreOrderLink, order: Order, by: Actor, summary: str) -> None:
    link.flagged_change = summary
    link.flagged_at = timezone.now()
    order_events.record_store_change_flagged(order, by=by, summary=summary)


def _sold_items(incoming: IncomingOrder) -> list[SoldItem]:
    return [
        SoldItem(
            sku=line.sku[:64],
            title=line.title,
            variant_title=line.variant_title,
            unit_price=line.unit_price,
        )
        for line in incoming.lines
        if line.sku
        and "\x00" not in line.sku + line.title + line.variant_title
        and 0 <= line.unit_price < order_actions.MONEY_LIMIT
    ]


def _new_order(store: Store, incoming: IncomingOrder, variant_ids: dict[str, int] | None = None) -> NewOrder:
    phone, address = incoming.customer_phone, incoming.shipping_address
    if phone:
        try:
            phone = order_actions.normalized_phone(phone)
        except ValueError:
            # A phone the store let through but we cannot text: keep it where a person can read it.
            address = f"{address} (phone: {phone})" if address else f"Phone: {phone}"
            phone = ""
    if variant_ids is None:
        variant_ids = variants_for_skus(store.merchant, _sold_items(incoming))
    return NewOrder(
        customer=CustomerDetails(
            name=incoming.customer_name, phone=phone, email=incoming.customer_email, address=address
        ),
        lines=[
            LineInput(
                title=line.title,
                quantity=line.quantity,
                unit_price=line.unit_price,
                sku=line.sku,
                variant_title=line.variant_title,
                variant_id=variant_ids.get(line.sku[:64]),
            )
            for line in incoming.lines
        ],
        payment_method=incoming.payment_method,
        shipping_option=incoming.shipping_option,
        shipping_fee=incoming.shipping_fee,
        discount=incoming.discount,
        note=incoming.note,
        store_id=store.pk,
        external_id=incoming.external_id,
        placed_at=incoming.placed_at,
        extra=incoming.extra,
    )


# --- runs: backfill and poll -------------------------------------------------------------


def client_for(store: Store, *, sleep: Callable[[float], None] | None = None):
    if store.channel == Store.Channel.SHOPIFY:
        return shopify.ShopifyClient(store, sleep=sleep)
    if store.channel == Store.Channel.WOOCOMMERCE:
        return woocommerce.WooCommerceClient(store, sleep=sleep)
    raise SyncRefused(f"{store.name} is a {store.get_channel_display()} store; it has no API to sync from.")


def parser_for(store: Store) -> Callable[[dict], IncomingOrder]:
    return (
        shopify.order_from_graphql if store.channel == Store.Channel.SHOPIFY else woocommerce.order_from_json
    )


def sync_store(
    store_id: int,
    *,
    kind: str = SyncRun.Kind.POLL,
    progress: Callable[[SyncRun], None] | None = None,
    sleep: Callable[[float], None] | None = None,
) -> SyncRun:
    """Run a backfill (paid, unfulfilled orders of the last STORE_BACKFILL_DAYS days; quiet) or a
    poll (orders changed since the store's cursor), logging counts and each failure's reason.

    Raises SyncRefused (paused, removed or CSV store). A store that refuses our credentials is
    marked broken (the run ends failed); an unreachable one fails the run with the reason.
    """
    store = Store.objects.select_related("merchant").get(pk=store_id)
    if store.removed_at or not store.is_active:
        raise SyncRefused(
            f"{store.name} is {'removed' if store.removed_at else 'paused'}; resume it to sync."
        )
    client = client_for(store, sleep=sleep)
    prune_sync_log()
    run = SyncRun.objects.create(merchant_id=store.merchant_id, store=store, kind=kind)
    # What the client has to say in the log beside the counts (Shopify's bulk export paging instead).
    client.note = lambda text: run.failures.append({"external_id": "", "reason": text[:300]})
    backfill = kind == SyncRun.Kind.BACKFILL or not store.sync_cursor
    started = timezone.now()
    cursor = None if backfill else datetime.datetime.fromisoformat(store.sync_cursor)
    newest_seen = cursor
    parse = parser_for(store)
    try:
        pages = (
            client.order_pages(created_after=started - datetime.timedelta(days=settings.STORE_BACKFILL_DAYS))
            if backfill
            else client.order_pages(updated_after=cursor)
        )
        # The store's next pages are fetched and parsed while a batch is taken in.
        with (
            fewer_collections(),
            closing(
                read_ahead(_parsed_batches(store, _batches(pages), parse), name=f"sync of store {store.pk}")
            ) as batches,
        ):
            for batch in batches:
                for updated_at in _take_batch(store, run, batch, notify=not backfill):
                    if updated_at and (newest_seen is None or updated_at > newest_seen):
                        newest_seen = updated_at
                # The store's count of what this run will see, once its first page said (progress bar).
                run.expected_count = client.expected_total
                run.save(
                    update_fields=[
                        "new_count",
                        "updated_count",
                        "unchanged_count",
                        "failed_count",
                        "failures",
                        "expected_count",
                    ]
                )
                if progress:
                    progress(run)
    except ConnectionRefused as refused:
        _end_run(run, error=refused.message)
        mark_connection_broken(store, reason=refused.message)
        return run
    except StoreUnreachable as unreachable:
        _end_run(run, error=unreachable.message)
        Store.objects.filter(pk=store.pk).update(last_sync_error=unreachable.message)
        return run
    except BaseException as crashed:
        # Never leave a run "running" (the store page would poll it forever).
        _end_run(run, error=f"The sync stopped unexpectedly: {type(crashed).__name__}.")
        raise
    _end_run(run)
    # The next poll starts at the newest change this run saw (store time, so clocks may differ);
    # after a backfill, no earlier than when it began.
    next_cursor = max(filter(None, [newest_seen, started])) if backfill else (newest_seen or cursor)
    Store.objects.filter(pk=store.pk).update(
        sync_cursor=next_cursor.isoformat(),
        last_synced_at=timezone.now(),
        last_sync_error="",
        connection_state=Store.ConnectionState.OK,
        broken_since=None,
    )
    if backfill:
        # Quiet per order (notify=False above): the merchant hears of the backfill once.
        queue_backfill_summary(store, run)
    return run


def _batches(pages: Iterator[list[dict]]) -> Iterator[list[dict]]:
    """The pages' orders in batches of at least BATCH_ORDERS (the last one smaller): a batch
    is one transaction of record_orders, whose cost per batch is spread over more orders
    than a store's page holds."""
    batch: list[dict] = []
    for page in pages:
        batch += page
        if len(batch) >= BATCH_ORDERS:
            yield batch
            batch = []
    if batch:
        yield batch


def start_sync(store_id: int, *, kind: str) -> None:
    """Run a sync in the background once the request commits (in-process without Celery)."""

    def start() -> None:
        from .tasks import sync_store_task

        if _in_a_thread_of_this_process():
            from orderdesk.background import STORE_SYNCS, background_jobs

            background_jobs.submit(
                STORE_SYNCS, lambda: sync_store_task(store_id, kind), about=f"{kind} of store {store_id}"
            )
            return
        try:
            sync_store_task.delay(store_id, kind)
        except Exception:
            logger.exception("Could not start syncing store %s; the poll will.", store_id)

    transaction.on_commit(start, robust=True)


@dataclass(frozen=True)
class Unreadable:
    """A store order that could not be read, and why (counted as a failure of the run)."""

    reason: str


def _parsed_batches(
    store: Store, batches: Iterator[list], parse
) -> Iterator[list[tuple[str, IncomingOrder | Unreadable]]]:
    """Each batch of raw store orders parsed: (external id, the IncomingOrder, or Unreadable).
    Runs in the read-ahead thread: no database here."""
    for batch in batches:
        parsed: list[tuple[str, IncomingOrder | Unreadable]] = []
        for raw in batch:
            external_id = _raw_external_id(raw)
            try:
                order = parse(raw)
                order.work_out_ahead()
                parsed.append((external_id, order))
            except DomainError as refusal:
                parsed.append((external_id, Unreadable(refusal.message)))
            except (KeyError, TypeError, ValueError, AttributeError) as broken:
                logger.exception("Store %s order %s could not be read", store.pk, external_id)
                reason = f"Unexpected problem: {type(broken).__name__}: {broken}"[:300]
                parsed.append((external_id, Unreadable(reason)))
        yield parsed


def _take_batch(
    store: Store, run: SyncRun, batch: list[tuple[str, IncomingOrder | Unreadable]], *, notify: bool
) -> list[datetime.datetime]:
    """Take a parsed batch of store orders in, counting each in the run (an order that could
    not be read as a failure with its reason); returns their updated-at times (of those taken in)."""
    parsed: list[tuple[str, IncomingOrder]] = []
    for external_id, order in batch:
        if isinstance(order, Unreadable):
            _count_failure(run, external_id, order.reason)
        else:
            parsed.append((external_id, order))
    outcomes = apply_incoming_orders(store, [incoming for _, incoming in parsed], notify=notify)
    taken = []
    for (external_id, incoming), outcome in zip(parsed, outcomes, strict=True):
        if _counted(run, store, external_id, outcome):
            taken.append(incoming.updated_at)
    return taken


def _counted(run: SyncRun, store: Store, external_id: str, outcome) -> bool:
    """Count one order's outcome (new, updated, unchanged, or the refusal) in the run."""
    if isinstance(outcome, DomainError):
        _count_failure(run, external_id, outcome.message)
        return False
    if isinstance(outcome, Exception):
        logger.error("Store %s order %s could not be taken in", store.pk, external_id, exc_info=outcome)
        _count_failure(run, external_id, f"Unexpected problem: {type(outcome).__name__}: {outcome}"[:300])
        return False
    setattr(run, f"{outcome}_count", getattr(run, f"{outcome}_count") + 1)
    return True


def apply_incoming_orders(store: Store, incomings: list[IncomingOrder], *, notify: bool) -> list:
    """apply_incoming_order for many orders of one store: the new paid ones recorded together
    (orders.actions.record_orders, one transaction), the rest one at a time. Returns, for each
    order, its outcome (new, updated, unchanged) or the exception that refused it."""
    outcomes: list = [None] * len(incomings)
    one_by_one: list[int] = []
    try:
        with transaction.atomic():
            one_by_one = _record_new_together(store, incomings, outcomes, notify=notify)
    except DatabaseError:
        logger.exception(
            "Store %s: a batch of %s orders failed; taking them one at a time", store.pk, len(incomings)
        )
        outcomes = [None] * len(incomings)
        one_by_one = list(range(len(incomings)))
    for index in one_by_one:
        try:
            outcomes[index] = apply_incoming_order(store, incomings[index], notify=notify)
        except (DomainError, DatabaseError, KeyError, TypeError, ValueError, AttributeError) as refusal:
            outcomes[index] = refusal
    return outcomes


def _record_new_together(
    store: Store, incomings: list[IncomingOrder], outcomes: list, *, notify: bool
) -> list[int]:
    """Inside a transaction: settle what needs no single-path work (new paid orders, recorded
    together; unchanged ones; unpaid new ones), filling `outcomes`; returns the positions left
    for apply_incoming_order (changes to orders already here, a store order twice in the batch)."""
    # The same lock apply_incoming_order and record_order take, first, for the same reasons.
    lock_merchant(store.merchant_id)
    # Ids no column can hold are left to record_orders to refuse, not sent to the database.
    external_ids = {
        incoming.external_id
        for incoming in incomings
        if len(incoming.external_id) <= order_actions.MAX_EXTERNAL_ID_LENGTH
        and "\x00" not in incoming.external_id
    }
    # The store's digest of each order already linked, and orders recorded before links existed.
    fingerprints_here = dict(
        batch_reads.values_where_any(
            StoreOrderLink,
            ["external_id", "fingerprint"],
            column="external_id",
            any_of=external_ids,
            equal={"store_id": store.pk},
        )
    )
    without_link = {
        external_id
        for (external_id,) in batch_reads.values_where_any(
            Order,
            ["external_id"],
            column="external_id",
            any_of=external_ids - set(fingerprints_here),
            equal={"store_id": store.pk},
        )
    }
    left, fresh, seen = [], [], set()
    # Each order's digest, made once (it hashes the whole order).
    fingerprints = [incoming.fingerprint for incoming in incomings]
    for index, incoming in enumerate(incomings):
        if incoming.currency and incoming.currency != store.merchant.currency:
            outcomes[index] = MalformedStoreOrder(
                f"The order is in {incoming.currency}, but the shop keeps its books in {store.merchant.currency}."
            )
            continue
        fingerprint_here = fingerprints_here.get(incoming.external_id)
        if fingerprint_here is not None and fingerprint_here == fingerprints[index]:
            outcomes[index] = Outcome.UNCHANGED
        elif (
            fingerprint_here is not None
            or incoming.external_id in without_link
            or incoming.external_id in seen
        ):
            left.append(index)
        elif incoming.standing != IncomingOrder.Standing.PAID:
            # Unpaid orders enter when paid; fulfilled or cancelled ones never needed us.
            outcomes[index] = Outcome.UNCHANGED
        else:
            seen.add(incoming.external_id)
            fresh.append(index)
    if not fresh:
        return left
    recorded = order_actions.record_orders(
        # SKUs are matched (products created) for the orders recorded only: a refused one leaves nothing.
        [_new_order(store, incomings[index], {}) for index in fresh],
        by=sync_actor(store),
        payment_confirmed=True,
        notify=notify,
        match_skus=True,
    )
    new_links = []
    for index, result in zip(fresh, recorded, strict=True):
        if result.refusal is not None:
            refusal = result.refusal
            outcomes[index] = (
                MalformedStoreOrder(refusal.message) if isinstance(refusal, DuplicateOrder) else refusal
            )
            continue
        outcomes[index] = Outcome.NEW
        new_links.append(
            (store.merchant_id, store.pk, incomings[index].external_id, result.order.pk, fingerprints[index])
        )
    insert_values(
        StoreOrderLink,
        ("merchant_id", "store_id", "external_id", "order_id", "fingerprint"),
        new_links,
        bulk=True,
    )
    return left


def _raw_external_id(raw) -> str:
    return str(raw.get("legacyResourceId") or raw.get("id") or "?") if isinstance(raw, dict) else "?"


def _in_a_thread_of_this_process() -> bool:
    """Without a Celery broker, store jobs run in a thread of this process (STORE_BACKGROUND_THREAD),
    never inline in the request that asked for them."""
    from orderdesk.celery import app

    return bool(app.conf.task_always_eager and settings.STORE_BACKGROUND_THREAD)


def _count_failure(run: SyncRun, external_id: str, reason: str) -> None:
    run.failed_count += 1
    if len(run.failures) < 200:
        run.failures.append({"external_id": external_id[:100], "reason": reason})


def _end_run(run: SyncRun, *, error: str = "") -> None:
    run.outcome = SyncRun.Outcome.FAILED if error else SyncRun.Outcome.DONE
    run.error = error
    run.finished_at = timezone.now()
    run.save()
    _refresh_statistics_after_a_large_import(run)


# A shop's first large import can hold most of its orders while PostgreSQL's statistics, taken
# before it, still say the shop has none: the planner then walks all the shop's rows for a
# lookup another index answers at once (its orders of one phone at 78 ms, a reference check
# under the shop's lock at 82 ms, after 300,000 orders). Autovacuum re-analyzes only when a
# tenth of a table has changed, which one shop among many may never reach; PostgreSQL's manual
# advises an ANALYZE after a bulk load, so a run that took this many orders in analyzes what it
# filled.
ANALYZE_AFTER_NEW_ORDERS = 10_000


def _refresh_statistics_after_a_large_import(run: SyncRun) -> None:
    if run.new_count < ANALYZE_AFTER_NEW_ORDERS or connection.vendor != "postgresql":
        return
    tables = ", ".join(
        connection.ops.quote_name(model._meta.db_table)
        for model in (Order, OrderLine, OrderEvent, Customer, StoreOrderLink)
    )
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {tables}")


def mark_connection_broken(store: Store, *, reason: str, tell_owner: bool = True) -> bool:
    """Mark the store's credentials refused; True the first time, when the owners are emailed
    (unless `tell_owner` is off: the owner is looking at the refusal on the page already)."""
    with transaction.atomic():
        locked = Store.objects.select_for_update().get(pk=store.pk)
        first_time = locked.broken_since is None
        locked.connection_state = Store.ConnectionState.BROKEN
        locked.last_sync_error = reason
        if first_time:
            locked.broken_since = timezone.now()
        locked.save(update_fields=["connection_state", "last_sync_error", "broken_since"])
        if first_time and tell_owner:
            queue_connection_broken(locked)
    if first_time:
        logger.warning("Store %s (%s) refused our credentials: %s", store.pk, store.name, reason)
    return first_time


def prune_sync_log(*, now: datetime.datetime | None = None) -> int:
    """Forget sync runs and processed webhook deliveries older than 30 days."""
    cutoff = (now or timezone.now()) - datetime.timedelta(days=SYNC_LOG_DAYS)
    removed, _ = SyncRun.objects.filter(started_at__lt=cutoff).delete()
    gone, _ = (
        InboundDelivery.objects.filter(received_at__lt=cutoff)
        .exclude(outcome=InboundDelivery.Outcome.RECEIVED)
        .delete()
    )
    return removed + gone


def poll_all_stores(*, only_due: bool = False) -> int:
    """The periodic poll: every active, connected store with credentials; and webhook
    deliveries left unprocessed (the process stopped after storing one) are taken in.

    `only_due` polls only the stores not synced in the last STORE_POLL_MINUTES (for a loop or
    cron that runs every minute without Celery beat)."""
    stuck = InboundDelivery.objects.filter(
        outcome=InboundDelivery.Outcome.RECEIVED,
        store__is_active=True,
        received_at__lt=timezone.now() - datetime.timedelta(minutes=1),
    )
    for delivery_id in stuck.order_by("received_at", "pk").values_list("pk", flat=True)[:500]:
        process_delivery(delivery_id)
    polled = 0
    stores = Store.objects.filter(
        channel__in=[Store.Channel.SHOPIFY, Store.Channel.WOOCOMMERCE], is_active=True, removed_at=None
    ).exclude(connection_state=Store.ConnectionState.BROKEN)
    # A store without credentials (the demo data's) has nothing to poll with.
    stores = stores.exclude(credentials_encrypted="")
    if only_due:
        due = timezone.now() - datetime.timedelta(minutes=settings.STORE_POLL_MINUTES)
        stores = stores.filter(Q(last_synced_at=None) | Q(last_synced_at__lte=due)).exclude(
            sync_runs__outcome=SyncRun.Outcome.RUNNING
        )
    for store_id in stores.values_list("pk", flat=True):
        try:
            sync_store(store_id, kind=SyncRun.Kind.POLL)
            polled += 1
        except DomainError:
            logger.exception("Store %s could not be polled", store_id)
    return polled


# --- webhook deliveries ------------------------------------------------------------------


# Deliveries of one store a background job takes in together: its own and those waiting.
DELIVERY_BATCH = 200


def process_delivery(delivery_id: int) -> str:
    """Take in the order a stored webhook delivery carries, once; each delivery is logged as
    a sync run of its own. Returns the delivery's outcome.

    The other deliveries of its store still waiting (up to DELIVERY_BATCH, in the order they
    arrived) are taken in with it, through the batched path: a burst of webhooks is a few
    transactions of record_orders, not one of record_order each, and the jobs queued for
    the others find them done. Those are locked with SKIP LOCKED (a job taking them in
    already keeps them); only the job's own delivery is waited for, first, so no two jobs
    wait for each other.

    One transaction from the deliveries' locks to their outcomes: a worker that dies midway
    leaves them received (for the task's redelivery or the poll), never processed without
    their orders.
    """
    with transaction.atomic():
        delivery = (
            # Only the delivery row: joined rows locked too would be taken in no fixed order.
            InboundDelivery.objects.select_for_update(of=("self",))
            .select_related("store__merchant")
            .get(pk=delivery_id)
        )
        if delivery.outcome != InboundDelivery.Outcome.RECEIVED:
            return delivery.outcome
        if not delivery.store.is_active:
            # Kept as received: resuming the store takes it in.
            return delivery.outcome
        store = delivery.store
        waiting = list(
            InboundDelivery.objects.select_for_update(of=("self",), skip_locked=True)
            .filter(store=store, outcome=InboundDelivery.Outcome.RECEIVED)
            .exclude(pk=delivery.pk)
            .order_by("received_at", "pk")
            .only("pk", "topic", "body", "received_at")[: DELIVERY_BATCH - 1]
        )
        batch = sorted([delivery, *waiting], key=lambda d: (d.received_at, d.pk))
        _take_deliveries(store, batch)
    return delivery.outcome


def _take_deliveries(store: Store, deliveries: list[InboundDelivery]) -> None:
    """Inside the deliveries' transaction: their orders taken in together (notifying as live
    orders do), a sync run written for each, and each marked processed or failed."""
    parse = (
        shopify.order_from_webhook if store.channel == Store.Channel.SHOPIFY else woocommerce.order_from_json
    )
    started = timezone.now()
    runs = [
        SyncRun(merchant_id=store.merchant_id, store=store, kind=SyncRun.Kind.WEBHOOK, started_at=started)
        for _ in deliveries
    ]
    parsed: list[tuple[int, str, IncomingOrder]] = []
    for index, delivery in enumerate(deliveries):
        external_id = "?"
        try:
            payload = json.loads(delivery.body)
            external_id = _raw_external_id(payload)
            if (
                delivery.topic == "orders/cancelled"
                and isinstance(payload, dict)
                and not payload.get("cancelled_at")
            ):
                payload = {**payload, "cancelled_at": payload.get("updated_at") or timezone.now().isoformat()}
            parsed.append((index, external_id, parse(payload)))
        except DomainError as refusal:
            _count_failure(runs[index], external_id, refusal.message)
        except (KeyError, TypeError, ValueError, AttributeError) as broken:
            logger.exception("Store %s order %s could not be read", store.pk, external_id)
            _count_failure(
                runs[index], external_id, f"Unexpected problem: {type(broken).__name__}: {broken}"[:300]
            )
    outcomes = (
        apply_incoming_orders(store, [incoming for _, _, incoming in parsed], notify=True) if parsed else []
    )
    for (index, external_id, _), outcome in zip(parsed, outcomes, strict=True):
        _counted(runs[index], store, external_id, outcome)
    finished = timezone.now()
    for run in runs:
        run.outcome, run.finished_at = SyncRun.Outcome.DONE, finished
    SyncRun.objects.bulk_create(runs)
    for delivery, run in zip(deliveries, runs, strict=True):
        delivery.outcome = (
            InboundDelivery.Outcome.FAILED if run.failed_count else InboundDelivery.Outcome.PROCESSED
        )
        delivery.processed_at = finished
    for outcome in (InboundDelivery.Outcome.PROCESSED, InboundDelivery.Outcome.FAILED):
        ids = [delivery.pk for delivery in deliveries if delivery.outcome == outcome]
        if ids:
            InboundDelivery.objects.filter(pk__in=ids).update(outcome=outcome, processed_at=finished)


def process_after_commit(delivery_id: int) -> None:
    """Hand the delivery to the background job once the request's transaction commits."""

    def start() -> None:
        from .tasks import process_delivery_task

        if _in_a_thread_of_this_process():
            from orderdesk.background import STORE_WEBHOOKS, background_jobs

            background_jobs.submit(
                STORE_WEBHOOKS,
                lambda: process_delivery(delivery_id),
                about=f"store webhook delivery {delivery_id}",
            )
            return
        try:
            process_delivery_task.delay(delivery_id)
        except Exception:
            logger.exception(
                "Could not start processing webhook delivery %s; the poll will catch up.", delivery_id
            )

    transaction.on_commit(start, robust=True)
