"""The load test: the Procfile's processes on loopback (gunicorn with 2 web processes, 2 Celery
workers, beat) on PostgreSQL and Redis; locust's users for a bounded time; one worker killed
and one web process restarted while they run; then the checker (loadtest/check.py).

    uv run python -m loadtest.run --seconds 120 --users 12        # make loadtest
    uv run python -m loadtest.run --seconds 40 --users 8 --orders 60   # the short one

It makes (and drops first) the database named in --database-url; the SMTP server, the SMS
provider (Twilio's API) and the Shopify API it talks to are doubles on loopback, in this
process. Exits 0 only when every check holds; the report goes to stdout and
artifacts/loadtest/report.json.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))

from deploy.procfile import environment, read_procfile, start  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=int, default=120, help="how long locust runs")
    parser.add_argument("--users", type=int, default=12, help="locust users at once")
    parser.add_argument("--orders", type=int, default=200, help="awaiting orders seeded for the merchants")
    parser.add_argument("--max-requests", type=int, default=20_000, help="requests at most, over all users")
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/orderdesk_loadtest")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/14")
    parser.add_argument("--out", default=str(PROJECT / "artifacts" / "loadtest"))
    parser.add_argument("--no-chaos", action="store_true", help="no worker killed, no web process restarted")
    parser.add_argument(
        "--keep-database",
        action="store_true",
        help="use the database as it is (already migrated) instead of anew",
    )
    options = parser.parse_args(argv)
    out = Path(options.out)
    out.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="orderdesk-loadtest-"))
    for host in (urlsplit(options.database_url).hostname, urlsplit(options.redis_url).hostname):
        if host not in ("127.0.0.1", "localhost", "::1"):
            sys.exit(f"The load test runs on loopback only; {host} is not.")

    started = time.monotonic()
    if not options.keep_database:
        recreate_database(options.database_url)
    from orderdesk.notifications.tests.peers import SmtpServer, TwilioDouble, free_port
    from orderdesk.stores.tests.peers import ShopifyDouble

    smtp, sms, shopify = SmtpServer().start(), TwilioDouble().start(), ShopifyDouble([]).start()
    port = free_port()
    queue = f"orderdesk-loadtest-{uuid.uuid4().hex[:8]}"
    env = {
        **environment(),
        "DJANGO_SETTINGS_MODULE": "orderdesk.settings",
        "DEBUG": "false",
        "SECRET_KEY": "loadtest-only-secret-key-never-used-for-anything-else-0123456789",
        "CREDENTIALS_KEY": "loadtest-only-credentials-key-never-used-elsewhere-0123456789",
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "ALLOWED_HOSTS": "127.0.0.1",
        "SITE_URL": "https://orders.example.com",
        "SECURE_SSL_REDIRECT": "false",
        "DATA_DIR": str(work / "data"),
        "STATIC_ROOT": str(work / "static"),
        "MEDIA_ROOT": str(work / "media"),
        "DATABASE_URL": options.database_url,
        "CELERY_BROKER_URL": options.redis_url,
        "CACHE_URL": options.redis_url,
        "CELERY_TASK_DEFAULT_QUEUE": queue,
        "CELERY_WORKER_CONCURRENCY": "2",
        "CELERY_VISIBILITY_TIMEOUT_SECONDS": "20",
        "WEB_CONCURRENCY": "2",
        "WEB_THREADS": "4",
        "WEB_GRACEFUL_TIMEOUT": "20",
        "LOG_FORMAT": "json",
        "EMAIL_URL": f"smtp://127.0.0.1:{smtp.port}",
        "SMS_BACKEND": "twilio",
        "TWILIO_ACCOUNT_SID": sms.account_sid,
        "TWILIO_AUTH_TOKEN": sms.auth_token,
        "TWILIO_API_BASE": sms.base_url,
        "NOTIFICATION_SEND_TIMEOUT_SECONDS": "5",
        "NOTIFICATION_SENDING_LEASE_SECONDS": "20",
        "NOTIFICATION_SWEEP_SECONDS": "5",
        "STORE_POLL_MINUTES": "1",
        "API_THROTTLE_RATE": "1000000/min",
    }
    os.environ.update(env)
    log = open(work / "processes.log", "a")  # noqa: SIM115 — shared by every process until the end
    processes: dict[str, subprocess.Popen] = {}
    procfile = read_procfile()

    def launch(name: str, command: str, **extra) -> None:
        processes[name] = start(command, env={**env, **extra}, stdout=log, stderr=subprocess.STDOUT)

    try:
        print(f"[1/6] Migrating and collecting static files ({options.database_url})…", flush=True)
        release = start(procfile["release"], env=env, stdout=log, stderr=subprocess.STDOUT)
        if release.wait(timeout=600) != 0:
            sys.exit(f"release failed; see {work / 'processes.log'}")
        import logging

        import django

        django.setup()
        # The SMTP double's own chatter is not the load test's report.
        logging.getLogger("mail.log").setLevel(logging.WARNING)
        logging.getLogger("orderdesk").setLevel(logging.WARNING)
        from loadtest.seed import seed

        print(f"[2/6] Seeding {options.orders} awaiting orders… ({phase_times(started)})", flush=True)
        plan = seed(orders=options.orders, shopify_base_url=shopify.base_url)
        (work / "plan.json").write_text(json.dumps(plan))

        print(
            f"[3/6] Starting gunicorn (2 web processes), 2 Celery workers and beat… ({phase_times(started)})",
            flush=True,
        )
        launch("web", procfile["web"])
        launch("worker-1", procfile["worker"], CELERY_WORKER_NAME=f"{queue}-1@%h")
        launch("worker-2", procfile["worker"], CELERY_WORKER_NAME=f"{queue}-2@%h")
        launch("beat", procfile["beat"])
        base = f"http://127.0.0.1:{port}"
        wait_until_ready(base, processes, work)

        print(
            f"[4/6] locust: {options.users} users for {options.seconds} s… ({phase_times(started)})",
            flush=True,
        )
        journal = work / "journal.jsonl"
        chaos_log: list[str] = []
        if not options.no_chaos:
            threading.Thread(
                target=chaos,
                args=(options.seconds, processes, launch, procfile, queue, chaos_log),
                daemon=True,
            ).start()
        locust = subprocess.run(
            [
                str(Path(sys.executable).parent / "locust"),
                "-f", str(PROJECT / "loadtest" / "locustfile.py"),
                "--headless", "--only-summary",
                "--users", str(options.users), "--spawn-rate", str(options.users),
                "--run-time", f"{options.seconds}s", "--stop-timeout", "20",
                "--host", base, "--exit-code-on-error", "0",
            ],
            cwd=PROJECT,
            env={
                **env,
                "LOADTEST_PLAN": str(work / "plan.json"),
                "LOADTEST_JOURNAL": str(journal),
                "LOADTEST_MAX_REQUESTS": str(options.max_requests),
            },
            capture_output=True,
            text=True,
            timeout=options.seconds + 120,
        )  # fmt: skip
        (out / "locust.log").write_text(locust.stdout + locust.stderr)

        print("[5/6] Waiting for the outbox and the webhook deliveries to drain…", flush=True)
        from loadtest.check import drained

        drain_started = time.monotonic()
        while not drained() and time.monotonic() - drain_started < 240:
            time.sleep(1)
        drain_seconds = round(time.monotonic() - drain_started, 1)
        if not options.no_chaos:
            # On a busy machine the restarted worker can still be importing Django when the run
            # ends; a SIGTERM then kills it before Celery handles signals, which is no unclean
            # stop of a running worker. A worker that never gets ready still fails the check.
            wait_until_worker_ready(work / "processes.log", f"{queue}-1b@", WORKER_READY_SECONDS)
    finally:
        stopped = stop_all(processes)
        log.close()

    print(f"[6/6] Checking… ({phase_times(started)})", flush=True)
    from loadtest.check import check

    report = check(
        journal=journal,
        plan=plan,
        smtp_messages=list(smtp.messages),
        sms_delivered=list(sms.delivered),
        seconds=options.seconds,
    )
    report["chaos"] = chaos_log
    report["drain_seconds"] = drain_seconds
    report["clean_stop"] = stopped
    report["locust_exit_code"] = locust.returncode
    report["process_log"] = str(work / "processes.log")
    smtp.stop()
    sms.stop()
    shopify.stop()
    forget_queue(options.redis_url, queue)
    (out / "report.json").write_text(json.dumps(report, indent=2, default=str))
    print_report(report)
    failed = [name for name, result in report["checks"].items() if not result["ok"]]
    if not all(stopped.values()):
        failed.append("clean stop")
    if failed:
        print(f"FAILED: {', '.join(failed)}")
        return 1
    print(f"All {len(report['checks'])} checks hold.")
    return 0


def phase_times(started: float) -> str:
    return f"{time.monotonic() - started:.0f} s since the start"


def recreate_database(url: str) -> None:
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    if not name.replace("_", "").isalnum():
        sys.exit(f"Refusing the database name {name!r}.")
    with psycopg.connect(
        host=parts.hostname, port=parts.port or 5432, user=parts.username or "postgres",
        password=parts.password or None, dbname="postgres", autocommit=True,
    ) as connection:  # fmt: skip
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')


def wait_until_ready(base: str, processes: dict, work: Path) -> None:
    import requests

    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        for name, process in processes.items():
            if process.poll() is not None:
                sys.exit(f"{name} stopped while starting; see {work / 'processes.log'}")
        try:
            if requests.get(base + "/readyz", timeout=5).status_code == 200:
                workers_ready = (work / "processes.log").read_text().count("ready.")
                if workers_ready >= 2:
                    return
        except requests.RequestException:
            pass
        time.sleep(0.5)
    sys.exit(f"Not ready in 120 s; see {work / 'processes.log'}")


WORKER_READY_SECONDS = 120


def wait_until_worker_ready(process_log: Path, worker_name: str, seconds: float) -> bool:
    """True once Celery has logged "<worker_name>… ready." in the processes' log."""
    deadline = time.monotonic() + seconds
    while True:
        if worker_is_ready(process_log.read_text(errors="replace"), worker_name):
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.5)


def worker_is_ready(log_text: str, worker_name: str) -> bool:
    return any(worker_name in line and " ready." in line for line in log_text.splitlines())


def chaos(seconds: int, processes: dict, launch, procfile: dict, queue: str, said: list[str]) -> None:
    """A third of the way in, kill a Celery worker outright (and start it again 3 s later);
    at two thirds, restart one gunicorn web process gracefully (the master starts a new one)."""
    time.sleep(seconds / 3)
    victim = processes["worker-1"]
    os.killpg(victim.pid, signal.SIGKILL)
    victim.wait()
    said.append(f"{time.strftime('%H:%M:%S')} SIGKILL worker-1 (pid {victim.pid}) and its pool")
    time.sleep(3)
    launch("worker-1", procfile["worker"], CELERY_WORKER_NAME=f"{queue}-1b@%h")
    said.append(f"{time.strftime('%H:%M:%S')} worker-1 started again (pid {processes['worker-1'].pid})")
    time.sleep(seconds / 3 - 3)
    web_children = children_of(processes["web"].pid)
    if web_children:
        os.kill(web_children[0], signal.SIGTERM)
        said.append(
            f"{time.strftime('%H:%M:%S')} SIGTERM web process {web_children[0]} "
            f"(of {len(web_children)}); gunicorn starts another"
        )


def children_of(pid: int) -> list[int]:
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            children.append(int(stat.parent.name))
    return sorted(children)


def forget_queue(redis_url: str, queue: str) -> None:
    """Leave the broker as it was: this run's queue and its bindings go."""
    import redis

    broker = redis.Redis.from_url(redis_url)
    for key in broker.scan_iter(f"*{queue}*"):
        broker.delete(key)


def stop_all(processes: dict) -> dict[str, bool]:
    """SIGTERM to each, as a process manager would; True where it exited cleanly in time."""
    for process in processes.values():
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    clean = {}
    for name, process in processes.items():
        try:
            clean[name] = process.wait(timeout=60) == 0
        except subprocess.TimeoutExpired:
            process.kill()
            clean[name] = False
    return clean


def print_report(report: dict) -> None:
    print()
    print(
        f"{'request kind':<26} {'count':>6} {'per s':>6} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7}  statuses"
    )
    for kind, figures in sorted(report["requests"].items()):
        print(
            f"{kind:<26} {figures['count']:>6} {figures['per_second']:>6} {figures['p50']:>7} "
            f"{figures['p95']:>7} {figures['p99']:>7}  {figures['statuses']}"
        )
    print(f"{'all':<26} {report['total_requests']:>6} {report['per_second']:>6}")
    print()
    for line in report["chaos"]:
        print(f"chaos: {line}")
    print(f"drained in {report['drain_seconds']} s; clean stop: {report['clean_stop']}")
    for name, result in report["checks"].items():
        print(f"{'ok  ' if result['ok'] else 'FAIL'} {name}: {result['detail']}")


if __name__ == "__main__":
    sys.exit(main())
