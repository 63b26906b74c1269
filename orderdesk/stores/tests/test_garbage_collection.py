"""While store orders are taken in, Python's collector passes less often (garbage_collection.py),
and the process's own thresholds are back once the last run ends, however it ends."""

import datetime
import gc
import threading

import pytest
from django.utils import timezone

from orderdesk.garbage_collection import YOUNG_THRESHOLD, fewer_collections
from orderdesk.stores.models import SyncRun
from orderdesk.stores.sync import sync_store

from .factories import shopify_store
from .peers import shopify_node

RECENT = (timezone.now() - datetime.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture
def default_thresholds():
    before = gc.get_threshold()
    gc.set_threshold(700, 10, 10)
    yield (700, 10, 10)
    gc.set_threshold(*before)


@pytest.mark.django_db
def test_a_backfill_takes_its_batches_in_with_fewer_collections_and_puts_the_thresholds_back(
    owner, shopify_double, default_thresholds
):
    shopify_double.orders = [shopify_node(n, createdAt=RECENT, updatedAt=RECENT) for n in range(1, 4)]
    store = shopify_store(owner, api_base_url=shopify_double.base_url)
    during = []
    run = sync_store(
        store.pk,
        kind=SyncRun.Kind.BACKFILL,
        progress=lambda r: during.append(gc.get_threshold()),
        sleep=lambda seconds: None,
    )
    assert run.new_count == 3
    assert during == [(YOUNG_THRESHOLD, 10, 10)]
    assert gc.get_threshold() == default_thresholds


@pytest.mark.django_db
def test_a_run_that_crashes_puts_the_thresholds_back(owner, shopify_double, default_thresholds):
    shopify_double.orders = [shopify_node(1, createdAt=RECENT, updatedAt=RECENT)]
    store = shopify_store(owner, api_base_url=shopify_double.base_url)

    def progress(run):
        raise RuntimeError("the worker was stopped")

    with pytest.raises(RuntimeError):
        sync_store(store.pk, kind=SyncRun.Kind.BACKFILL, progress=progress, sleep=lambda seconds: None)
    assert gc.get_threshold() == default_thresholds


def test_overlapping_runs_put_the_thresholds_back_when_the_last_one_ends(default_thresholds):
    first_in = threading.Event()
    first_may_leave = threading.Event()
    seen_by_first = []

    def first_run():
        with fewer_collections():
            first_in.set()
            first_may_leave.wait(5)
            seen_by_first.append(gc.get_threshold())

    thread = threading.Thread(target=first_run)
    thread.start()
    assert first_in.wait(5)
    with fewer_collections():
        assert gc.get_threshold()[0] == YOUNG_THRESHOLD
    # The second run ended first: the first one is still inside, with fewer collections.
    assert gc.get_threshold()[0] == YOUNG_THRESHOLD
    first_may_leave.set()
    thread.join(5)
    assert seen_by_first == [(YOUNG_THRESHOLD, 10, 10)]
    assert gc.get_threshold() == default_thresholds


def test_a_process_that_turned_the_collector_off_or_set_a_higher_threshold_keeps_it():
    before = gc.get_threshold()
    try:
        gc.set_threshold(0, 10, 10)
        with fewer_collections():
            assert gc.get_threshold() == (0, 10, 10)
        gc.set_threshold(YOUNG_THRESHOLD * 2, 10, 10)
        with fewer_collections():
            assert gc.get_threshold() == (YOUNG_THRESHOLD * 2, 10, 10)
        assert gc.get_threshold() == (YOUNG_THRESHOLD * 2, 10, 10)
    finally:
        gc.set_threshold(*before)
