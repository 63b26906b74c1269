"""The bench's figures. Each one is a function returning a dict (a summary from stats.summarize
plus what it needs to say); `READ_FIGURES` and `WRITE_FIGURES` list them in report order, so a
new figure is one function and one line.
"""

from __future__ import annotations

import datetime
import http.client
import json as jsonlib
import os
import random
import secrets
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.db import connection
from django.template.loader import render_to_string
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import timezone

from orderdesk.accounts.actors import Actor
from orderdesk.orders import actions, queries
from orderdesk.orders import views as order_views
from orderdesk.orders.actions import CustomerDetails, LineInput, NewOrder
from orderdesk.orders.models import Order

from . import bulk, fill, ingest
from . import shipments as shipment_figures
from .stats import CountedQueries, percentile, summarize


@dataclass
class Bench:
    """What the figures share: the filled merchant, its owner signed in, how many requests each."""

    merchant: object
    owner: object
    requests: int
    orders: int
    writes_merchant: object = None
    writes_owner: object = None
    server_workers: int = 4
    clients: int = 8
    ingest_orders: int = 10_000

    def client(self) -> Client:
        client = Client(HTTP_X_FORWARDED_PROTO="https")  # with DEBUG off, plain http is redirected
        client.force_login(self.owner)
        return client


def timed(calls: list[Callable[[], object]], *, check: Callable[[object], None] | None = None) -> dict:
    """Run each call once (after one untimed warm-up call), timing it and counting its SQL."""
    warm = calls[0]()
    if check:
        check(warm)
    timings, counts = [], []
    for call in calls:
        with CountedQueries(connection) as captured:
            started = time.perf_counter()
            result = call()
            timings.append((time.perf_counter() - started) * 1000)
        if check:
            check(result)
        counts.append(captured.count)
    return summarize(timings, counts)


def answered_200(response) -> None:
    if response.status_code != 200:
        raise RuntimeError(f"{response.request['PATH_INFO']} answered {response.status_code}")


def _random_numbers(bench: Bench, seed: int) -> list[int]:
    rng = random.Random(seed)
    return [rng.randint(1, bench.orders) for _ in range(bench.requests)]


def _deep_cursors(bench: Bench, status: str, count: int) -> list[str]:
    """Real keyset cursors spread over the whole tab (the one the page before would hand out)."""
    tab = queries.orders_in_tab(bench.merchant, status).values_list("placed_at", "id")
    size = tab.count()
    cursors = []
    for k in range(1, count + 1):
        position = max(queries.PAGE_SIZE, size * k // (count + 1))
        placed_at, order_id = tab[position - 1]
        cursors.append(queries._write_cursor(placed_at, order_id))
    return cursors


# --- reads ------------------------------------------------------------------------------


def tracking_first_page(bench: Bench) -> dict:
    client, url = bench.client(), reverse("orders:tracking")
    calls = [lambda: client.get(url, {"status": "pending"})] * bench.requests
    return timed(calls, check=answered_200) | {"what": "Pending tab, first page (20 rows), full page"}


def tracking_show_more_deep(bench: Bench) -> dict:
    client, url = bench.client(), reverse("orders:tracking")
    cursors = _deep_cursors(bench, Order.Status.FULFILLED, 40)
    afters = [cursors[i % len(cursors)] for i in range(bench.requests)]
    calls = [
        (lambda after=after: client.get(url, {"status": "fulfilled", "after": after}, HTTP_HX_REQUEST="true"))
        for after in afters
    ]
    return timed(calls, check=answered_200) | {
        "what": "Fulfilled tab, Show more (20 rows) at 40 real keyset cursors spread over the whole tab"
    }


def tracking_show_more_50_rows(bench: Bench) -> dict:
    # The view's page is 20 rows; 50 are timed as the view would make them: query, then the rows partial.
    request = RequestFactory().get(reverse("orders:tracking"), HTTP_HX_REQUEST="true")
    request.user, request.merchant = bench.owner, bench.merchant
    request.actor = Actor.for_user(bench.owner)
    cursors = _deep_cursors(bench, Order.Status.FULFILLED, 40)

    def show_more(after):
        page = queries.order_tracking_page(
            bench.merchant, status=Order.Status.FULFILLED, after=after, size=50
        )
        choice = {"status": Order.Status.FULFILLED, "search": "", "sort": "newest", "after": after}
        rows = order_views.tracking_rows(
            request, page.orders, back_url="/orders/?status=fulfilled", placeable=False
        )
        context = {"page": page, "rows": rows, "choice": choice, "more_url": ""}
        return render_to_string("orders/_order_rows.html", context, request=request)

    afters = [cursors[i % len(cursors)] for i in range(bench.requests)]
    calls = [(lambda after=after: show_more(after)) for after in afters]
    return timed(calls) | {
        "what": "Fulfilled tab, 50 rows deep by keyset: query + rows partial (not the view)"
    }


def order_page(bench: Bench) -> dict:
    client = bench.client()
    shipped = Order.objects.for_merchant(bench.merchant).filter(
        status__in=[Order.Status.FULFILLED, Order.Status.DISPATCHED, Order.Status.CANCELLED]
    )
    references = [fill.reference_of(n) for n in _random_numbers(bench, 1)]
    ids = dict(shipped.filter(reference__in=references).values_list("reference", "id"))
    chosen = [ids[r] for r in references if r in ids]
    rng = random.Random(2)
    while len(chosen) < bench.requests:  # top up with other shipped orders, still all different
        chosen.append(ids[rng.choice(list(ids))] if ids else shipped.values_list("id", flat=True).first())
    calls = [
        (lambda order_id=order_id: client.get(reverse("orders:detail", args=[order_id])))
        for order_id in chosen
    ]
    return timed(calls, check=answered_200) | {
        "what": f"{len(set(chosen))} different orders with shipments, tracking events and timelines"
    }


def search_reference(bench: Bench) -> dict:
    client, url = bench.client(), reverse("orders:tracking")
    numbers = _random_numbers(bench, 3)
    calls = [(lambda n=n: client.get(url, {"q": fill.reference_of(n)})) for n in numbers]
    return timed(calls, check=answered_200) | {"what": "a whole reference, a different order each time"}


def search_phone(bench: Bench) -> dict:
    client, url = bench.client(), reverse("orders:tracking")
    numbers = _random_numbers(bench, 4)
    calls = [(lambda n=n: client.get(url, {"q": fill.phone_of(n)})) for n in numbers]
    return timed(calls, check=answered_200) | {
        "what": "a whole phone number (E.164), a different one each time"
    }


def search_common_name(bench: Bench) -> dict:
    client, url = bench.client(), reverse("orders:tracking")
    calls = [lambda: client.get(url, {"q": "Garcia"})] * bench.requests
    return timed(calls, check=answered_200) | {"what": "“Garcia”, in 1 order of 12; tab counts capped"}


def _api_tokens(owner, count: int, *, scope: str = "read") -> list[str]:
    """Fresh API keys of the owner's merchant (each stays under API_THROTTLE_RATE for its share)."""
    from orderdesk.api.actions import create_api_key

    actor = Actor.for_user(owner)
    return [create_api_key(by=actor, name=f"bench {k}", scope=scope).token for k in range(count)]


def api_pending_orders(bench: Bench) -> dict:
    # A key may make API_THROTTLE_RATE (1200/min by default) requests: one key per 1,000 requests.
    tokens = _api_tokens(bench.owner, bench.requests // 1000 + 1)
    clients = [
        Client(HTTP_AUTHORIZATION=f"Bearer {token}", HTTP_X_FORWARDED_PROTO="https") for token in tokens
    ]
    calls = [
        (lambda client=clients[n // 1000]: client.get("/api/v1/orders", {"status": "pending"}))
        for n in range(bench.requests)
    ]
    return timed(calls, check=answered_200) | {
        "what": "GET /api/v1/orders?status=pending, first page (50 orders), in this process"
    }


READ_FIGURES: list[tuple[str, Callable[[Bench], dict]]] = [
    ("Order Tracking first page", tracking_first_page),
    ("Show more deep (20 rows)", tracking_show_more_deep),
    ("Show more deep (50 rows)", tracking_show_more_50_rows),
    ("Order page", order_page),
    ("Search a reference", search_reference),
    ("Search a phone", search_phone),
    ("Search a common name", search_common_name),
    ("Vendor work list", shipment_figures.vendor_work_list),
    ("Shipping-status tabs", shipment_figures.shipping_status_tabs),
    ("API: pending orders", api_pending_orders),
]


# --- writes -----------------------------------------------------------------------------


def _paid_order(number: int) -> NewOrder:
    return NewOrder(
        customer=CustomerDetails(
            name="Liza Garcia", phone=f"+63918{number % 10_000_000:07d}", address="12 Mabini St, Makati"
        ),
        lines=[
            LineInput(title=title, sku=sku, quantity=1 + k % 2, unit_price=price)
            for k, (sku, title, price) in enumerate(fill.PRODUCTS[: fill.LINES_PER_ORDER])
        ],
        payment_method=Order.PaymentMethod.GCASH,
        shipping_option="J&T Express",
        shipping_fee=Decimal("120.00"),
    )


def place_paid_order(bench: Bench) -> dict:
    actor = Actor.for_user(bench.writes_owner)
    started, cpu_started = time.perf_counter(), time.process_time()
    calls = [(lambda n=n: actions.record_order(_paid_order(n), by=actor, payment_confirmed=True)) for n in range(bench.requests)]  # fmt: skip
    figure = timed(calls)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    return figure | {
        "what": "record_order(payment_confirmed=True), 3 lines, one after another, in this process "
        "(its messages delivered by this process's delivery thread meanwhile, as without Celery)",
        "per_second": round((bench.requests + 1) / seconds, 1),
        # This process's CPU per order (the delivery thread's included): less inflated by a busy machine.
        "cpu_ms_per_order": round(cpu * 1000 / (bench.requests + 1), 2),
    }


# Writer processes of "Place a paid order (4 writers)": what a busy shop's two cores see.
ORDER_WRITERS = 4


def place_paid_orders_concurrently(bench: Bench) -> dict:
    """The same paid orders as "Place a paid order", from ORDER_WRITERS processes at once (forked
    from this one, each with its own connection), all for the one bench merchant, whose row lock
    hands out order numbers one at a time. PostgreSQL only: SQLite takes one writer at a time."""
    import multiprocessing

    from django.db import connections

    if connection.vendor != "postgresql":
        return {"skipped": "PostgreSQL only (SQLite takes one writer at a time)"}
    per_writer = max(1, bench.requests // ORDER_WRITERS)
    connections.close_all()  # each child opens its own; none inherits this one's socket
    context = multiprocessing.get_context("fork")
    results, start = context.Queue(), context.Event()
    writers = [
        context.Process(
            target=_write_paid_orders,
            args=(bench.writes_owner.pk, 5_000_000 + k * 100_000, per_writer, start, results),
        )
        for k in range(ORDER_WRITERS)
    ]
    for writer in writers:
        writer.start()
    time.sleep(1)  # every writer has connected and placed its untimed first order
    started = time.perf_counter()
    start.set()
    done = [results.get(timeout=600) for _ in writers]
    seconds = time.perf_counter() - started
    for writer in writers:
        writer.join(timeout=60)
    failures = [f for d in done for f in d["failures"]]
    timings = [t for d in done for t in d["timings"]]
    if not timings:
        return {"error": "no order placed", "failures_sample": failures[:5]}
    return summarize(timings, [s for d in done for s in d["sql"]]) | {
        "what": f"record_order(payment_confirmed=True), 3 lines, {ORDER_WRITERS} processes at once, "
        f"{per_writer} orders each, one merchant",
        "per_second": round(len(timings) / seconds, 1),
        # The writers' own CPU per order (PostgreSQL's is on top, on the same two cores).
        "cpu_ms_per_order": round(sum(d["cpu"] for d in done) * 1000 / len(timings), 2),
        "failed": len(failures),
        "failures_sample": failures[:5],
    }


def _write_paid_orders(owner_pk: int, first: int, count: int, start, results) -> None:
    """One writer process of place_paid_orders_concurrently: its timings, SQL counts and CPU."""
    from django.db import connections

    from orderdesk.accounts.models import User

    timings, counts, failures, cpu = [], [], [], 0.0
    try:
        actor = Actor.for_user(User.objects.get(pk=owner_pk))
        actions.record_order(_paid_order(first + count), by=actor, payment_confirmed=True)  # warm
        start.wait(timeout=120)
        cpu_started = time.process_time()
        for n in range(first, first + count):
            with CountedQueries(connection) as captured:
                began = time.perf_counter()
                try:
                    actions.record_order(_paid_order(n), by=actor, payment_confirmed=True)
                except Exception as error:  # counted, not raised: the figure says how many failed
                    failures.append(repr(error))
                    continue
                timings.append((time.perf_counter() - began) * 1000)
            counts.append(captured.count)
        cpu = time.process_time() - cpu_started
    except Exception as error:
        failures.append(repr(error))
    finally:
        results.put({"timings": timings, "sql": counts, "failures": failures, "cpu": cpu})
        connections.close_all()


# Orders dispatched and fulfilled over HTTP at least (2 POSTs each): long enough to outlast warm-up.
TRANSITION_ORDERS = 500


def transitions_over_http(bench: Bench) -> dict:
    """Dispatch then fulfil, each order once, from `clients` threads against gunicorn on loopback:
    the transitions per second, and the CPU each one cost the web workers, PostgreSQL's backends
    and this load generator (read from /proc around the run, so a busy machine shows as such)."""
    from orderdesk.background import background_jobs

    actor = Actor.for_user(bench.writes_owner)
    count = max(bench.requests // 2, TRANSITION_ORDERS)
    pending = []
    for start in range(0, count, 200):  # the batched write path: the orders exist in seconds
        batch = [_paid_order(1_000_000 + n) for n in range(start, min(count, start + 200))]
        pending += [r.order.pk for r in actions.record_orders(batch, by=actor, payment_confirmed=True)]
    sql_per_post = _sql_per_transition(bench)
    # Their "paid" messages are composed by this process's delivery thread: done before timing.
    background_jobs.wait_until_idle(300)
    client = Client()
    client.force_login(bench.writes_owner)
    session_cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    csrf = secrets.token_hex(16)  # 32 characters: a valid unmasked token when sent as cookie and header
    expected_on = (timezone.localdate() + datetime.timedelta(days=3)).isoformat()
    headers = {
        "Cookie": f"{settings.SESSION_COOKIE_NAME}={session_cookie}; {settings.CSRF_COOKIE_NAME}={csrf}",
        "X-CSRFToken": csrf,
        "X-Forwarded-Proto": "https",
        "Content-Type": "application/x-www-form-urlencoded",
    }
    # Each order's two POSTs, built before timing: a client thread only sends and reads.
    jobs = [
        [
            (
                f"/orders/{order_id}/dispatch/",
                urlencode({"delivery_reference": f"JT{order_id}", "expected_on": expected_on}).encode(),
            ),
            (f"/orders/{order_id}/fulfill/", b"remarks="),
        ]  # fmt: skip
        for order_id in pending
    ]
    cpu: dict = {}
    server = _gunicorn(workers=bench.server_workers)
    with server:
        headers["Referer"] = server.base.replace("http://", "https://") + "/orders/"

        def post_both(session, posts):
            for path, body in posts:
                answer = session.post(server.base + path, data=body)
                if answer.status_code not in (302, 303):
                    return answer
            return answer

        timings, failures, seconds = posts_from_clients(
            bench.clients,
            jobs,
            post_both,
            expected_status=302,
            headers=headers,
            cpu=cpu,
            server=server,
        )
    fulfilled = Order.objects.filter(pk__in=pending, status=Order.Status.FULFILLED).count()
    if not timings:
        return {"error": "no POST answered", "failures_sample": failures[:5]}
    transitions = 2 * len(pending)
    return (
        summarize(timings, [])
        | {
            "what": f"dispatch + fulfil of {len(pending)} orders ({transitions} POSTs), {bench.clients} clients "
            f"(http.client keep-alive threads), gunicorn {server.describe()}",
            "per_second": round(transitions / seconds, 1),
            "failed_posts": len(failures),
            "failures_sample": failures[:5],
            "lost_updates": len(pending) - fulfilled if not failures else None,
            "sql_per_dispatch": sql_per_post["dispatch"],
            "sql_per_fulfil": sql_per_post["fulfil"],
        }
        | _cpu_per(cpu, transitions, "transition")
    )


def posts_from_clients(
    clients: int,
    jobs: list,
    post: Callable,
    *,
    expected_status: int,
    headers: dict,
    cpu: dict | None = None,
    server: _gunicorn | None = None,
) -> tuple[list[float], list[str], float]:
    """`post(session, job)` for every job, from `clients` threads at once (each with a session
    sending `headers`): each answer's time in ms, the failures, and the seconds it all took.

    A session is one keep-alive http.client connection (`session.post(url, data=…|json=…,
    headers=…)` answers `.status_code` and `.text`), so the load generator costs little CPU
    beside the server on the same cores. `post` may send several requests (each is timed) and
    return the answer to check. With `cpu`, it receives the CPU seconds the client threads used
    (`client_s`) and, with `server`, the web workers' and their database backends'
    (`web_s`, `database_s`) during the run, and the machine's load (`load_before`, `load_after`)."""
    queue, lock = list(jobs), threading.Lock()
    timings: list[float] = []
    failures: list[str] = []
    client_seconds: list[float] = []

    def work() -> None:
        cpu_started = time.thread_time()
        session = _Session(headers, timings)
        while True:
            with lock:
                if not queue:
                    break
                job = queue.pop()
            try:
                answer = post(session, job)
            except (OSError, http.client.HTTPException) as error:
                session.close()
                with lock:
                    failures.append(repr(error))
                continue
            if answer.status_code != expected_status:
                with lock:
                    failures.append(f"{answer.status_code} {answer.text[:200]}")
        session.close()
        with lock:
            client_seconds.append(time.thread_time() - cpu_started)

    threads = [threading.Thread(target=work) for _ in range(clients)]
    load_before = os.getloadavg()[0]
    server_before = None
    if server is not None:
        server.watch_database()
        server_before = server.cpu_seconds()
    done = threading.Event()

    def sample() -> None:
        try:
            server.sample_database()  # first: this thread's own backend is known as the bench's
            while not done.wait(0.1):
                server.sample_database()
        finally:
            connection.close()

    sampler = (
        threading.Thread(target=sample) if server is not None and connection.vendor == "postgresql" else None
    )
    started = time.perf_counter()
    for thread in threads + ([sampler] if sampler else []):
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - started
    done.set()
    if sampler:
        sampler.join()
    if cpu is not None:
        cpu.update(client_s=sum(client_seconds), load_before=load_before, load_after=os.getloadavg()[0])
        if server_before is not None:
            server_after = server.cpu_seconds()
            cpu.update({name: server_after[name] - server_before[name] for name in server_after})
    return timings, failures, seconds


class _Answer:
    def __init__(self, status_code: int, content: bytes):
        self.status_code, self.content = status_code, content

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", "replace")


class _Session:
    """One HTTP/1.1 connection (http.client), kept alive while the server keeps it and opened
    again when it closes it; every request's time is appended to `timings` (ms)."""

    def __init__(self, headers: dict, timings: list[float]):
        self.headers, self.timings = dict(headers), timings
        self.connection: http.client.HTTPConnection | None = None

    def post(
        self, url: str, *, data=None, json=None, headers: dict | None = None, timeout: float = 120
    ) -> _Answer:
        parts = urlsplit(url)
        if self.connection is None:
            self.connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
        if json is not None:
            body = jsonlib.dumps(json).encode()
            sent = {"Content-Type": "application/json", **self.headers, **(headers or {})}
        else:
            body = urlencode(data).encode() if isinstance(data, dict) else data
            body = body.encode() if isinstance(body, str) else (body or b"")
            sent = {**self.headers, **(headers or {})}
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        started = time.perf_counter()
        try:
            self.connection.request("POST", path, body=body, headers=sent)
            response = self.connection.getresponse()
            content = response.read()
        except (OSError, http.client.HTTPException):
            self.close()
            raise
        self.timings.append((time.perf_counter() - started) * 1000)
        if response.will_close:
            self.close()
        return _Answer(response.status, content)

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()
            self.connection = None


def _cpu_per(cpu: dict, count: int, what: str) -> dict:
    """The CPU a run took, per `what`, in ms: web workers, database backends, the client."""
    per = {f"cpu_ms_per_{what}_{name}": round(cpu[f"{name}_s"] * 1000 / count, 2) for name in ("web", "database", "client") if f"{name}_s" in cpu}  # fmt: skip
    return per | {
        "load_before": round(cpu.get("load_before", 0), 2),
        "load_after": round(cpu.get("load_after", 0), 2),
    }


def _api_order_body(number: int) -> dict:
    return {
        "customer": {
            "name": "Liza Garcia",
            "phone": f"+63918{number % 10_000_000:07d}",
            "address": "12 Mabini St",
        },
        "lines": [
            {"title": title, "sku": sku, "quantity": 1 + k % 2, "unit_price": str(price)}
            for k, (sku, title, price) in enumerate(fill.PRODUCTS[: fill.LINES_PER_ORDER])
        ],
        "payment_method": "gcash",
        "shipping_option": "J&T Express",
        "shipping_fee": "120.00",
    }


def api_create_orders_over_http(bench: Bench) -> dict:
    """POST /api/v1/orders (3 lines, each with its own Idempotency-Key) from `clients` threads
    against gunicorn on loopback."""

    [token] = _api_tokens(bench.writes_owner, 1, scope="read_write")
    sql_per_post = _sql_per_api_create(bench)
    before = Order.objects.for_merchant(bench.writes_merchant).count()
    numbers = list(range(3_000_000, 3_000_000 + bench.requests))
    with _gunicorn(workers=bench.server_workers) as base:

        def post(session, number):
            return session.post(
                base + "/api/v1/orders",
                json=_api_order_body(number),
                headers={"Idempotency-Key": f"bench-{number}-{secrets.token_hex(4)}"},
                timeout=120,
            )

        timings, failures, seconds = posts_from_clients(
            bench.clients,
            numbers,
            post,
            expected_status=201,
            headers={"Authorization": f"Bearer {token}", "X-Forwarded-Proto": "https"},
        )
    made = Order.objects.for_merchant(bench.writes_merchant).count() - before
    if not timings:
        return {"error": "no POST answered", "failures_sample": failures[:5]}
    return summarize(timings, [sql_per_post] * len(timings)) | {
        "what": f"POST /api/v1/orders, 3 lines, {len(numbers)} orders, {bench.clients} clients, "
        f"gunicorn {bench.server_workers} workers",
        "per_second": round(made / seconds, 1),
        "failed_posts": len(failures),
        "failures_sample": failures[:5],
        "orders_made": made,
    }


def _sql_per_api_create(bench: Bench) -> int:
    """SQL statements of one POST, counted in this process on a key's second POST: the first
    also notes when the key was last used, which a key then writes once a minute."""
    [token] = _api_tokens(bench.writes_owner, 1, scope="read_write")
    client = Client(HTTP_AUTHORIZATION=f"Bearer {token}", HTTP_X_FORWARDED_PROTO="https")
    for number in (2_999_998, 2_999_999):
        with CountedQueries(connection) as captured:
            answer = client.post(
                "/api/v1/orders",
                _api_order_body(number),
                content_type="application/json",
                HTTP_IDEMPOTENCY_KEY=f"sql-{number}",
            )
        if answer.status_code != 201:
            raise RuntimeError(f"POST /api/v1/orders answered {answer.status_code}: {answer.content[:200]!r}")
    return captured.count


def _sql_per_transition(bench: Bench) -> dict:
    """SQL statements of one dispatch POST and one fulfil POST, counted in this process on a
    second order (the first order's pair warms up what a running server has already read once)."""
    actor = Actor.for_user(bench.writes_owner)
    client = Client(HTTP_X_FORWARDED_PROTO="https")
    client.force_login(bench.writes_owner)
    expected_on = (timezone.localdate() + datetime.timedelta(days=3)).isoformat()
    counted = {}
    for number in (2_000_000, 2_000_001):
        order = actions.record_order(_paid_order(number), by=actor, payment_confirmed=True)
        for name, path, data in (
            ("dispatch", reverse("orders:dispatch", args=[order.pk]), {"delivery_reference": "JT1", "expected_on": expected_on}),
            ("fulfil", reverse("orders:fulfill", args=[order.pk]), {"remarks": ""}),
        ):  # fmt: skip
            with CountedQueries(connection) as captured:
                answer = client.post(path, data)
            if answer.status_code not in (200, 302, 303):
                raise RuntimeError(f"{path} answered {answer.status_code}")
            counted[name] = captured.count
    return counted


class _gunicorn:
    """gunicorn serving this project on a free loopback port, for the length of a `with`, with the
    production settings (deploy/gunicorn.conf.py: WEB_THREADS threads per worker, keep-alive) but
    `workers` processes and, when given, `threads`."""

    def __init__(self, *, workers: int, env: dict | None = None, threads: int | None = None):
        self.workers = workers
        self.threads = threads if threads is not None else settings.WEB_THREADS
        self.extra_env = env or {}
        self.base = ""

    def describe(self) -> str:
        kind = f"gthread, {self.threads} threads each" if self.threads > 1 else "sync"
        return f"{self.workers} workers ({kind}, production config)"

    def __enter__(self) -> str:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        self.log = tempfile.NamedTemporaryFile("w+", prefix="bench-gunicorn-", suffix=".log", delete=False)
        env = dict(os.environ, SMS_BACKEND="file", SMS_FILE_PATH=tempfile.mkdtemp(prefix="bench-sms-"))
        env["EMAIL_URL"] = "memorymail://"
        # The API figure measures throughput, not the per-key throttle.
        env["API_THROTTLE_RATE"] = "1000000/min"
        env["WEB_CONCURRENCY"], env["WEB_THREADS"] = str(self.workers), str(self.threads)
        env.update(self.extra_env)
        self.process = subprocess.Popen(
            [
                sys.executable, "-m", "gunicorn", "orderdesk.wsgi",
                "--config", str(Path(settings.BASE_DIR) / "deploy" / "gunicorn.conf.py"),
                "--bind", f"127.0.0.1:{port}", "--log-level", "warning",
            ],
            cwd=settings.BASE_DIR, env=env, stdout=self.log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        base = self.base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn stopped; see {self.log.name}")
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    pass
            except OSError:
                time.sleep(0.2)
                continue
            self._warm_up(base)
            return base
        raise RuntimeError("gunicorn did not start in 60 s")

    def _warm_up(self, base: str) -> None:
        """A few untimed requests, so every worker has opened its database connection."""
        parts = urlsplit(base)
        for _ in range(self.workers * self.threads * 2):
            connection_ = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
            connection_.request("GET", "/accounts/login/", headers={"X-Forwarded-Proto": "https"})
            connection_.getresponse().read()
            connection_.close()

    def cpu_seconds(self) -> dict:
        """CPU seconds used so far by gunicorn (master and workers: `web_s`) and, on PostgreSQL,
        since watch_database() by the server backends of every other connection to this database
        (`database_s`: the workers' and their background threads'), as last sampled."""
        seconds = {"web_s": sum(_cpu_of(pid) for pid in _process_family(self.process.pid))}
        if connection.vendor == "postgresql":
            self.sample_database()
            seconds["database_s"] = self.database_seconds()
        return seconds

    def watch_database(self) -> None:
        """Start counting the database backends' CPU: those open now from here on, those opened
        later whole (a background thread's connection comes and goes: sample_database() often).
        The bench's own connections (this thread's, the sampler's) are never counted: seen later
        from another thread, one would count whole, with every earlier figure's work in it."""
        self._backends: dict[int, list[float]] = {}
        self._ours: set[int] = set()
        if connection.vendor == "postgresql":
            self.sample_database(first=True)

    def database_seconds(self) -> float:
        return sum(last - first for first, last in self._backends.values())

    def sample_database(self, *, first: bool = False) -> None:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pid, pid = pg_backend_pid() FROM pg_stat_activity "
                "WHERE datname = current_database() AND backend_type = 'client backend'"
            )
            rows = cursor.fetchall()
        self._ours.update(pid for pid, ours in rows if ours)
        backends = [pid for pid, _ in rows if pid not in self._ours]
        for pid in backends:
            used = _cpu_of(pid)
            seen = self._backends.setdefault(pid, [used if first else 0.0, used])
            seen[1] = max(seen[1], used)

    def __exit__(self, *exc) -> None:
        stop_process(self.process)
        self.log.close()


def _process_family(root: int) -> list[int]:
    """`root` and its descendants, from /proc (empty where there is no /proc)."""
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc") if os.path.isdir("/proc") else ():
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    parents[int(entry)] = int(stat.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
    family, frontier = [root], [root]
    while frontier:
        frontier = [pid for pid, parent in parents.items() if parent in frontier]
        family += frontier
    return family


def _cpu_of(pid: int) -> float:
    """User + system CPU seconds of one process (all its threads) so far; 0 if it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def stop_process(process: subprocess.Popen) -> None:
    """SIGTERM, and SIGKILL after 30 s if it has not stopped by then."""
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()


def _eight_megapixel_jpeg(seed: int) -> bytes:
    """A 3264 × 2448 phone-camera-sized JPEG (about 2 MB): noise over gradients, so it
    compresses as a photo does rather than as a flat colour."""
    import io

    from PIL import Image, ImageFilter

    rng = random.Random(seed)
    width, height = 3264, 2448
    small = Image.frombytes("RGB", (width // 8, height // 8), rng.randbytes(width // 8 * height // 8 * 3))
    image = small.filter(ImageFilter.GaussianBlur(2)).resize((width, height), Image.Resampling.BILINEAR)
    noise = Image.effect_noise((width, height), 24).convert("RGB")
    image = Image.blend(image, noise, 0.25)
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def dispatch_photo(bench: Bench) -> dict:
    """One 8-megapixel JPEG checked and re-encoded as a dispatch's photo is (prepare_photo), in
    this process; 4 different generated photos taken in turn. No database."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from orderdesk.photos.actions import prepare_photo

    photos = [_eight_megapixel_jpeg(seed) for seed in range(4)]
    cpu = []

    def prepared(n: int):
        started = time.process_time()
        result = prepare_photo(SimpleUploadedFile(f"parcel-{n}.jpg", photos[n % 4], "image/jpeg"))
        cpu.append((time.process_time() - started) * 1000)
        return result

    calls = [(lambda n=n: prepared(n)) for n in range(bench.requests)]
    figure = timed(calls)
    return figure | {
        "what": f"prepare_photo of a generated 3264 × 2448 JPEG ({len(photos[0]) / 1e6:.1f}–"
        f"{max(len(p) for p in photos) / 1e6:.1f} MB), {bench.requests} times",
        "cpu_p50_ms": round(percentile(cpu[1:], 50), 1),
        "cpu_p95_ms": round(percentile(cpu[1:], 95), 1),
    }


WRITE_FIGURES: list[tuple[str, Callable[[Bench], dict]]] = [
    ("Dispatch photo (8 MP JPEG)", dispatch_photo),
    ("Place a paid order", place_paid_order),
    ("Place a paid order (4 writers)", place_paid_orders_concurrently),
    ("Auto-allocation (2 vendors)", shipment_figures.auto_allocation),
    ("Backfill from Shopify", ingest.backfill_from_shopify),
    ("Backfill from Shopify (bulk)", bulk.backfill_from_shopify_bulk),
    ("CSV import", ingest.csv_import),
    ("Webhooks in over HTTP", ingest.webhooks_in_over_http),
    ("Dispatch + fulfil over HTTP", transitions_over_http),
    ("API: create orders over HTTP", api_create_orders_over_http),
]


# The Reports page and exports (issue 13).
from .report_figures import FIGURES as REPORT_FIGURES  # noqa: E402

READ_FIGURES += REPORT_FIGURES
