"""Settings come from the environment; production refuses to start unsafely."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SECRET = "x7!kq2-production-like-secret-with-enough-length-and-variety-9f3a"


def manage(*args, **env_overrides):
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DATABASE_URL", "DEBUG", "SECRET_KEY", "CREDENTIALS_KEY", "DJANGO_ALLOW_ASYNC_UNSAFE")
    }
    env.update(env_overrides)
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


@pytest.fixture
def production_like(tmp_path):
    return {
        "DEBUG": "false",
        "SECRET_KEY": SECRET,
        "CREDENTIALS_KEY": "another-production-like-secret-for-store-credentials",
        "ALLOWED_HOSTS": "orders.example.com",
        "SITE_URL": "https://orders.example.com",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'prod.sqlite3'}",
        "DATA_DIR": str(tmp_path),
    }


def test_the_deployment_check_passes_with_production_like_variables(production_like):
    result = manage("check", "--deploy", "--fail-level", "WARNING", **production_like)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_to_start_without_a_secret_key(production_like):
    production_like["SECRET_KEY"] = ""
    result = manage("check", **production_like)
    assert result.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is off." in result.stderr


def test_production_refuses_to_start_without_a_credentials_key(production_like):
    production_like["CREDENTIALS_KEY"] = ""
    result = manage("check", **production_like)
    assert result.returncode != 0
    assert "CREDENTIALS_KEY must be set when DEBUG is off" in result.stderr


def test_database_url_selects_postgresql(production_like):
    production_like["DATABASE_URL"] = "postgres://orderdesk:pw@db.internal:5432/orderdesk"
    result = manage(
        "shell",
        "--no-imports",
        "-c",
        "from django.conf import settings; print(settings.DATABASES['default']['ENGINE'])",
        **production_like,
    )
    assert result.stdout.strip() == "django.db.backends.postgresql", result.stderr


def test_prepared_statements_on_postgresql_are_on_unless_turned_off_for_pgbouncer(production_like):
    production_like["DATABASE_URL"] = "postgres://orderdesk:pw@db.internal:5432/orderdesk"
    show = "from django.conf import settings; print(settings.DATABASES['default']['OPTIONS'].get('prepare_threshold'))"
    on = manage("shell", "--no-imports", "-c", show, **production_like)
    off = manage("shell", "--no-imports", "-c", show, DATABASE_PREPARED_STATEMENTS="false", **production_like)
    assert (on.stdout.strip(), off.stdout.strip()) == ("5", "None"), on.stderr + off.stderr


def test_upload_limits_come_from_the_environment(production_like):
    result = manage(
        "shell",
        "--no-imports",
        "-c",
        "from django.conf import settings; print(settings.PHOTO_MAX_FILES, settings.PHOTO_MAX_BYTES, settings.MEDIA_ROOT)",
        PHOTO_MAX_FILES="3",
        PHOTO_MAX_BYTES="1048576",
        MEDIA_ROOT="/srv/orderdesk-media",
        **production_like,
    )
    assert result.stdout.strip() == "3 1048576 /srv/orderdesk-media", result.stderr


def test_env_example_lists_every_variable_the_settings_read_and_no_other():
    import re

    settings_source = (ROOT / "orderdesk" / "settings.py").read_text()
    read = set(re.findall(r'env(?:\.\w+)?\(\s*"([A-Z_]+)"', settings_source))
    listed = set(re.findall(r"^([A-Z_]+)=", (ROOT / ".env.example").read_text(), flags=re.M))
    assert read - listed == set(), "read by settings.py but missing from .env.example"
    assert listed - read == set(), "listed in .env.example but never read"


def test_storage_url_names_a_local_folder_and_refuses_what_is_not_supported(production_like):
    shown = manage(
        "shell",
        "--no-imports",
        "-c",
        "from django.conf import settings; print(settings.MEDIA_ROOT)",
        STORAGE_URL="file:///srv/photos",
        **production_like,
    )
    assert shown.stdout.strip() == "/srv/photos", shown.stderr
    refused = manage("check", STORAGE_URL="ftp://files.example.com/photos", **production_like)
    assert refused.returncode != 0
    assert "STORAGE_URL ftp:// is not supported" in refused.stderr


def test_sign_up_is_closed_in_production_unless_opened_and_open_on_a_laptop(production_like):
    show = ("shell", "--no-imports", "-c", "from django.conf import settings; print(settings.SIGNUP_OPEN)")
    assert manage(*show, **production_like).stdout.strip() == "False"
    assert manage(*show, **production_like, SIGNUP_OPEN="true").stdout.strip() == "True"
    laptop = {key: value for key, value in production_like.items() if key not in ("DEBUG", "SECRET_KEY")}
    assert manage(*show, **laptop).stdout.strip() == "True"
