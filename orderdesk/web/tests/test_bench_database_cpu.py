"""The HTTP figures' database CPU is the server backends' of the web workers, never the bench's
own connections: seen from the sampler's thread, the bench's main connection used to count whole,
with every earlier figure's work in it (474 ms "per transition" after the backfills)."""

import threading

import pytest
from django.db import connection, connections

from orderdesk.web.benchmark.figures import _cpu_of, _gunicorn

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the backends' CPU is read on PostgreSQL only"
)


def busy(rows: int) -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM generate_series(1, %s)", [rows])
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


@pytest.mark.django_db(transaction=True)
def test_only_other_connections_backends_are_counted_never_the_benchs_own():
    ready, worked, release = threading.Event(), threading.Event(), threading.Event()
    other: dict = {}

    def web_worker() -> None:  # stands for a gunicorn worker's connection
        try:
            other["pid"] = busy(1)
            ready.set()
            other["pid"] = busy(2_000_000)
            worked.set()
            release.wait(30)
        finally:
            connections.close_all()

    worker = threading.Thread(target=web_worker)
    worker.start()
    try:
        assert ready.wait(30)
        main_pid = busy(1)
        server = _gunicorn(workers=1)
        server.watch_database()
        other_before = server._backends[other["pid"]][0]
        busy(3_000_000)  # the bench's own work: not the server's
        assert worked.wait(30)

        def sampler() -> None:
            try:
                server.sample_database()
            finally:
                connections.close_all()

        sampling = threading.Thread(target=sampler)
        sampling.start()
        sampling.join()
        server.sample_database()

        assert main_pid not in server._backends
        assert set(server._backends) == {other["pid"]}
        assert server.database_seconds() == pytest.approx(_cpu_of(other["pid"]) - other_before, abs=0.02)
        assert server.database_seconds() > 0
    finally:
        release.set()
        worker.join()
