from rest_framework.throttling import SimpleRateThrottle


class PerApiKeyThrottle(SimpleRateThrottle):
    """Requests per key (API_THROTTLE_RATE), counted in the cache; over it, 429 with Retry-After."""

    scope = "api_key"

    def get_cache_key(self, request, view):
        if request.auth is None:
            return None
        return self.cache_format % {"scope": self.scope, "ident": request.auth.pk}
