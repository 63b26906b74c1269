"""API requests go from here straight to their view, past the middleware the web pages need.

An API request carries a key, never a session cookie or a form: the middleware listed after
this one in settings.MIDDLEWARE (sessions, UnreadableFormMiddleware, CSRF, the signed-in user,
messages, htmx, ActorMiddleware, allauth's) and Django's page-request machinery (resolving the
path against every page's URL, each middleware's process_view) had nothing to do for it, and cost
about a seventh of the CPU of creating an order through the API. The view authenticates the key
itself (ApiKeyAuthentication) and DRF exempts its views from CSRF.

What every response needs still applies: the middleware listed before this one (the request id
and the request's log line, the security headers and policies, WhiteNoise, the NUL-byte refusal)
and, here, Django's CommonMiddleware (the host check, Content-Length) and X-Frame-Options. An
address under /api/ that no API view answers goes the usual way (the 404 page, the added slash).
"""

from __future__ import annotations

from django.core.handlers.exception import convert_exception_to_response
from django.middleware.clickjacking import XFrameOptionsMiddleware
from django.middleware.common import CommonMiddleware
from django.urls import Resolver404, URLResolver, get_resolver, get_urlconf
from django.urls.resolvers import RegexPattern

API_PREFIX = "/api/"


class ApiRequestMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        # The same order as settings.MIDDLEWARE lists them, around the view.
        self.api_chain = CommonMiddleware(
            XFrameOptionsMiddleware(convert_exception_to_response(_view_response))
        )
        self._resolvers: tuple[URLResolver, URLResolver] | None = None  # (root, its /api/ part)

    def __call__(self, request):
        if not request.path_info.startswith(API_PREFIX):
            return self.get_response(request)
        try:
            match = self.api_resolver().resolve(request.path_info)
        except Resolver404:
            return self.get_response(request)
        request.resolver_match = match
        return self.api_chain(request)

    def api_resolver(self) -> URLResolver:
        """The root URLconf's patterns for /api/ only, in their order: a path resolves to the view
        the whole URLconf gives it (no pattern before them matches an /api/ address)."""
        root = get_resolver(get_urlconf())
        known = self._resolvers
        if known is None or known[0] is not root:  # the first request, or a test's own ROOT_URLCONF
            api_patterns = [
                pattern for pattern in root.url_patterns if str(pattern.pattern).startswith(API_PREFIX[1:])
            ]
            known = self._resolvers = (root, URLResolver(RegexPattern(r"^/"), api_patterns))
        return known[1]


def _view_response(request):
    """What Django's handler does once it has the view: call it, render a DRF response."""
    match = request.resolver_match
    response = match.func(request, *match.args, **match.kwargs)
    if response is None:
        raise ValueError(f"The view {match.view_name} returned None instead of a response.")
    if hasattr(response, "render") and callable(response.render):
        response = response.render()
    return response
