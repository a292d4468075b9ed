"""Redis going away makes no route fail: the throttles count in the database instead, the log
says so (a line a minute per process, not one per request), and health reports it with 200."""

import logging
import shutil
import socket
import subprocess
import time
import uuid

import pytest
import redis
from django.conf import settings as django_settings
from django.core.cache import caches

from core import throttling
from core.models import ThrottleCounter
from tests.conftest import client_for
from tests.factories import PASSWORD, EventFactory, UserFactory

pytestmark = pytest.mark.django_db


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def use_redis(settings, url: str) -> None:
    """The cache as settings.py configures it for REDIS_URL=url, timeouts included."""
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": url,
            "KEY_PREFIX": uuid.uuid4().hex,
            "OPTIONS": {
                "socket_connect_timeout": django_settings.REDIS_TIMEOUT_SECONDS,
                "socket_timeout": django_settings.REDIS_TIMEOUT_SECONDS,
            },
        }
    }


@pytest.fixture(autouse=True)
def fresh_warning_limit(monkeypatch):
    """Each test starts as a fresh process would: no warning logged yet."""
    throttling._redis_down_warning.reset()


@pytest.fixture
def login_rate(settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {
            **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
            "login": "5/min",
        },
    }


def redis_warnings(caplog) -> list[logging.LogRecord]:
    return [
        r for r in caplog.records if r.name == "core.throttling" and r.levelno == logging.WARNING
    ]


def every_kind_of_route(api, anon, event) -> dict[str, int]:
    """A public read, a signed-in read and a booking, each behind a throttle."""
    booking = api.post("/api/bookings", {"event_id": str(event.pk), "quantity": 1}, format="json")
    return {
        "GET /api/events": anon.get("/api/events").status_code,
        "GET /api/auth/me": api.get("/api/auth/me").status_code,
        "POST /api/bookings": booking.status_code,
    }


def test_with_redis_on_a_closed_port_every_route_answers_and_health_is_degraded(
    settings, caplog, anon_api, login_rate, one_throttle_window
):
    use_redis(settings, f"redis://127.0.0.1:{free_port()}/3")
    user = UserFactory(email="ann@example.com")
    event = EventFactory(total_capacity=50)
    caplog.set_level(logging.WARNING, logger="core.throttling")

    for _ in range(3):
        assert every_kind_of_route(client_for(user), anon_api, event) == {
            "GET /api/events": 200,
            "GET /api/auth/me": 200,
            "POST /api/bookings": 201,
        }
    health = anon_api.get("/api/health")
    assert health.status_code == 200
    assert health.json() == {"status": "degraded", "database": "ok", "cache": "unavailable"}

    # The limits still hold: the counters went to the database table.
    logins = [
        anon_api.post(
            "/api/auth/login", {"email": user.email, "password": PASSWORD}, format="json"
        ).status_code
        for _ in range(6)
    ]
    assert logins == [200] * 5 + [429]
    assert ThrottleCounter.objects.filter(key__contains="login").exists()

    # Fifteen requests failed to reach Redis; one warning said so.
    [warning] = redis_warnings(caplog)
    assert "Redis is unavailable, throttles count in the database" in warning.getMessage()


def test_the_warning_comes_again_after_a_minute_with_the_count_it_held_back(
    settings, caplog, anon_api, monkeypatch
):
    use_redis(settings, f"redis://127.0.0.1:{free_port()}/3")
    caplog.set_level(logging.WARNING, logger="core.throttling")
    for _ in range(4):
        assert anon_api.get("/api/events").status_code == 200
    assert len(redis_warnings(caplog)) == 1

    monkeypatch.setattr(throttling._redis_down_warning, "last_at", time.monotonic() - 61)
    assert anon_api.get("/api/events").status_code == 200
    first, second = redis_warnings(caplog)
    # Each request passed two throttles (anon and user): 8 failures, the first one logged.
    assert (first.suppressed, second.suppressed) == (0, 7)


@pytest.fixture
def own_redis():
    """A redis-server of this test's own, on a free port, with nothing kept on disk."""
    if shutil.which("redis-server") is None:
        pytest.skip("needs redis-server (Debian's redis-server package)")
    port = free_port()
    process = subprocess.Popen(
        ["redis-server", "--port", str(port), "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    client = redis.Redis(port=port, socket_connect_timeout=0.5)
    for _ in range(100):
        try:
            client.ping()
            break
        except redis.ConnectionError:
            time.sleep(0.05)
    else:
        process.kill()
        pytest.fail("redis-server did not start")
    yield process, port
    process.kill()
    process.wait(10)


def test_redis_stopped_part_way_through_a_run(settings, caplog, anon_api, own_redis):
    process, port = own_redis
    use_redis(settings, f"redis://127.0.0.1:{port}/0")
    user = UserFactory(email="ann@example.com")
    event = EventFactory(total_capacity=50)
    api = client_for(user)
    caplog.set_level(logging.WARNING, logger="core.throttling")
    answered = {"GET /api/events": 200, "GET /api/auth/me": 200, "POST /api/bookings": 201}

    assert every_kind_of_route(api, anon_api, event) == answered
    assert anon_api.get("/api/health").json() == {"status": "ok", "database": "ok", "cache": "ok"}
    counters = caches["default"]._cache.get_client().keys("*")
    assert counters, "the throttles counted in Redis while it ran"
    assert not ThrottleCounter.objects.exists()
    assert redis_warnings(caplog) == []

    # Redis goes away; the pooled connections are left dangling.
    process.terminate()
    process.wait(10)

    started = time.monotonic()
    for _ in range(3):
        assert every_kind_of_route(api, anon_api, event) == answered
    assert time.monotonic() - started < 5  # no request waits long on the dead server
    health = anon_api.get("/api/health")
    assert health.status_code == 200
    assert health.json() == {"status": "degraded", "database": "ok", "cache": "unavailable"}
    assert ThrottleCounter.objects.exists()
    assert len(redis_warnings(caplog)) == 1
