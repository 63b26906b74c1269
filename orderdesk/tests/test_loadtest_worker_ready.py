"""The load test waits for its restarted Celery worker before stopping everything."""

import json
import threading
import time

from loadtest.run import wait_until_worker_ready


def celery_ready_line(worker: str) -> str:
    return json.dumps({"logger": "celery.apps.worker", "message": f"{worker}@vm ready."}) + "\n"


def test_the_first_worker_being_ready_does_not_count_for_the_restarted_one(tmp_path):
    log = tmp_path / "processes.log"
    log.write_text(celery_ready_line("loadtest-q-1") + celery_ready_line("loadtest-q-2"))

    assert wait_until_worker_ready(log, "loadtest-q-1b@", seconds=0) is False


def test_the_wait_ends_when_the_restarted_worker_says_it_is_ready(tmp_path):
    log = tmp_path / "processes.log"
    log.write_text(celery_ready_line("loadtest-q-1"))

    def worker_gets_ready_later():
        time.sleep(0.3)
        with log.open("a") as appended:
            appended.write("worker: importing Django…\n" + celery_ready_line("loadtest-q-1b"))

    threading.Thread(target=worker_gets_ready_later).start()

    assert wait_until_worker_ready(log, "loadtest-q-1b@", seconds=10) is True
