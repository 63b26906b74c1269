"""Test-wide switches: which optional peers a run has, chosen by .ci/run, never guessed.

- `postgres` tests run when DATABASE_URL points at PostgreSQL (.ci/run's second pass);
- `celery` tests run when TEST_CELERY_BROKER_URL is set (.ci/run points it at Redis);
- `browser` tests always run; the README's test command installs Chromium first.
A run that leaves some out prints which and why.
"""

import os

import pytest

# The outbox's delivery fixtures (smtp, sms_folder, twilio, …) for every app's tests.
# The browser fixtures (one Chromium per test process, pages that fail on console errors, screenshots).
pytest_plugins = ["orderdesk.notifications.tests.fixtures", "orderdesk.web.tests.browser"]

# Playwright runs its own event loop in the test thread; the ORM calls beside it are safe here.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def _left_out(item, config) -> str | None:
    from django.conf import settings

    if item.get_closest_marker("postgres") and "postgresql" not in settings.DATABASES["default"]["ENGINE"]:
        return "postgres"
    if item.get_closest_marker("celery") and not os.environ.get("TEST_CELERY_BROKER_URL"):
        return "celery"
    if item.get_closest_marker("browser") and os.environ.get("ORDERDESK_SKIP_BROWSER") == "1":
        return "browser"
    return None


def pytest_collection_modifyitems(config, items):
    kept, left_out = [], {}
    for item in items:
        reason = _left_out(item, config)
        if reason:
            left_out.setdefault(reason, []).append(item)
        else:
            kept.append(item)
    if left_out:
        config.hook.pytest_deselected(items=[i for group in left_out.values() for i in group])
        items[:] = kept
        config._orderdesk_left_out = {reason: len(group) for reason, group in left_out.items()}


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    left_out = getattr(config, "_orderdesk_left_out", None)
    if left_out:
        described = ", ".join(f"{count} {reason}" for reason, count in sorted(left_out.items()))
        terminalreporter.write_line(
            f"Left out in this run (bash .ci/run runs them): {described}", yellow=True
        )


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # PBKDF2's deliberate slowness buys nothing in tests and costs seconds per user.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _deliver_notifications_inline(settings):
    # In order and in the test's own transaction; the tests of the delivery thread turn it on.
    settings.NOTIFICATION_DELIVERY_THREAD = False


@pytest.fixture(autouse=True)
def _background_connections_closed_when_idle(settings):
    # The in-process runner's threads give their connections back at once (the database is
    # dropped after the run).
    settings.BACKGROUND_IDLE_SECONDS = 0


@pytest.fixture(autouse=True)
def _run_store_jobs_inline(settings):
    # Webhook deliveries and syncs after commit, in the test's thread; stores' own tests of the
    # background threads (and the browser tests watching a backfill) turn them on.
    settings.STORE_BACKGROUND_THREAD = False
