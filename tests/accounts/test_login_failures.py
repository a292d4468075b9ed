"""Failed logins are limited per account, whatever address they come from, through the API
and the admin site alike (THROTTLE_LOGIN_FAILURES)."""

import uuid
from datetime import timedelta

import pytest
import redis
import time_machine
from django.conf import settings as django_settings
from django.utils import timezone
from rest_framework.test import APIClient

from core.models import ThrottleCounter
from tests.factories import PASSWORD, AdminFactory, UserFactory
from tests.problems import assert_problem

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("one_throttle_window")]


@pytest.fixture(autouse=True)
def three_failures_a_minute(settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {
            **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
            "login": "1000/min",  # the per-address budget is not what is tested here
            "login_failures": "3/min",
        },
    }


@pytest.fixture
def ann():
    return UserFactory(email="ann@example.com", name="Ann")


def login(email: str, password: str, address: str):
    return APIClient().post(
        "/api/auth/login",
        {"email": email, "password": password},
        format="json",
        REMOTE_ADDR=address,
    )


def fail_three_times(email: str) -> None:
    for n in range(3):  # each from an address of its own
        assert login(email, "not-the-password", f"10.9.0.{n}").status_code == 401


def test_past_the_failures_the_account_is_429_from_any_address_even_with_the_password(ann):
    fail_three_times(ann.email)
    response = login(ann.email, PASSWORD, "10.9.9.9")
    assert_problem(response, 429, "throttled")
    assert 1 <= int(response["Retry-After"]) <= 60
    # Another spelling of the address is the same account.
    assert_problem(login("ANN@Example.COM", PASSWORD, "10.9.9.10"), 429, "throttled")
    # Another account is not held back.
    UserFactory(email="bob@example.com")
    assert login("bob@example.com", PASSWORD, "10.9.0.0").status_code == 200


def test_the_account_may_try_again_when_the_window_ends(ann):
    with time_machine.travel(timezone.now(), tick=False) as clock:
        fail_three_times(ann.email)
        assert login(ann.email, PASSWORD, "10.9.9.9").status_code == 429
        clock.shift(timedelta(seconds=61))
        assert login(ann.email, PASSWORD, "10.9.9.9").status_code == 200


def test_successful_logins_do_not_count(ann):
    for n in range(5):
        assert login(ann.email, PASSWORD, f"10.8.0.{n}").status_code == 200


def test_an_address_without_an_account_is_held_back_the_same(db):
    fail_three_times("nobody@example.com")
    assert_problem(login("nobody@example.com", "x", "10.9.9.9"), 429, "throttled")


def test_failures_at_the_admin_site_and_the_api_share_one_budget(client):
    ada = AdminFactory(email="ada@example.com")
    for _ in range(2):
        page = client.post("/admin/login/", {"username": ada.email, "password": "wrong"})
        assert page.status_code == 200  # the form again, with its error
    assert login(ada.email, "wrong", "10.7.0.1").status_code == 401  # the third failure
    assert_problem(login(ada.email, PASSWORD, "10.7.0.2"), 429, "throttled")
    refused = client.post("/admin/login/", {"username": ada.email, "password": PASSWORD})
    assert_problem(refused, 429, "throttled")
    assert "_auth_user_id" not in client.session


def test_without_redis_the_failures_are_counted_in_the_shared_table(settings, ann):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "evently_cache",
        }
    }
    fail_three_times(ann.email)
    [counter] = ThrottleCounter.objects.filter(key__startswith="throttle_login_failures_")
    assert counter.count == 3
    assert ann.email not in counter.key  # hashed: no address in the cache
    assert login(ann.email, PASSWORD, "10.9.9.9").status_code == 429


def test_in_redis_the_failures_are_counted_there(settings, ann):
    url = "redis://127.0.0.1:6379/13"
    try:
        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except redis.RedisError:
        pytest.skip("needs Redis on 127.0.0.1:6379")
    prefix = uuid.uuid4().hex
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": url,
            "KEY_PREFIX": prefix,
            "OPTIONS": {"socket_connect_timeout": django_settings.REDIS_TIMEOUT_SECONDS},
        }
    }
    client = redis.Redis.from_url(url)
    try:
        fail_three_times(ann.email)
        [key] = client.keys(f"{prefix}:*login_failures*")
        assert int(client.get(key)) == 3
        assert login(ann.email, PASSWORD, "10.9.9.9").status_code == 429
        assert not ThrottleCounter.objects.exists()
    finally:
        for key in client.keys(f"{prefix}:*"):
            client.delete(key)
