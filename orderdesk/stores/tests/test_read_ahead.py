"""read_ahead: a store's pages (or a file's chunks) produced by a thread of their own, a bounded
number ahead of the batches being written, with their errors raised where they belong."""

import threading
import time

import pytest

from orderdesk.stores.read_ahead import read_ahead


def _wait_until(condition, seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "the reading thread never got there"
        time.sleep(0.01)


def test_items_come_in_order_and_are_made_by_another_thread():
    makers = []

    def pages():
        for number in range(5):
            makers.append(threading.get_ident())
            yield number

    assert list(read_ahead(pages())) == [0, 1, 2, 3, 4]
    assert set(makers) != {threading.get_ident()} and len(set(makers)) == 1


def test_the_next_item_is_made_while_the_caller_works_on_this_one_but_no_further_than_depth():
    made = []

    def pages():
        for number in range(10):
            made.append(number)
            yield number

    items = read_ahead(pages(), depth=1)
    assert next(items) == 0
    # While the caller holds item 0: item 1 waits in the queue and item 2 is made, no more.
    _wait_until(lambda: len(made) == 3)
    time.sleep(0.3)
    assert made == [0, 1, 2]
    assert list(items) == list(range(1, 10))


def test_an_error_of_the_reading_thread_is_raised_in_the_caller_after_the_items_before_it():
    def pages():
        yield "first page"
        yield "second page"
        raise ValueError("the store hung up")

    taken = []
    with pytest.raises(ValueError, match="the store hung up"):
        for page in read_ahead(pages()):
            taken.append(page)
    assert taken == ["first page", "second page"]


def test_a_caller_that_stops_early_stops_the_thread_and_closes_the_pages():
    closed = threading.Event()
    made = []

    def pages():
        try:
            for number in range(1000):
                made.append(number)
                yield number
        finally:
            closed.set()

    items = read_ahead(pages(), depth=1)
    assert next(items) == 0
    items.close()
    assert closed.wait(5), "the pages were never closed"
    assert len(made) <= 3
