"""Every API error as RFC 9457 problem details (application/problem+json)."""

from __future__ import annotations

from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler

from orderdesk.accounts.errors import NotAllowed
from orderdesk.errors import DomainError, NotFound

from .errors import IdempotencyKeyReused

PROBLEM_CONTENT_TYPE = "application/problem+json"


def problem_response(
    status_code: int,
    title: str,
    detail: str,
    *,
    field: str | None = None,
    errors: dict | None = None,
    headers: dict | None = None,
) -> Response:
    body = {"type": "about:blank", "title": title, "status": status_code, "detail": detail}
    if field:
        body["field"] = field
    if errors:
        body["errors"] = errors
    response = Response(body, status=status_code, headers=headers)
    response.content_type = PROBLEM_CONTENT_TYPE
    return response


def _domain_status(error: DomainError) -> int:
    if isinstance(error, NotFound):
        # Another merchant's ids look absent: 404, never a 403 that confirms they exist.
        return status.HTTP_404_NOT_FOUND
    if isinstance(error, NotAllowed):
        return status.HTTP_403_FORBIDDEN
    if isinstance(error, IdempotencyKeyReused):
        return status.HTTP_409_CONFLICT
    return status.HTTP_422_UNPROCESSABLE_ENTITY


def handle_api_exception(exc, context):
    """DRF's exception handler, answering with problem+json; a domain refusal keeps its message and field."""
    if isinstance(exc, DomainError):
        code = _domain_status(exc)
        return problem_response(code, _title(code), exc.message, field=exc.field)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound("Not found.")
    response = exception_handler(exc, context)
    if response is None:
        return None
    headers = {name: value for name, value in response.headers.items() if name.lower() != "content-type"}
    if isinstance(exc, exceptions.ValidationError) and isinstance(response.data, dict):
        field, messages = next(iter(response.data.items()), (None, []))
        first = messages[0] if isinstance(messages, list) and messages else messages
        return problem_response(
            response.status_code,
            _title(response.status_code),
            f"{field}: {first}" if field and field != "non_field_errors" else str(first),
            field=None if field == "non_field_errors" else field,
            errors=response.data,
            headers=headers,
        )
    detail = response.data.get("detail") if isinstance(response.data, dict) else None
    return problem_response(
        response.status_code, _title(response.status_code), str(detail or ""), headers=headers
    )


def _title(code: int) -> str:
    from http import HTTPStatus

    return HTTPStatus(code).phrase
