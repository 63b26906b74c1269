"""Browser fixtures: Debian's Chromium driven by Playwright against pytest-django's live server.

A plugin the root conftest registers once, so the whole run shares ONE session-scoped
Chromium per process: two copies of the fixture (one per app importing it) would start a
second Playwright inside the first one's event loop and fail.
"""

import shutil
from pathlib import Path

import pytest
from playwright.sync_api import Error as PlaywrightError

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
PHONE = {"width": 375, "height": 812}
DESKTOP = {"width": 1280, "height": 800}
SCREENSHOT_ATTEMPTS = 4
SCREENSHOTS = Path(__file__).resolve().parents[3] / "artifacts" / "screenshots"


@pytest.fixture(scope="session")
def chromium():
    """Debian's Chromium (never a downloaded one); missing Chromium fails the run, it is not skipped."""
    executable = shutil.which("chromium")
    if executable is None:
        pytest.fail(
            "The browser tests need Debian's Chromium at /usr/bin/chromium "
            "(apt-get install chromium); it was not found on PATH.",
            pytrace=False,
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def _page(chromium, live_server, viewport, **options):
    context = chromium.new_context(viewport=viewport, base_url=live_server.url, **options)
    context.set_default_timeout(10_000)
    page = context.new_page()
    _collect_console_errors(context, page)
    return context, page


# Chrome logs every 4xx as "Failed to load resource"; the tests provoke refusals (422) on purpose.
EXPECTED_CONSOLE_ERRORS = ("Failed to load resource: the server responded with a status of 4",)


def _collect_console_errors(context, page):
    """Script errors and Content-Security-Policy violations ("Refused to …") fail the test."""
    errors = context.console_errors = []
    page.on(
        "console",
        lambda message: (
            errors.append(f"{message.text} at {message.location}")
            if message.type == "error" and not message.text.startswith(EXPECTED_CONSOLE_ERRORS)
            else None
        ),
    )
    page.on("pageerror", lambda error: errors.append(f"uncaught: {error}"))


def _close(context):
    errors = list(context.console_errors)
    context.close()
    assert errors == [], f"the browser console reported errors: {errors}"


@pytest.fixture
def phone(chromium, live_server, transactional_db):
    """A page at phone size (375 × 812), touch and all."""
    context, page = _page(chromium, live_server, PHONE, is_mobile=True, has_touch=True, device_scale_factor=2)
    yield page
    _close(context)


@pytest.fixture
def desktop(chromium, live_server, transactional_db):
    """A page at desktop size (1280 × 800)."""
    context, page = _page(chromium, live_server, DESKTOP)
    yield page
    _close(context)


@pytest.fixture
def visitor(chromium, live_server, transactional_db):
    """visitor(PHONE) opens a page in a browser context of its own: no cookies, nobody signed in."""
    contexts = []

    def open_page(viewport):
        options = (
            {"is_mobile": True, "has_touch": True, "device_scale_factor": 2} if viewport == PHONE else {}
        )
        context, page = _page(chromium, live_server, viewport, **options)
        contexts.append(context)
        return page

    yield open_page
    for context in contexts:
        _close(context)


@pytest.fixture
def screenshot():
    """screenshot(page, "tracking-pending") saves artifacts/screenshots/tracking-pending-375.png."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def take(page, name: str) -> Path:
        path = SCREENSHOTS / f"{name}-{page.viewport_size['width']}.png"
        # From the top, so the sticky top bar is where a person sees it.
        page.wait_for_load_state()
        page.evaluate("window.scrollTo(0, 0)")
        # Chromium now and then answers "Unable to capture screenshot" while a page it has
        # just navigated to is still compositing (1 CI run in about 20); a moment later it can.
        for attempt in range(1, SCREENSHOT_ATTEMPTS + 1):
            try:
                page.screenshot(path=str(path), full_page=True)
                return path
            except PlaywrightError as failure:
                if "Unable to capture screenshot" not in str(failure) or attempt == SCREENSHOT_ATTEMPTS:
                    raise
                page.wait_for_timeout(250 * attempt)
        return path

    return take
