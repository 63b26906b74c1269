"""`make run HOST=… PORT=…` serves there, and the links in SMS and email point there too."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def settings_shown(tmp_path, **variables) -> str:
    env = {k: v for k, v in os.environ.items() if k not in ("HOST", "PORT", "SITE_URL", "ALLOWED_HOSTS")}
    env.update(DATA_DIR=str(tmp_path), DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}", **variables)
    code = (
        "from django.conf import settings; "
        "print(settings.SITE_URL, settings.CSRF_TRUSTED_ORIGINS[0], '127.0.0.1' in settings.ALLOWED_HOSTS, "
        "settings.HOST in settings.ALLOWED_HOSTS)"
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "--no-imports", "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_site_url_follows_host_and_port_when_it_is_not_set(tmp_path):
    assert settings_shown(tmp_path, HOST="192.168.1.20", PORT="8101") == (
        "http://192.168.1.20:8101 http://192.168.1.20:8101 True True"
    )


def test_site_url_defaults_to_the_embedded_address(tmp_path):
    assert settings_shown(tmp_path) == "http://127.0.0.1:8000 http://127.0.0.1:8000 True True"


def test_a_set_site_url_wins_over_host_and_port(tmp_path):
    shown = settings_shown(tmp_path, HOST="0.0.0.0", PORT="8101", SITE_URL="https://orders.example.com/")
    assert shown.startswith("https://orders.example.com https://orders.example.com ")


def test_a_django_log_line_is_printed_once_not_twice(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("HOST", "PORT", "SITE_URL", "ALLOWED_HOSTS")}
    env.update(DATA_DIR=str(tmp_path), DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}")
    code = "import logging; logging.getLogger('django.utils.autoreload').info('Watching for file changes')"
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "--no-imports", "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert (result.stdout + result.stderr).count("Watching for file changes") == 1, result.stderr
