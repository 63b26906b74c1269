"""The embedded run's one runner of background jobs: lanes apart, a failure never stops a lane."""

import threading

from orderdesk.background import BackgroundJobs


def test_a_long_job_in_one_lane_never_holds_up_another_lane():
    jobs = BackgroundJobs()
    release, done = threading.Event(), threading.Event()
    jobs.submit("slow", lambda: release.wait(10))
    jobs.submit("quick", done.set)
    try:
        assert done.wait(5)
        assert not jobs.wait_until_idle(0.2, lanes=["slow"])
    finally:
        release.set()
    assert jobs.wait_until_idle(10)


def test_a_failing_job_is_logged_and_the_lane_runs_the_next(caplog):
    jobs = BackgroundJobs()
    ran = []

    def fails():
        raise RuntimeError("provider down")

    jobs.submit("lane", fails, about="a failing job")
    jobs.submit("lane", lambda: ran.append("next"))

    assert jobs.wait_until_idle(10)
    assert ran == ["next"]
    assert "a failing job" in caplog.text
