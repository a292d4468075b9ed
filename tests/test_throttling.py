"""The throttles count every request exactly, whichever worker serves it."""

import threading
import uuid

import pytest
import redis
from django.core.cache import caches
from django.db import connection
from django.test import RequestFactory

from core.throttling import LoginRateThrottle

REDIS_URL = "redis://127.0.0.1:6379/14"

# Every count here is of one window.
pytestmark = pytest.mark.usefixtures("one_throttle_window")


@pytest.fixture
def login_rate(settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {
            **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
            "login": "10/min",
        },
    }


@pytest.fixture
def redis_cache(settings):
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except redis.RedisError:
        pytest.skip("needs Redis on 127.0.0.1:6379")
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": uuid.uuid4().hex,  # counters of this test only
        }
    }
    yield caches["default"]
    caches["default"].clear()


def attempts(count: int, address: str) -> list[bool]:
    """`count` login attempts from one address at the same moment, each in its own thread
    with its own throttle (as separate workers would be); whether each was let through."""
    request = RequestFactory().post("/api/auth/login", REMOTE_ADDR=address)
    barrier = threading.Barrier(count)
    allowed: list[bool] = []

    def attempt():
        throttle = LoginRateThrottle()
        barrier.wait()
        try:
            allowed.append(throttle.allow_request(request, None))
        finally:
            connection.close()  # each thread's own, when the counters are in the database

    threads = [threading.Thread(target=attempt) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return allowed


def test_concurrent_requests_in_redis_are_each_counted(login_rate, redis_cache):
    allowed = attempts(40, "10.9.9.9")
    assert (allowed.count(True), allowed.count(False)) == (10, 30)
    # The counter expires with its window: one key, holding the 40 attempts, for at most 60 s.
    client = redis_cache._cache.get_client(write=True)
    [key] = client.keys(f"{redis_cache.key_prefix}*")
    assert int(client.get(key)) == 40
    assert 0 < client.ttl(key) <= 60
    # Another address has a budget of its own.
    assert attempts(1, "10.9.9.10") == [True]


def test_a_refused_request_is_told_when_the_window_ends(login_rate, redis_cache):
    request = RequestFactory().post("/api/auth/login", REMOTE_ADDR="10.8.8.8")
    throttles = [LoginRateThrottle() for _ in range(11)]
    assert [t.allow_request(request, None) for t in throttles] == [True] * 10 + [False]
    assert 0 < throttles[-1].wait() <= 60


def test_a_rate_switched_off_counts_nothing(settings, redis_cache):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {
            **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
            "login": None,
        },
    }
    assert attempts(5, "10.7.7.7") == [True] * 5
    assert redis_cache._cache.get_client(write=True).keys(f"{redis_cache.key_prefix}*") == []


def test_a_request_costs_one_redis_round_trip(login_rate, redis_cache, monkeypatch):
    # A spy on the real connection: every command batch sent to Redis is counted and sent.
    sent = []
    real_send = redis.connection.Connection.send_packed_command

    def send_packed_command(connection, command, check_health=True):
        sent.append(command)
        return real_send(connection, command, check_health)

    request = RequestFactory().post("/api/auth/login", REMOTE_ADDR="10.6.6.6")
    assert LoginRateThrottle().allow_request(request, None)  # opens the pooled connection
    monkeypatch.setattr(redis.connection.Connection, "send_packed_command", send_packed_command)
    assert LoginRateThrottle().allow_request(request, None)
    assert LoginRateThrottle().allow_request(request, None)
    assert len(sent) == 2  # one command a request: the increment script, by its digest


def test_the_increment_script_is_loaded_again_when_redis_has_forgotten_it(login_rate, redis_cache):
    request = RequestFactory().post("/api/auth/login", REMOTE_ADDR="10.6.6.7")
    assert LoginRateThrottle().allow_request(request, None)
    client = redis_cache._cache.get_client(write=True)
    client.script_flush()  # a Redis restart, or a failover to a replica that never saw it
    assert LoginRateThrottle().allow_request(request, None)
    [key] = client.keys(f"{redis_cache.key_prefix}*10.6.6.7*")
    assert int(client.get(key)) == 2
    assert 0 < client.ttl(key) <= 60


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_requests_without_redis_are_each_counted(login_rate, settings):
    # No Redis: the database cache, as settings configure it, and the counters go to their
    # own table, where the upsert on one row serialises the 40 attempts.
    from core.models import ThrottleCounter

    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "evently_cache",
        }
    }

    allowed = attempts(40, "10.5.5.5")
    assert (allowed.count(True), allowed.count(False)) == (10, 30)
    assert ThrottleCounter.objects.get(key__contains="10.5.5.5").count == 40
