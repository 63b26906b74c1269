"""The browser tests' screenshot helper rides out Chromium's passing "Unable to capture screenshot"."""

import pytest
from playwright.sync_api import Error as PlaywrightError

from orderdesk.web.tests.browser import SCREENSHOT_ATTEMPTS


class PageThatCannotCaptureAtFirst:
    """Stands in for a Playwright page whose first `refusals` screenshots fail as Chromium's do."""

    viewport_size = {"width": 375, "height": 812}

    def __init__(
        self, refusals, message="Protocol error (Page.captureScreenshot): Unable to capture screenshot"
    ):
        self.refusals = refusals
        self.message = message
        self.saved_to = []
        self.waits = []

    def wait_for_load_state(self):
        pass

    def evaluate(self, script):
        pass

    def wait_for_timeout(self, milliseconds):
        self.waits.append(milliseconds)

    def screenshot(self, path, full_page):
        if self.refusals:
            self.refusals -= 1
            raise PlaywrightError(self.message)
        self.saved_to.append(path)


def test_a_screenshot_chromium_refuses_once_is_taken_on_the_next_attempt(screenshot):
    page = PageThatCannotCaptureAtFirst(refusals=1)

    path = screenshot(page, "helper-retry")

    assert page.saved_to == [str(path)]
    assert path.name == "helper-retry-375.png"
    assert page.waits == [250]


def test_a_screenshot_chromium_keeps_refusing_fails_the_test(screenshot):
    page = PageThatCannotCaptureAtFirst(refusals=SCREENSHOT_ATTEMPTS)

    with pytest.raises(PlaywrightError, match="Unable to capture screenshot"):
        screenshot(page, "helper-never")

    assert page.saved_to == []


def test_any_other_screenshot_failure_is_not_retried(screenshot):
    page = PageThatCannotCaptureAtFirst(refusals=1, message="Target page, context or browser has been closed")

    with pytest.raises(PlaywrightError, match="has been closed"):
        screenshot(page, "helper-closed")

    assert page.waits == []
