"""A lane of the in-process runner keeps its database connection between jobs that come close
together (a busy server's messages), and gives it back once idle for BACKGROUND_IDLE_SECONDS."""

import threading
import time
from unittest import mock

from orderdesk import background
from orderdesk.background import BackgroundJobs


def test_a_lane_keeps_its_connection_while_busy_and_gives_it_back_when_idle(settings):
    settings.BACKGROUND_IDLE_SECONDS = 0.5
    closed = threading.Event()
    with mock.patch.object(background.connections, "close_all", side_effect=closed.set) as close_all:
        jobs = BackgroundJobs()
        for _ in range(3):
            jobs.submit("test-lane", lambda: None)
            assert jobs.wait_until_idle(5)
        assert close_all.call_count == 0  # jobs a moment apart share one connection
        assert closed.wait(5)  # then, idle for half a second, it is closed


def test_with_no_idle_time_the_connection_is_given_back_after_each_job(settings):
    settings.BACKGROUND_IDLE_SECONDS = 0
    with mock.patch.object(background.connections, "close_all") as close_all:
        jobs = BackgroundJobs()
        jobs.submit("test-lane", lambda: time.sleep(0.01))
        assert jobs.wait_until_idle(5)
        assert close_all.call_count == 1
