"""The waiting room's join and poll answered in front of Django, when Redis holds the queues.

When an on-sale opens, the whole crowd joins within seconds and then polls far more often than
it books; a join or a poll through Django's whole stack (the request object, URL resolving, the
middleware, DRF's request, negotiation, authentication, permission and throttle) cost a third
of a booking's instructions, most of it in that stack rather than in the queue. `QueueFastPath`
wraps the WSGI application (evently/wsgi.py) and answers the plain `POST
/api/events/{id}/queue` and `GET /api/queue/{token}` itself, with the same code where it
matters:

- the access token is checked by `ClaimsJWTAuthentication`, as DRF would call it (simplejwt's
  key, algorithm, audience, issuer, expiry and token type; a token without a role claim needs
  the account row, so Django answers it). The views' permission, `ClaimsOnly`, asks for
  nothing more: a place books nothing, and the booking reads the account;
- the per-user throttle is counted in the same Redis key, window and limit as
  core.throttling's `UserRateThrottle`, in the join's or the poll's own script call: one
  round trip;
- the place is taken or read by the Redis store's scripts and answered with the views' body,
  status and `Retry-After` (waitingroom.services, waitingroom.views);
- every header the middleware and DRF give the views' answers is written in the same order,
  the request gets its X-Request-ID and its line on `evently.request`, and metrics count it
  under the route's pattern (core.middleware, core.metrics).

Everything else goes to Django as it came: another method (HEAD included) or path (the
trailing-slash variant included, and an event id not in uuid's canonical form), a query
string, a body, an Origin (CORS), an Accept other than JSON's, a Host that is not plainly
allowed, an SSL redirect to make, a missing, malformed, invalid or expired token, a token
that is not the caller's, a place given while Redis was out, a queue that is closed or not yet
in Redis, a caller over the throttle's limit, a throttle cache that is not this Redis, or Redis
failing (after which the fast path stands aside for a few seconds, so an outage does not cost
every request two attempts). Django's answers to those are its own, 401, 404, 429 and the
fail-open alike. tests/waitingroom/test_fastpath.py holds the two paths to the same bytes.

One difference it accepts: when Redis runs a join's script but its answer is lost (the socket's
one-second timeout), Django joins again and finds the place taken, so the person gets it with
200 rather than 201, and the throttle counts them twice. A poll retried that way is the same.

What a join or poll answered here does not do: open a database connection, send Django's
request_started and request_finished signals (whose handlers only close old database
connections and reset the URL conf), or touch a session.
"""

import re
import time
import uuid
from collections.abc import Callable
from types import SimpleNamespace
from typing import NamedTuple

from django.conf import settings
from django.core.cache import DEFAULT_CACHE_ALIAS, caches
from django.core.cache.backends.redis import RedisCache
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.http.request import HttpHeaders, split_domain_port, validate_host
from django.urls import resolve
from redis.exceptions import RedisError
from rest_framework import HTTP_HEADER_ENCODING
from rest_framework.exceptions import APIException
from rest_framework.settings import api_settings as drf_settings
from rest_framework.throttling import SimpleRateThrottle
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.settings import api_settings as jwt_settings

from accounts.authentication import ClaimsJWTAuthentication
from accounts.models import User
from core import metrics
from core.logging import request_id_var
from core.middleware import client_address, log_request, request_id_from
from core.throttling import UserRateThrottle
from waitingroom import services, views

# The Accept headers DRF's negotiation answers with JSON; any other goes to Django, which
# may answer 406.
_ACCEPTS = frozenset({None, "*/*", "application/json"})
# After Redis failed, joins and polls go to Django for this long (its fail-open answers them).
_STAND_ASIDE_SECONDS = 5.0
_ROLES = frozenset(User.Role.values)


class Route(NamedTuple):
    """A request the fast path answers: its method, its path's prefix (a cheap first test) and
    whole pattern, DRF's Allow header for the view, a path Django resolves to the view (for the
    metrics' label), and what answers it: (view, status line), view None for Django."""

    method: str
    prefix: str
    pattern: re.Pattern
    allow: str
    sample: str
    run: Callable[[re.Match, str, dict], tuple[services.QueueView | None, str]]


def _join(match: re.Match, user_id: str, throttle: dict):
    view = services.queue_join_counted(event_id=uuid.UUID(match[1]), user_id=user_id, **throttle)
    return view, "201 Created" if view is not None and view.created else "200 OK"


def _poll(match: re.Match, user_id: str, throttle: dict):
    return services.queue_poll_counted(token=match[1], user_id=user_id, **throttle), "200 OK"


ROUTES = (
    # Django's pattern takes any event id that uuid.UUID() reads; only the canonical form,
    # which is what clients send, is answered here.
    Route(
        "POST",
        "/api/events/",
        re.compile(
            r"/api/events/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})/queue"
        ),
        # DRF's, for the view's methods: its own POST and the OPTIONS every APIView answers.
        "POST, OPTIONS",
        "/api/events/00000000-0000-0000-0000-000000000000/queue",
        _join,
    ),
    Route(
        "GET",
        "/api/queue/",
        re.compile(r"/api/queue/([A-Za-z0-9_-]+)"),
        # Its own GET, the HEAD Django derives from it, and OPTIONS.
        "GET, HEAD, OPTIONS",
        "/api/queue/token",
        _poll,
    ),
)


class QueueFastPath:
    """WSGI middleware: the plain queue join and poll answered before Django (see the
    module)."""

    def __init__(self, django_app):
        self.django = django_app
        self.authentication = ClaimsJWTAuthentication()
        # Set on first use: each route's pattern, for the metrics' label.
        self.patterns: dict[str, str] = {}
        self.stand_aside_until = 0.0
        self.hosts: dict = {}  # Host header -> allowed, under the settings of `config`
        # The middleware read these settings when Django built them; so is this read once.
        self.ssl_redirect = settings.SECURE_SSL_REDIRECT
        self.hsts = None
        if settings.SECURE_HSTS_SECONDS:
            self.hsts = f"max-age={settings.SECURE_HSTS_SECONDS}"
            if settings.SECURE_HSTS_INCLUDE_SUBDOMAINS:
                self.hsts += "; includeSubDomains"
            if settings.SECURE_HSTS_PRELOAD:
                self.hsts += "; preload"
        # CorsMiddleware's test, on a path of each route.
        self.cors = {
            r.prefix: re.match(settings.CORS_URLS_REGEX, r.sample) is not None for r in ROUTES
        }
        self.security_headers = _security_headers()

    def __call__(self, environ, start_response):
        method, path = environ.get("REQUEST_METHOD"), environ.get("PATH_INFO", "")
        for route in ROUTES:
            if method == route.method and path.startswith(route.prefix):
                answer = self.answer(environ, route)
                if answer is not None:
                    start_response(answer[0], answer[1])
                    return [answer[2]]
                break
        return self.django(environ, start_response)

    def answer(self, environ, route: Route) -> tuple[str, list, bytes] | None:
        """(status line, headers, body) of the request, or None for Django to answer it."""
        started = time.monotonic()
        timer = time.perf_counter()
        match = route.pattern.fullmatch(environ["PATH_INFO"])
        config = _config or _configure()
        if (
            match is None
            or not config.redis
            or started < self.stand_aside_until
            or environ.get("SCRIPT_NAME")
            or environ.get("QUERY_STRING")
            or environ.get("CONTENT_LENGTH") not in (None, "", "0")
            or "HTTP_TRANSFER_ENCODING" in environ
            or "HTTP_ORIGIN" in environ
            or environ.get("HTTP_ACCEPT") not in _ACCEPTS
            or config.prepend_www
            or (config.disallowed_user_agents and "HTTP_USER_AGENT" in environ)
        ):
            return None
        secure = _is_secure(environ, config.proxy_ssl_header)
        if (self.ssl_redirect and not secure) or not self.host_allowed(environ, config):
            return None
        user_id = self.caller(environ)
        if user_id is None:
            return None
        throttle = _throttle(user_id, config)
        request_id = request_id_from(environ.get("HTTP_X_REQUEST_ID", ""))
        context = request_id_var.set(request_id)
        try:
            try:
                view, status_line = route.run(match, user_id, throttle)
            except RedisError:
                self.stand_aside_until = time.monotonic() + _STAND_ASIDE_SECONDS
                return None
            if view is None:
                return None
            status = int(status_line[:3])
            body = views.place_body(view)
            headers = [
                ("Retry-After", str(view.retry_after)),
                ("Content-Type", "application/json"),
                ("Allow", route.allow),
                ("X-Frame-Options", config.x_frame_options),
                ("Content-Length", str(len(body))),
            ]
            if self.cors[route.prefix]:
                headers.append(("Vary", "origin"))
            if self.hsts and secure:
                headers.append(("Strict-Transport-Security", self.hsts))
            headers += self.security_headers
            headers.append(("X-Request-ID", request_id))
            log_request(
                method=route.method,
                path=environ["PATH_INFO"],
                status=status,
                started=started,
                request_id=request_id,
                user_id=lambda: user_id,
                remote_addr=lambda: client_address(
                    SimpleNamespace(META=environ, headers=HttpHeaders(environ))
                ),
            )
            if metrics.ENABLED:
                elapsed = time.perf_counter() - timer
                metrics.count_request(route.method, self.pattern(route), status, elapsed)
            return status_line, headers, body
        finally:
            request_id_var.reset(context)

    def caller(self, environ) -> str | None:
        """The caller's user id from the bearer token, as ClaimsJWTAuthentication reads it;
        None when Django has to decide (no token, a bad one, one without a role claim)."""
        header = environ.get(jwt_settings.AUTH_HEADER_NAME)
        if not header:
            return None
        try:
            raw = self.authentication.get_raw_token(header.encode(HTTP_HEADER_ENCODING))
            if raw is None:
                return None
            token = self.authentication.get_validated_token(raw)
        except (APIException, TokenError, UnicodeError):
            return None
        if token.get("role") not in _ROLES:
            return None
        user_id = token.get(jwt_settings.USER_ID_CLAIM)
        return user_id if isinstance(user_id, str) else None

    def host_allowed(self, environ, config) -> bool:
        """Whether Django's get_host() would take this Host header as it is."""
        host = environ.get("HTTP_HOST")
        if not host or (config.use_x_forwarded_host and "HTTP_X_FORWARDED_HOST" in environ):
            return False
        key = (host, config.allowed_hosts)
        allowed = self.hosts.get(key)
        if allowed is None:
            domain, _ = split_domain_port(host)
            allowed = bool(domain) and validate_host(domain, config.allowed_hosts)
            if len(self.hosts) < 64:  # Host headers are a client's to choose
                self.hosts[key] = allowed
        return allowed

    def pattern(self, route: Route) -> str:
        found = self.patterns.get(route.sample)
        if found is None:
            found = self.patterns[route.sample] = resolve(route.sample).route
        return found


# The settings a join or poll reads, gathered once: read through `settings` they were a tenth
# of a poll's instructions. A setting changed (by a test) gathers them again.
_config: SimpleNamespace | None = None


def _configure() -> SimpleNamespace:
    global _config
    allowed_hosts = settings.ALLOWED_HOSTS
    if settings.DEBUG and not allowed_hosts:
        allowed_hosts = [".localhost", "127.0.0.1", "[::1]"]
    # The throttles count in the queues' Redis only when the default cache is that Redis;
    # otherwise joins and polls are Django's (`redis` False). Its key function is the
    # backend's.
    cache = caches[DEFAULT_CACHE_ALIAS]
    counted_here = isinstance(cache, RedisCache) and cache._servers == [settings.REDIS_URL]
    rate = drf_settings.DEFAULT_THROTTLE_RATES.get(UserRateThrottle.scope)
    _config = SimpleNamespace(
        redis=bool(settings.REDIS_URL) and counted_here,
        prepend_www=settings.PREPEND_WWW,
        disallowed_user_agents=bool(settings.DISALLOWED_USER_AGENTS),
        proxy_ssl_header=settings.SECURE_PROXY_SSL_HEADER,
        use_x_forwarded_host=settings.USE_X_FORWARDED_HOST,
        allowed_hosts=tuple(allowed_hosts),
        x_frame_options=getattr(settings, "X_FRAME_OPTIONS", "DENY").upper(),
        make_key=cache.make_key,
        rate=None if rate is None else SimpleRateThrottle.parse_rate(None, rate),
    )
    return _config


@receiver(setting_changed)
def _settings_changed(**kwargs) -> None:
    global _config
    _config = None


def _throttle(user_id: str, config) -> dict:
    """UserRateThrottle's Redis key, limit and window for this caller now; a limit of -1 when
    its rate is off."""
    if config.rate is None:
        return {"counter": "", "limit": -1, "window": 0}
    limit, seconds = config.rate
    key = UserRateThrottle.cache_format % {"scope": UserRateThrottle.scope, "ident": user_id}
    window = int(time.time() // seconds)
    return {"counter": config.make_key(f"{key}:{window}"), "limit": limit, "window": seconds}


def _is_secure(environ, proxy_ssl_header) -> bool:
    """HttpRequest.is_secure(), from the WSGI environ."""
    if proxy_ssl_header:
        header, secure_value = proxy_ssl_header
        value = environ.get(header)
        if value is not None:
            return value.split(",", 1)[0].strip() == secure_value
    return environ.get("wsgi.url_scheme") == "https"


def _security_headers() -> list[tuple[str, str]]:
    """SecurityMiddleware's headers after HSTS, in its order."""
    headers = []
    if settings.SECURE_CONTENT_TYPE_NOSNIFF:
        headers.append(("X-Content-Type-Options", "nosniff"))
    policy = settings.SECURE_REFERRER_POLICY
    if policy:
        values = [v.strip() for v in policy.split(",")] if isinstance(policy, str) else policy
        headers.append(("Referrer-Policy", ",".join(values)))
    if settings.SECURE_CROSS_ORIGIN_OPENER_POLICY:
        headers.append(("Cross-Origin-Opener-Policy", settings.SECURE_CROSS_ORIGIN_OPENER_POLICY))
    return headers
