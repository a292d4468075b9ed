import logging
import re
import time
import uuid

from django.conf import settings
from django.core.handlers.exception import convert_exception_to_response
from django.utils.encoding import escape_uri_path
from django.utils.functional import SimpleLazyObject, empty
from django.utils.module_loading import import_string
from rest_framework.throttling import BaseThrottle

from core.logging import request_id_var
from core.problems import database_problem, json_problem, problem_response

request_logger = logging.getLogger("evently.request")
logger = logging.getLogger(__name__)

# An incoming X-Request-ID is reused only if it is a plain token: it goes into every log line
# and back into a response header, so newlines, quotes or megabytes must never get through.
_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")


class RequestLogMiddleware:
    """One log line per request on `evently.request`, and an X-Request-ID on every response.

    First in MIDDLEWARE, so it times the whole stack and every record logged while the request
    runs (by any middleware, view or service) carries the request id.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request_id = request_id_from(request.headers.get("X-Request-ID", ""))
        request.request_id = request_id
        token = request_id_var.set(request_id)
        started = time.monotonic()
        try:
            # Django turns every exception into a response before it reaches here.
            response = self.get_response(request)
            response["X-Request-ID"] = request_id
            log_request(
                method=request.method,
                path=request.path,
                status=response.status_code,
                started=started,
                request_id=request_id,
                user_id=lambda: _user_id(request),
                remote_addr=lambda: client_address(request),
            )
            return response
        finally:
            request_id_var.reset(token)


def request_id_from(incoming: str) -> str:
    """The request's id: the incoming X-Request-ID when it is a plain token, else a new one."""
    return incoming if _SANE_REQUEST_ID.fullmatch(incoming) else uuid.uuid4().hex


def log_request(*, method, path, status, started, request_id, user_id, remote_addr) -> None:
    """The request's line on `evently.request`; `user_id` and `remote_addr` are called only
    when the line is written. RequestLogMiddleware writes it for every request Django answers,
    and waitingroom.fastpath for the joins and polls it answers before Django."""
    duration_ms = round((time.monotonic() - started) * 1000, 1)
    level = logging.ERROR if status >= 500 else logging.INFO
    if not request_logger.isEnabledFor(level):
        return  # LOG_LEVEL above it: the line's fields are not even gathered
    request_logger.log(
        level,
        "%s %s %s %.1fms",
        method,
        escape_uri_path(path),
        status,
        duration_ms,
        extra={
            "request_id": request_id,
            "method": method,
            "path": path,
            "status": status,
            "duration_ms": duration_ms,
            "user_id": user_id(),
            "remote_addr": remote_addr(),
        },
    )


def _user_id(request) -> str | None:
    # DRF puts the authenticated user on the Django request; the admin evaluates its session
    # user itself. A lazy user nobody looked at is left alone: reading it would cost a query
    # (and fail when the database is down) just for a log line.
    user = getattr(request, "user", None)
    if user is None or (isinstance(user, SimpleLazyObject) and user._wrapped is empty):
        return None
    return str(user.pk) if user.is_authenticated else None


def client_address(request) -> str | None:
    """The address the throttles see: X-Forwarded-For is trusted only for NUM_PROXIES hops."""
    return BaseThrottle().get_ident(request)


class SiteOnlyMiddleware:
    """Runs SITE_MIDDLEWARE (sessions, auth, messages) for requests outside /api/ only.

    The API authenticates with bearer tokens and keeps no session: on its path those three
    only cost time, which a booking pays on every request.
    """

    def __init__(self, get_response):
        self.api = get_response
        site = get_response
        for path in reversed(settings.SITE_MIDDLEWARE):
            site = convert_exception_to_response(import_string(path)(site))
        self.site = site

    def __call__(self, request):
        if request.path_info.startswith("/api/"):
            return self.api(request)
        return self.site(request)


class ContentSecurityPolicyMiddleware:
    """CONTENT_SECURITY_POLICY on every page of the site (the console, the desk): run by
    SiteOnlyMiddleware, so the API's JSON (and its docs pages) go without. The pages load
    only their own static files, with no inline script or style attribute, so a name or a
    title that slipped markup past the escaping still could not run a script. A view that
    sets its own policy keeps it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", settings.CONTENT_SECURITY_POLICY)
        return response


class DatabaseUnavailableMiddleware:
    """Answer 503 problem+json, not a bare 500, when the database is unreachable.

    DRF views get this from core.problems.exception_handler; this covers the rest (the
    Django admin). A lock timeout is an OperationalError too: it answers 409 `busy`, as in
    the API.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        found = database_problem(exception)
        return None if found is None else json_problem(*found)


class BodySizeLimitMiddleware:
    """Refuse request bodies larger than DATA_UPLOAD_MAX_MEMORY_SIZE before anything reads them.

    Django enforces that limit only on form data; DRF's JSON parser reads the raw stream.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if limit is not None and length > limit:
            return problem_response(
                413, "request_too_large", f"The request body is larger than {limit} bytes."
            )
        return self.get_response(request)
