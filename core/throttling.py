"""Throttles: rates read from settings on each use, counted atomically in the shared cache.

DRF's own classes copy the rates when first imported; reading them at call time lets the
environment (and tests) change a rate without re-importing anything.

DRF's own classes also keep a list of request times per client: read, append, write back. Two
workers serving one client at once both read the same list and the second write drops the
first's entry, so concurrent requests slip through uncounted; and the whole list is pickled
both ways on every request. Here each client has one counter per fixed window of the rate's
period, added to with a single atomic increment (on Redis: one script that increments and
sets the expiry of a new counter; without Redis, one upsert on a table of counters). The price
of a fixed window: a client can spend one window's budget at its very end and the next one's
at the start of the next.

Redis is a cache, not the store of record: when it does not answer, a throttle counts in the
database table instead (as it does without REDIS_URL), so every route keeps answering and the
limits still hold, and a warning says so in the log (`_warn_redis_down`).
"""

import functools
import hashlib
import logging
import time
from datetime import timedelta

from django.core.cache import DEFAULT_CACHE_ALIAS, caches
from django.core.cache.backends.db import DatabaseCache
from django.core.cache.backends.redis import RedisCache
from django.db import connection
from django.utils import timezone
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from rest_framework import throttling
from rest_framework.settings import api_settings

from core import metrics
from core.logging import PacedWarning
from core.models import ThrottleCounter

logger = logging.getLogger(__name__)

# What a Redis that is down, restarting or out of reach raises (a refused connection, a
# timeout, a connection closed mid-reply, "loading the dataset").
REDIS_UNAVAILABLE = (RedisConnectionError, RedisTimeoutError)

# INCR, and EXPIRE on the window's first request: one command, atomic in Redis. A pipeline of
# INCR and EXPIRE NX did the same in one round trip, with two commands for redis-py to build
# and two replies to parse (1% of a booking's instructions).
_INCREMENT_SCRIPT = """
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return count
"""


def _redis_increment(cache: RedisCache):
    """The increment script, bound to one client per cache backend (backends are per thread):
    Django's builds a new `redis.Redis`, with its table of a few hundred response callbacks,
    on every call. The client shares the backend's pool; the script is sent by its digest and
    loaded into Redis when Redis does not know it (redis-py's `Script`)."""
    script = getattr(cache, "_throttle_increment", None)
    if script is None:
        client = cache._cache.get_client(write=True)
        script = cache._throttle_increment = client.register_script(_INCREMENT_SCRIPT)
    return script


# That Redis is unavailable, logged at most once a minute per process.
_redis_down_warning = PacedWarning(logger, every=60.0)


def _warn_redis_down(exc: Exception) -> None:
    _redis_down_warning("Redis is unavailable, throttles count in the database: %s", exc)


def _increment(cache, key: str, timeout: int) -> int:
    """Add one to the counter `key` (created, expiring in `timeout` seconds, if missing)."""
    if isinstance(cache, RedisCache):
        # make_key, not make_and_validate_key: validating only warns about keys memcached
        # would refuse, walking the key a character at a time on every request.
        try:
            return _redis_increment(cache)(keys=[cache.make_key(key)], args=[timeout])
        except REDIS_UNAVAILABLE as exc:
            # The table every worker shares instead: the limit still holds across workers,
            # with a count that starts again from zero for the outage.
            _warn_redis_down(exc)
            return _increment_in_database(key, timeout)
    if isinstance(cache, DatabaseCache):  # no Redis: the counters table, not the cache's
        return _increment_in_database(key, timeout)
    # Any other shared cache: as atomic as its incr.
    cache.add(key, 0, timeout)
    try:
        return cache.incr(key)
    except ValueError:  # expired in between
        cache.add(key, 1, timeout)
        return 1


@functools.cache
def _upsert_sql(vendor: str) -> str:
    table = connection.ops.quote_name(ThrottleCounter._meta.db_table)
    key, count, expires = (
        connection.ops.quote_name(ThrottleCounter._meta.get_field(name).column)
        for name in ("key", "count", "expires_at")
    )
    return (
        f"INSERT INTO {table} ({key}, {count}, {expires}) VALUES (%s, 1, %s) "
        f"ON CONFLICT ({key}) DO UPDATE SET {count} = {table}.{count} + 1 RETURNING {count}"
    )


def _increment_in_database(key: str, timeout: int) -> int:
    """Without Redis: one upsert on a table every worker shares (PostgreSQL or SQLite), where
    Django's database cache took several statements and culled old entries on the way."""
    expires_at = timezone.now() + timedelta(seconds=timeout)
    with connection.cursor() as cursor:
        cursor.execute(
            _upsert_sql(connection.vendor),
            [key, connection.ops.adapt_datetimefield_value(expires_at)],
        )
        return cursor.fetchone()[0]


def throttle_counters_prune(*, now=None) -> int:
    """Delete the counters of windows that have ended."""
    deleted, _ = ThrottleCounter.objects.filter(expires_at__lt=now or timezone.now()).delete()
    return deleted


class _CountedWindow:
    @property
    def cache(self):
        # The backend itself: DRF's `default_cache` is a proxy, which `isinstance` does not
        # see through, so the Redis path above would never be taken.
        return caches[DEFAULT_CACHE_ALIAS]

    def get_rate(self):
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)

    def allow_request(self, request, view) -> bool:
        if self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        now = self.timer()
        window = int(now // self.duration)
        self.wait_seconds = (window + 1) * self.duration - now
        count = _increment(self.cache, f"{self.key}:{window}", self.duration)
        if count > self.num_requests:
            metrics.THROTTLED.labels(self.scope).inc()
            return False
        return True

    def wait(self) -> float:
        return self.wait_seconds


class AnonRateThrottle(_CountedWindow, throttling.AnonRateThrottle):
    pass


class UserRateThrottle(_CountedWindow, throttling.UserRateThrottle):
    pass


class LoginRateThrottle(_CountedWindow, throttling.SimpleRateThrottle):
    """Per client address, signed in or not: guessing passwords costs the same from any account."""

    scope = "login"

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


def shared_cache_answers() -> bool:
    """Whether the cache the throttles count in answers: Redis is pinged; without Redis the
    counters are in the database, which the caller checks itself."""
    cache = caches[DEFAULT_CACHE_ALIAS]
    if not isinstance(cache, RedisCache):
        return True
    try:
        cache._cache.get_client().ping()
    except REDIS_UNAVAILABLE:
        return False
    return True


def _count(cache, key: str) -> int:
    """The counter `key` as it stands (0 when missing), from where `_increment` keeps it."""
    if isinstance(cache, RedisCache):
        try:
            value = cache._cache.get_client().get(cache.make_key(key))
        except REDIS_UNAVAILABLE as exc:
            _warn_redis_down(exc)
        else:
            return int(value or 0)
    if isinstance(cache, RedisCache | DatabaseCache):
        count = (
            ThrottleCounter.objects.filter(key=key, expires_at__gt=timezone.now())
            .values_list("count", flat=True)
            .first()
        )
        return count or 0
    return cache.get(key, 0)


class LoginFailures:
    """Failed logins per account, whatever address they come from (`login_failures` rate,
    THROTTLE_LOGIN_FAILURES): the per-address `login` throttle alone lets an attacker with many
    addresses guess one account's password freely.

    Only failures count, in the same fixed windows and shared counters as the throttles: a
    login is refused (429) while its account's failures in this window have reached the rate,
    and a failure adds one. `account` is the address as the login form normalises it, so every
    spelling of one account shares a counter, and an address with no account counts the same
    as one with (a 429 tells nothing about which exist). It is hashed into the key: no address
    is written to the cache.
    """

    scope = "login_failures"

    def __init__(self, account: str):
        self.rate = api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)
        digest = hashlib.sha256(account.encode()).hexdigest()[:32]
        if self.rate:
            self.num_requests, self.duration = throttling.SimpleRateThrottle.parse_rate(
                None, self.rate
            )
            now = time.time()
            window = int(now // self.duration)
            self.key = f"throttle_{self.scope}_{digest}:{window}"
            self.wait_seconds = (window + 1) * self.duration - now

    def wait(self) -> float | None:
        """Seconds until this account may try again, or None if it may now."""
        if not self.rate:
            return None
        cache = caches[DEFAULT_CACHE_ALIAS]
        return self.wait_seconds if _count(cache, self.key) >= self.num_requests else None

    def record(self) -> None:
        """Count one failed login of this account."""
        if self.rate:
            _increment(caches[DEFAULT_CACHE_ALIAS], self.key, self.duration)
