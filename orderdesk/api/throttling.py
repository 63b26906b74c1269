"""Requests per API key, as a GCRA (generic cell rate algorithm): one cache operation a request.

A rate of N per period lets a key send up to N requests at once, then one more each period/N
(the allowance refills steadily, not all at the end of a window). The cache keeps one number
per key, the "theoretical arrival time": when the key would have used its allowance up if it
sent at exactly the rate. A request is allowed when that time is less than a whole period
ahead of now, and moves it on by period/N; a refused one is told (Retry-After) how long until
it would be allowed. On Redis this is one Lua script (read, decide, write: atomic across every
web process, timed by Redis's own clock); in the process's memory, the same under a lock.

DRF's SimpleRateThrottle kept the list of every request's time in the period instead: two
round trips to the cache per request (read the list, write it back) with a race between them,
and a list of up to N times to load and store each request.
"""

from __future__ import annotations

import logging
import math
import threading
import time

from django.core.cache import caches
from django.core.cache.backends.base import BaseCache
from django.core.cache.backends.redis import RedisCache
from rest_framework.throttling import SimpleRateThrottle

from orderdesk.accounts.fallback_cache import LOG_EVERY_SECONDS, CacheWithLocalFallback

logger = logging.getLogger(__name__)


class PerApiKeyThrottle(SimpleRateThrottle):
    """Requests per key (API_THROTTLE_RATE, N per period); over it, 429 with Retry-After."""

    scope = "api_key"

    @property
    def cache(self) -> BaseCache:
        return caches["default"]

    def get_cache_key(self, request, view):
        if request.auth is None:
            return None
        return self.cache_format % {"scope": self.scope, "ident": request.auth.pk}

    def allow_request(self, request, view) -> bool:
        if self.rate is None:
            return True
        key = self.get_cache_key(request, view)
        if key is None:
            return True
        self.seconds_to_wait = take_one(
            self.cache, key, interval=self.duration / self.num_requests, burst=self.num_requests
        )
        return self.seconds_to_wait is None

    def wait(self) -> float | None:
        return self.seconds_to_wait


def take_one(cache: BaseCache, key: str, *, interval: float, burst: int) -> float | None:
    """Let one request through under `key` (None), or say how many seconds until one would be
    (> 0): at most `burst` at once, then one every `interval` seconds."""
    if isinstance(cache, CacheWithLocalFallback):
        try:
            return take_one(cache.shared, key, interval=interval, burst=burst)
        except Exception as outage:  # the shared cache is down: limits hold per process meanwhile
            _log_outage(cache, outage)
            return take_one(cache.local, key, interval=interval, burst=burst)
    if isinstance(cache, RedisCache):
        return _take_in_redis(cache, key, interval, burst)
    return _take_in_memory(cache, key, interval, burst)


# KEYS[1]: the key's arrival time (seconds, as text); ARGV: interval, burst. Nothing back when
# allowed, else the seconds to wait as text (a Lua number would come back cut to an integer).
_GCRA_SCRIPT = """
local now = redis.call('TIME')
now = tonumber(now[1]) + tonumber(now[2]) / 1000000
local interval, burst = tonumber(ARGV[1]), tonumber(ARGV[2])
local arrival = math.max(tonumber(redis.call('GET', KEYS[1]) or 0), now)
local wait = arrival + interval - now - burst * interval
if wait > 0 then
  return tostring(wait)
end
arrival = arrival + interval
redis.call('SET', KEYS[1], string.format('%.6f', arrival), 'PX', math.ceil((arrival - now) * 1000) + 1)
return false
"""

_script = None


def _take_in_redis(cache: RedisCache, key: str, interval: float, burst: int) -> float | None:
    global _script
    full_key = cache.make_and_validate_key(key)
    client = cache._cache.get_client(full_key, write=True)
    if _script is None:
        # Sent by its SHA1 (EVALSHA) through any client, loaded again if the server forgot it.
        _script = client.register_script(_GCRA_SCRIPT)
    wait = _script(keys=[full_key], args=[repr(interval), burst], client=client)
    return None if wait is None else float(wait)


_memory_lock = threading.Lock()


def _take_in_memory(cache: BaseCache, key: str, interval: float, burst: int) -> float | None:
    """The same in a cache of this process (LocMemCache): the lock makes it one step."""
    with _memory_lock:
        now = clock()
        arrival = max(cache.get(key, 0.0), now)
        wait = arrival + interval - now - burst * interval
        if wait > 0:
            return wait
        arrival += interval
        cache.set(key, arrival, timeout=math.ceil(arrival - now) + 1)
        return None


def clock() -> float:
    """Now, in seconds (the tests move it)."""
    return time.time()


_last_outage_logged_at = 0.0


def _log_outage(cache: CacheWithLocalFallback, outage: Exception) -> None:
    global _last_outage_logged_at
    now = time.monotonic()
    if now - _last_outage_logged_at > LOG_EVERY_SECONDS:
        _last_outage_logged_at = now
        logger.warning(
            "The shared cache at %s is unreachable (%s); API keys are throttled per process until it is back.",
            cache.shared_location,
            outage,
        )
