"""Runs the Procfile's processes on one machine, as a Procfile platform would.

    python deploy/procfile.py                 # web, worker and beat (not release)
    python deploy/procfile.py release         # migrate and collectstatic, then exit
    python deploy/procfile.py web worker      # only these

Each process runs in its own session with this Python's environment first on PATH. SIGTERM or
SIGINT here is passed on to every process (gunicorn finishes running requests within
WEB_GRACEFUL_TIMEOUT, Celery's warm shutdown finishes running tasks); when one process stops
by itself, the others are stopped too and this exits with its status, so a supervisor
(systemd, a container runtime) sees the failure and restarts the lot.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
DEFAULT_PROCESSES = ("web", "worker", "beat")
# After SIGTERM, how long processes get before SIGKILL: above gunicorn's graceful timeout.
STOP_SECONDS = int(os.environ.get("WEB_GRACEFUL_TIMEOUT", "30")) + 15


def read_procfile(path: Path = PROJECT / "Procfile") -> dict[str, str]:
    """The Procfile's processes, name → shell command, in file order."""
    processes = {}
    for line in path.read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, command = line.split(":", 1)
            processes[name.strip()] = command.strip()
    return processes


def environment() -> dict[str, str]:
    """This environment, with the Python running this script (the project's venv) first on PATH."""
    bin_folder = str(Path(sys.executable).parent)
    return {**os.environ, "PATH": f"{bin_folder}{os.pathsep}{os.environ.get('PATH', '')}"}


def start(command: str, *, env: dict[str, str] | None = None, **popen) -> subprocess.Popen:
    """One Procfile command in its own session (so a signal reaches it, not this script's group)."""
    return subprocess.Popen(
        ["bash", "-c", command if "&&" in command else f"exec {command}"],
        cwd=PROJECT,
        env=env or environment(),
        start_new_session=True,
        **popen,
    )


def run(names: list[str], *, procfile_path: Path = PROJECT / "Procfile") -> int:
    procfile = read_procfile(procfile_path)
    unknown = [name for name in names if name not in procfile]
    if unknown:
        print(f"Not in the Procfile: {', '.join(unknown)} (it has {', '.join(procfile)})", file=sys.stderr)
        return 2
    if names == ["release"]:
        return start(procfile["release"]).wait()
    running = {name: start(procfile[name]) for name in names}
    stopping = False

    def stop(signum=signal.SIGTERM, _frame=None):
        nonlocal stopping
        stopping = True
        for process in running.values():
            if process.poll() is None:
                process.send_signal(signum if signum in (signal.SIGTERM, signal.SIGINT) else signal.SIGTERM)

    previous = {signum: signal.signal(signum, stop) for signum in (signal.SIGTERM, signal.SIGINT)}
    try:
        status = _supervise(running, stop, lambda: stopping)
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    for name, process in running.items():
        if process.returncode not in (0, -signal.SIGTERM) and status == 0:
            print(f"procfile: {name} exited with status {process.returncode}", file=sys.stderr)
            status = process.returncode if process.returncode > 0 else 1
    return status


def _supervise(running: dict, stop, stopping) -> int:
    """Wait for every process; the first to stop by itself stops the others, its status is ours."""
    status = 0
    while any(process.poll() is None for process in running.values()):
        for name, process in running.items():
            code = process.poll()
            if code is not None and not stopping():
                print(f"procfile: {name} stopped with status {code}; stopping the others", file=sys.stderr)
                status = code or 1
                stop()
        time.sleep(0.2)
        if stopping():
            deadline = time.monotonic() + STOP_SECONDS
            while time.monotonic() < deadline and any(p.poll() is None for p in running.values()):
                time.sleep(0.2)
            for name, process in running.items():
                if process.poll() is None:
                    print(f"procfile: {name} did not stop in {STOP_SECONDS} s; killing it", file=sys.stderr)
                    process.kill()
                    process.wait()
    return status


if __name__ == "__main__":
    sys.exit(run(sys.argv[1:] or list(DEFAULT_PROCESSES)))
