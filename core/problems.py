"""RFC 9457 problem details for every error the API returns.

`exception_handler` is DRF's hook; `problem_response` is used by the few places outside DRF
(Django's 404/500 handlers, the health check) so that every error has one shape:
`{type, title, status, detail, code, errors}` served as `application/problem+json`.
"""

import logging
import math
from http import HTTPStatus
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.db import InterfaceError, OperationalError
from django.http import Http404, JsonResponse
from rest_framework import exceptions as drf
from rest_framework.response import Response
from rest_framework.views import set_rollback

from core import metrics
from core.exceptions import DomainError, Invalid, LockTimeout

logger = logging.getLogger(__name__)

PROBLEM_CONTENT_TYPE = "application/problem+json"

# DRF exception classes whose own default codes are too generic or differ from the contract.
_DRF_CODES: dict[type[drf.APIException], str] = {
    drf.ParseError: "parse_error",
    drf.UnsupportedMediaType: "unsupported_media_type",
    drf.MethodNotAllowed: "method_not_allowed",
    drf.NotAcceptable: "not_acceptable",
    drf.NotFound: "not_found",
    drf.PermissionDenied: "permission_denied",
    drf.NotAuthenticated: "not_authenticated",
    drf.Throttled: "throttled",
}


def problem(
    status: int,
    code: str,
    detail: str,
    *,
    title: str | None = None,
    errors: dict[str, list[str]] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    body = {
        "type": f"urn:evently:problem:{code}",
        "title": title or HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        "code": code,
        "errors": errors or {},
    }
    body.update(extra)
    return body


def problem_response(
    status: int, code: str, detail: str, *, headers: dict[str, str] | None = None, **kwargs: Any
) -> JsonResponse:
    """A problem document for code that runs outside DRF's views."""
    return json_problem(status, problem(status, code, detail, **kwargs), headers)


def json_problem(status: int, body: dict[str, Any], headers: dict[str, str] | None = None):
    return JsonResponse(body, status=status, content_type=PROBLEM_CONTENT_TYPE, headers=headers)


def database_problem(exc: Exception) -> tuple[int, dict[str, Any], dict[str, str]] | None:
    """(status, body, headers) when the database could not serve the request, else None.

    A lock wait past `lock_timeout` is a 409 `busy` the client may retry; any other operational
    error means the database is unreachable: 503. Shared by DRF's handler and, for the rest of
    the site, core.middleware.DatabaseUnavailableMiddleware.
    """
    if not isinstance(exc, OperationalError | InterfaceError):
        return None
    if _is_lock_timeout(exc):
        body = problem(409, LockTimeout.code, LockTimeout.default_detail, title=LockTimeout.title)
        return 409, body, {"Retry-After": str(LockTimeout.retry_after)}
    logger.warning("database unavailable: %s", exc.__class__.__name__)
    metrics.DATABASE_UNAVAILABLE.inc()
    body = problem(503, "database_unavailable", "The database is unavailable; retry shortly.")
    return 503, body, {"Retry-After": "5"}


def flatten_errors(detail: Any, prefix: str = "") -> dict[str, list[str]]:
    """DRF's nested error detail as `{"field": [...], "items.0.quantity": [...]}`."""
    if isinstance(detail, dict):
        flat: dict[str, list[str]] = {}
        for key, value in detail.items():
            name = "non_field_errors" if key == "non_field_errors" and not prefix else str(key)
            flat.update(flatten_errors(value, f"{prefix}.{name}" if prefix else name))
        return flat
    if isinstance(detail, list):
        if all(not isinstance(item, dict | list) for item in detail):
            return {prefix or "non_field_errors": [str(item) for item in detail]}
        flat = {}
        for index, item in enumerate(detail):
            flat.update(flatten_errors(item, f"{prefix}.{index}" if prefix else str(index)))
        return flat
    return {prefix or "non_field_errors": [str(detail)]}


def _first_message(detail: Any) -> str:
    if isinstance(detail, list) and detail:
        return _first_message(detail[0])
    if isinstance(detail, dict) and detail:
        return _first_message(next(iter(detail.values())))
    return str(detail)


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    headers: dict[str, str] = {}

    if isinstance(exc, Http404):
        exc = drf.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = drf.PermissionDenied()

    if isinstance(exc, DomainError):
        errors = exc.errors if isinstance(exc, Invalid) else None
        body = problem(
            exc.status, exc.code, exc.detail, title=exc.title, errors=errors, **exc.extra
        )
        if getattr(exc, "retry_after", None):
            headers["Retry-After"] = str(exc.retry_after)
        status = exc.status
    elif isinstance(exc, drf.ValidationError):
        status = 400
        body = problem(
            400,
            "validation_error",
            "One or more fields are invalid.",
            title="Invalid input",
            errors=flatten_errors(exc.detail),
        )
    elif isinstance(exc, drf.APIException):
        status = exc.status_code
        code = _DRF_CODES.get(type(exc)) or _code_of(exc)
        body = problem(status, code, _first_message(exc.detail))
        if getattr(exc, "auth_header", None):
            headers["WWW-Authenticate"] = exc.auth_header
        if isinstance(exc, drf.Throttled):
            # DRF cannot always tell the wait (after a rate is lowered); a minute is safe.
            wait = exc.wait if exc.wait is not None else 60
            headers["Retry-After"] = str(max(1, math.ceil(wait)))
    elif (found := database_problem(exc)) is not None:
        status, body, database_headers = found
        headers.update(database_headers)
    else:
        # A bug. Answered here, not by Django's handler500, so the API answers problem+json
        # with no stack trace or SQL even with DEBUG on; the log has the traceback.
        logger.exception("unhandled error")
        status = 500
        body = problem(500, "server_error", "An unexpected error occurred.")

    if status == 401:
        headers.setdefault("WWW-Authenticate", 'Bearer realm="api"')
    set_rollback()
    return Response(body, status=status, headers=headers, content_type=PROBLEM_CONTENT_TYPE)


def _code_of(exc: drf.APIException) -> str:
    codes = exc.get_codes()
    while isinstance(codes, list | dict) and codes:
        codes = codes[0] if isinstance(codes, list) else next(iter(codes.values()))
    return codes if isinstance(codes, str) and codes else exc.default_code


def _is_lock_timeout(exc: Exception) -> bool:
    # PostgreSQL's lock_not_available (55P03), raised when `lock_timeout` expires.
    cause = exc.__cause__
    return getattr(cause, "sqlstate", None) == "55P03"
