"""`GET /api/queue/{token}` answered in front of Django, when Redis holds the queues.

A crowd waiting for an on-sale polls far more often than it books, and a poll through Django's
whole stack (the request object, URL resolving, the middleware, DRF's request, negotiation,
authentication, permission and throttle) cost a third of a booking's instructions, most of it
in that stack rather than in the poll. `QueuePollFastPath` wraps the WSGI application
(evently/wsgi.py) and answers the plain poll itself, with the same code where it matters:

- the access token is checked by `ClaimsJWTAuthentication`, as DRF would call it (simplejwt's
  key, algorithm, audience, issuer, expiry and token type; a token without a role claim needs
  the account row, so Django answers it). `QueuePlaceView`'s permission, `ClaimsOnly`, asks for
  nothing more: a poll books nothing, and the booking reads the account;
- the per-user throttle is counted in the same Redis key, window and limit as
  core.throttling's `UserRateThrottle`, in the poll's own script call: one round trip;
- the place is read by the Redis store's poll script and answered with the view's body and
  `Retry-After` (waitingroom.services, waitingroom.views);
- every header the middleware and DRF give the view's answer is written in the same order,
  the request gets its X-Request-ID and its line on `evently.request`, and metrics count it
  under the route's pattern (core.middleware, core.metrics).

Everything else goes to Django as it came: another method (HEAD included) or path (the
trailing-slash variant included), a query string, a body, an Origin (CORS), an Accept other
than JSON's, a Host that is not plainly allowed, an SSL redirect to make, a missing, malformed,
invalid or expired token, a token that is not the caller's, a place given while Redis was out,
a queue that is closed or not yet in Redis, a caller over the throttle's limit, a throttle
cache that is not this Redis, or Redis failing (after which the fast path stands aside for a
few seconds, so an outage does not cost every poll two attempts). Django's answers to those
are its own, 401, 404, 429 and the fail-open alike. tests/waitingroom/test_fastpath.py holds
the two paths to the same bytes.

What a poll answered here does not do: open a database connection, send Django's
request_started and request_finished signals (whose handlers only close old database
connections and reset the URL conf), or touch a session.
"""

import re
import time
from types import SimpleNamespace

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

_PATH = re.compile(r"/api/queue/([A-Za-z0-9_-]+)")
# The Accept headers DRF's negotiation answers with JSON; any other goes to Django, which
# may answer 406.
_ACCEPTS = frozenset({None, "*/*", "application/json"})
# After Redis failed, polls go to Django for this long (its fail-open answers them).
_STAND_ASIDE_SECONDS = 5.0
_ROLES = frozenset(User.Role.values)


class QueuePollFastPath:
    """WSGI middleware: the plain queue poll answered before Django (see the module)."""

    def __init__(self, django_app):
        self.django = django_app
        self.authentication = ClaimsJWTAuthentication()
        # Set on first use: the route's pattern, for the metrics' label.
        self.route: str | None = None
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
        self.cors = re.match(settings.CORS_URLS_REGEX, "/api/queue/") is not None
        self.security_headers = _security_headers()

    def __call__(self, environ, start_response):
        if environ.get("REQUEST_METHOD") == "GET" and environ.get("PATH_INFO", "").startswith(
            "/api/queue/"
        ):
            answer = self.answer(environ)
            if answer is not None:
                start_response("200 OK", answer[0])
                return [answer[1]]
        return self.django(environ, start_response)

    def answer(self, environ) -> tuple[list, bytes] | None:
        """(headers, body) of the poll, or None for Django to answer it."""
        started = time.monotonic()
        timer = time.perf_counter()
        match = _PATH.fullmatch(environ["PATH_INFO"])
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
        counter = _counter(user_id, config)
        request_id = request_id_from(environ.get("HTTP_X_REQUEST_ID", ""))
        context = request_id_var.set(request_id)
        try:
            try:
                view = services.queue_poll_counted(token=match.group(1), user_id=user_id, **counter)
            except RedisError:
                self.stand_aside_until = time.monotonic() + _STAND_ASIDE_SECONDS
                return None
            if view is None:
                return None
            body = views.place_body(view)
            headers = [
                ("Retry-After", str(view.retry_after)),
                ("Content-Type", "application/json"),
                # DRF's, for the view's methods: its own GET, the HEAD Django derives from it,
                # and the OPTIONS every APIView answers.
                ("Allow", "GET, HEAD, OPTIONS"),
                ("X-Frame-Options", config.x_frame_options),
                ("Content-Length", str(len(body))),
            ]
            if self.cors:
                headers.append(("Vary", "origin"))
            if self.hsts and secure:
                headers.append(("Strict-Transport-Security", self.hsts))
            headers += self.security_headers
            headers.append(("X-Request-ID", request_id))
            log_request(
                method="GET",
                path=environ["PATH_INFO"],
                status=200,
                started=started,
                request_id=request_id,
                user_id=lambda: user_id,
                remote_addr=lambda: client_address(
                    SimpleNamespace(META=environ, headers=HttpHeaders(environ))
                ),
            )
            if metrics.ENABLED:
                metrics.count_request("GET", self.route_pattern(), 200, time.perf_counter() - timer)
            return headers, body
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

    def route_pattern(self) -> str:
        if self.route is None:
            self.route = resolve("/api/queue/token").route
        return self.route


# The settings a poll reads, gathered once: read through `settings` they were a tenth of a
# poll's instructions. A setting changed (by a test) gathers them again.
_config: SimpleNamespace | None = None


def _configure() -> SimpleNamespace:
    global _config
    allowed_hosts = settings.ALLOWED_HOSTS
    if settings.DEBUG and not allowed_hosts:
        allowed_hosts = [".localhost", "127.0.0.1", "[::1]"]
    # The throttles count in the queues' Redis only when the default cache is that Redis;
    # otherwise polls are Django's (`counter` None). Its key function is the backend's.
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


def _counter(user_id: str, config) -> dict:
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
