"""Calls to a store's API: a timeout on every call, 429s waited out, 5xx retried, 401 reported."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from decimal import Decimal
from urllib.parse import urlsplit

import requests
from django.conf import settings
from requests.utils import get_environ_proxies

from .errors import ConnectionRefused, RequestRefused, StoreUnreachable

logger = logging.getLogger(__name__)

# A store asking us to wait longer than this is treated as unreachable for this run.
MAX_RETRY_AFTER_SECONDS = 60
SERVER_ERROR_ATTEMPTS = 3
THROTTLED_ATTEMPTS = 5


class StoreApi:
    """One store's API over HTTP; `sleep` is how waits are taken (tests count them)."""

    def __init__(
        self, *, store_name: str, session: requests.Session, sleep: Callable[[float], None] = time.sleep
    ):
        self.store_name = store_name
        self.session = session
        self.sleep = sleep
        self.waited_seconds = 0.0
        # requests reads the environment (proxies, a CA bundle, ~/.netrc) again on every call,
        # walking os.environ each time: a backfill's thousands of pages spent more on that than
        # on their HTTP. The session is told not to; the proxies and CA bundle the environment
        # names are read once per host below and given with each call.
        session.trust_env = False
        self._environment: dict[str, dict] = {}

    def wait(self, seconds: float) -> None:
        self.waited_seconds += seconds
        self.sleep(seconds)

    def call(self, method: str, url: str, **kwargs) -> requests.Response:
        """The store's answer; raises ConnectionRefused (401/403) or StoreUnreachable."""
        kwargs.setdefault("timeout", settings.STORE_API_TIMEOUT_SECONDS)
        for name, value in self._environment_for(url).items():
            kwargs.setdefault(name, value)
        server_errors = throttled = 0
        while True:
            try:
                response = self.session.request(method, url, **kwargs)
            except requests.Timeout as slow:
                raise StoreUnreachable(
                    f"{self.store_name} did not answer within {kwargs['timeout']} seconds."
                ) from slow
            except requests.RequestException as failed:
                raise StoreUnreachable(f"{self.store_name} could not be reached: {failed}") from failed
            if response.status_code in (401, 403):
                raise ConnectionRefused(
                    f"{self.store_name} refused the credentials (HTTP {response.status_code}); "
                    "the access token may have been revoked. Enter new credentials."
                )
            if response.status_code == 429:
                throttled += 1
                delay = _retry_after(response)
                if throttled > THROTTLED_ATTEMPTS or delay > MAX_RETRY_AFTER_SECONDS:
                    raise StoreUnreachable(f"{self.store_name} keeps asking us to slow down (HTTP 429).")
                self.wait(delay)
                continue
            if response.status_code >= 500:
                server_errors += 1
                if server_errors >= SERVER_ERROR_ATTEMPTS:
                    raise StoreUnreachable(
                        f"{self.store_name} answered HTTP {response.status_code} {SERVER_ERROR_ATTEMPTS} times."
                    )
                self.wait(2 ** (server_errors - 1))
                continue
            if response.status_code >= 400:
                raise RequestRefused(
                    f"{self.store_name} answered HTTP {response.status_code}: {response.text[:200]}"
                )
            return response

    def _environment_for(self, url: str) -> dict:
        """What requests would take from the environment for this URL's host: its proxies and
        the CA bundle to verify with (REQUESTS_CA_BUNDLE or CURL_CA_BUNDLE)."""
        host = urlsplit(url).netloc
        found = self._environment.get(host)
        if found is None:
            found = {"proxies": get_environ_proxies(url)}
            bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
            if bundle:
                found["verify"] = bundle
            self._environment[host] = found
        return found

    def json_of(self, response: requests.Response):
        try:
            # Exact amounts: a price of 19.99 must not become 19.989999…
            return response.json(parse_float=Decimal)
        except ValueError as garbled:
            raise StoreUnreachable(
                f"{self.store_name} answered with something that is not JSON."
            ) from garbled


def _retry_after(response: requests.Response) -> float:
    try:
        return max(0.0, float(response.headers.get("Retry-After", "2")))
    except ValueError:
        return 2.0
