"""A shared cache that falls back to the web process's own memory while it is unreachable.

The cache holds sign-in rate limits (allauth) and little else; when Redis is down, people
must still sign in. Each call goes to the shared cache; one that fails is logged (once a
minute at most) and answered from a local in-memory cache, so limits still hold per process.
"""

import logging
import time

from django.core.cache.backends.base import BaseCache
from django.core.cache.backends.locmem import LocMemCache
from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)

# How often an ongoing outage is logged again.
LOG_EVERY_SECONDS = 60


class CacheWithLocalFallback(BaseCache):
    def __init__(self, location, params):
        options = dict(params.get("OPTIONS", {}))
        shared = dict(options.pop("SHARED"))
        super().__init__({**params, "OPTIONS": options})
        shared_class = import_string(shared.pop("BACKEND"))
        self.shared_location = shared.pop("LOCATION", "")
        self.shared = shared_class(self.shared_location, shared)
        self.local = LocMemCache(f"fallback-for-{self.shared_location}", {})
        self._last_logged_at = 0.0

    def _call(self, method: str, *args, **kwargs):
        try:
            return getattr(self.shared, method)(*args, **kwargs)
        except Exception as outage:  # any client error: the point is to keep signing people in
            now = time.monotonic()
            if now - self._last_logged_at > LOG_EVERY_SECONDS:
                self._last_logged_at = now
                logger.warning(
                    "The shared cache at %s is unreachable (%s); using this process's memory instead, "
                    "so sign-in limits hold per process until it is back.",
                    self.shared_location,
                    outage,
                )
            return getattr(self.local, method)(*args, **kwargs)

    def add(self, key, value, timeout=300, version=None):
        return self._call("add", key, value, timeout, version)

    def get(self, key, default=None, version=None):
        return self._call("get", key, default, version)

    def set(self, key, value, timeout=300, version=None):
        return self._call("set", key, value, timeout, version)

    def touch(self, key, timeout=300, version=None):
        return self._call("touch", key, timeout, version)

    def delete(self, key, version=None):
        return self._call("delete", key, version)

    def get_many(self, keys, version=None):
        return self._call("get_many", keys, version)

    def set_many(self, data, timeout=300, version=None):
        return self._call("set_many", data, timeout, version)

    def delete_many(self, keys, version=None):
        return self._call("delete_many", keys, version)

    def has_key(self, key, version=None):
        return self._call("has_key", key, version)

    def incr(self, key, delta=1, version=None):
        return self._call("incr", key, delta, version)

    def clear(self):
        self.local.clear()
        return self._call("clear")

    def close(self, **kwargs):
        self._call("close", **kwargs)
