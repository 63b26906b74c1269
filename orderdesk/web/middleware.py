"""What every request and response goes through before any view: hostile bytes out, policies in."""

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.http import Http404, JsonResponse, QueryDict
from django.http.multipartparser import MultiPartParserError
from django.utils.datastructures import MultiValueDict

from orderdesk.refusals import UnreadableForm


class RefuseNulBytesMiddleware:
    """A NUL byte in the path or the query string is a 404, before it can reach a query.

    PostgreSQL refuses NUL in text (a 500 if it got that far); no link of ours ever has one.
    Form fields are checked by the forms themselves ("Null characters are not allowed.").
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if "\x00" in request.path or "\x00" in request.path_info or _query_has_nul(request):
            if request.path.startswith("/api/"):
                # API clients read every error as problem details (RFC 9457), this one too.
                return JsonResponse(
                    {"type": "about:blank", "title": "Not Found", "status": 404, "detail": _NUL_REFUSAL},
                    status=404,
                    content_type="application/problem+json",
                )
            raise Http404("No such page.")
        return self.get_response(request)


_NUL_REFUSAL = "No such resource: the address holds a NUL character."


def _query_has_nul(request) -> bool:
    return any(
        "\x00" in key or any("\x00" in value for value in values) for key, values in request.GET.lists()
    )


class SecurityPolicyMiddleware:
    """Content-Security-Policy and Permissions-Policy on every response (settings.py holds both)."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.content_security_policy = "; ".join(
            f"{directive} {' '.join(sources)}"
            for directive, sources in settings.CONTENT_SECURITY_POLICY.items()
        )
        self.permissions_policy = ", ".join(
            f"{feature}=({' '.join(allowed)})" for feature, allowed in settings.PERMISSIONS_POLICY.items()
        )

    def __call__(self, request):
        response = self.get_response(request)
        response.setdefault("Content-Security-Policy", self.content_security_policy)
        response.setdefault("Permissions-Policy", self.permissions_policy)
        return response


class UnreadableFormMiddleware:
    """A form Django refuses to read (too many files, too much text, a header too long) reaches
    the view empty, with `request.unreadable_form` saying why, so the view can say so beside the
    field instead of a bare 400 page. Placed before CsrfViewMiddleware, which reads the form first;
    the CSRF check still runs (htmx sends the token as a header; a plain post without it gets 403).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.unreadable_form = None
        if request.method == "POST":
            try:
                request.POST  # noqa: B018 — reading it is what may fail
                request.FILES  # noqa: B018
            except (TooManyFilesSent, TooManyFieldsSent):
                request.unreadable_form = UnreadableForm.TOO_MANY_FILES
            except RequestDataTooBig:
                request.unreadable_form = UnreadableForm.TOO_LARGE
            except MultiPartParserError:
                request.unreadable_form = UnreadableForm.UNREADABLE
            if request.unreadable_form:
                request._post, request._files = QueryDict(), MultiValueDict()
        return self.get_response(request)
