"""SQLite's connection settings and the WAL checkpoints taken beside the requests (sqlite_checkpoints.py)."""

import shutil
import sqlite3
import threading

import pytest
from django.db import connection

from orderdesk import sqlite_checkpoints
from orderdesk.sqlite_checkpoints import WAL_PAGES, checkpoint

on_sqlite = pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's own settings")


@on_sqlite
@pytest.mark.django_db
def test_a_real_connection_runs_wal_with_normal_sync_and_checkpoints_itself_only_every_10000_pages():
    with connection.cursor() as cursor:
        pragmas = {
            name: cursor.execute(f"PRAGMA {name}").fetchone()[0]
            for name in ("journal_mode", "synchronous", "wal_autocheckpoint", "journal_size_limit")
        }
    # synchronous 1 is NORMAL: never below it (0 is OFF, which loses commits on a power cut).
    assert pragmas == {
        "journal_mode": "wal",
        "synchronous": 1,
        "wal_autocheckpoint": WAL_PAGES,
        "journal_size_limit": 64 * 1024 * 1024,
    }
    assert WAL_PAGES == 10_000  # settings.py spells it too


@on_sqlite
@pytest.mark.django_db
def test_a_connection_starts_the_checkpoint_thread_of_its_database():
    connection.ensure_connection()
    threads = [t for t in threading.enumerate() if t.name == "sqlite-checkpoints" and t.is_alive()]
    assert threads
    assert any(
        path.endswith(str(connection.settings_dict["NAME"])) for _, path in sqlite_checkpoints._threads
    )


def _database_with_uncheckpointed_rows(path, rows: int) -> sqlite3.Connection:
    writer = sqlite3.connect(path, isolation_level=None)
    writer.execute("PRAGMA journal_mode=WAL")
    writer.execute("PRAGMA wal_autocheckpoint=0")  # only the function under test copies
    writer.execute("CREATE TABLE shipment (id INTEGER PRIMARY KEY, note TEXT)")
    writer.executemany("INSERT INTO shipment (note) VALUES (?)", [(f"n{i}",) for i in range(rows)])
    return writer


def _rows_in_the_database_file_alone(path, tmp_path) -> int:
    # A copy of the main file without its -wal shows what a checkpoint has written into it.
    alone = tmp_path / f"alone-{len(list(tmp_path.iterdir()))}.sqlite3"  # a new one each look
    shutil.copyfile(path, alone)
    reader = sqlite3.connect(alone)
    try:
        return reader.execute("SELECT count(*) FROM shipment").fetchone()[0]
    except sqlite3.OperationalError:  # no such table: not even the CREATE was copied
        return 0
    finally:
        reader.close()


def test_a_checkpoint_copies_what_the_wal_gathered_into_the_database_file(tmp_path):
    path = str(tmp_path / "db.sqlite3")
    writer = _database_with_uncheckpointed_rows(path, 50)
    assert _rows_in_the_database_file_alone(path, tmp_path) == 0

    in_wal, copied = checkpoint(path)

    assert copied == in_wal > 0
    assert _rows_in_the_database_file_alone(path, tmp_path) == 50
    writer.close()


def test_a_checkpoint_does_not_wait_for_a_reader_and_the_next_copies_the_rest(tmp_path):
    path = str(tmp_path / "db.sqlite3")
    writer = _database_with_uncheckpointed_rows(path, 5)
    reader = sqlite3.connect(path, isolation_level=None)
    reader.execute("BEGIN")
    reader.execute("SELECT count(*) FROM shipment").fetchone()  # holds its snapshot
    writer.executemany("INSERT INTO shipment (note) VALUES (?)", [("later",)] * 5)

    in_wal, copied = checkpoint(path)
    assert copied < in_wal  # the pages newer than the reader's snapshot stay in the WAL

    reader.execute("COMMIT")
    in_wal, copied = checkpoint(path)
    assert copied == in_wal
    assert _rows_in_the_database_file_alone(path, tmp_path) == 10
    reader.close()
    writer.close()


def test_no_database_is_created_where_there_is_none(tmp_path):
    missing = tmp_path / "removed.sqlite3"
    assert checkpoint(str(missing)) is None

    (tmp_path / "removed.sqlite3-wal").write_bytes(b"")  # the WAL left behind, the database gone
    with pytest.raises(sqlite3.OperationalError):
        checkpoint(str(missing))
    assert not missing.exists()


def test_a_checkpoint_that_finds_the_database_busy_is_skipped_without_a_warning(tmp_path, caplog):
    path = str(tmp_path / "busy.sqlite3")
    writer = sqlite3.connect(path, isolation_level=None)
    writer.execute("PRAGMA journal_mode=WAL")
    writer.execute("CREATE TABLE t (x)")
    writer.execute("INSERT INTO t VALUES (1)")
    # An exclusive lock, as a checkpoint that restarts the WAL holds: ours cannot start.
    writer.execute("PRAGMA locking_mode=EXCLUSIVE")
    writer.execute("BEGIN EXCLUSIVE")
    writer.execute("INSERT INTO t VALUES (2)")
    try:
        with caplog.at_level("DEBUG", logger="orderdesk.sqlite_checkpoints"):
            sqlite_checkpoints.checkpoint_once(path)
    finally:
        writer.execute("COMMIT")
        writer.close()
    assert [record.levelname for record in caplog.records] == ["DEBUG"]
    assert "skipped" in caplog.records[0].getMessage()


def test_a_checkpoint_that_fails_otherwise_is_a_warning(tmp_path, caplog):
    not_a_database = tmp_path / "garbage.sqlite3"
    not_a_database.write_bytes(b"this is not a database file at all " * 200)
    (tmp_path / "garbage.sqlite3-wal").write_bytes(b"")
    with caplog.at_level("DEBUG", logger="orderdesk.sqlite_checkpoints"):
        sqlite_checkpoints.checkpoint_once(str(not_a_database))
    assert [record.levelname for record in caplog.records] == ["WARNING"]
