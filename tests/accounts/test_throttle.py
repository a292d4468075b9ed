import pytest

from tests.problems import assert_problem

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("one_throttle_window")]


def test_login_is_throttled_per_client_address(anon_api, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {
            **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
            "login": "3/min",
        },
    }
    payload = {"email": "x@example.com", "password": "whatever-it-is"}
    for _ in range(3):
        response = anon_api.post("/api/auth/login", payload, format="json")
        assert response.status_code == 401
    response = anon_api.post("/api/auth/login", payload, format="json")
    assert_problem(response, 429, "throttled")
    assert 1 <= int(response["Retry-After"]) <= 60

    # Register shares the budget of the same address; another address has its own.
    assert anon_api.post("/api/auth/register", {}, format="json").status_code == 429
    elsewhere = anon_api.post("/api/auth/login", payload, format="json", REMOTE_ADDR="10.1.2.3")
    assert elsewhere.status_code == 401


def test_without_redis_each_request_is_one_upsert_on_the_counters_table(
    anon_api, settings, django_assert_num_queries
):
    # Without REDIS_URL the counters sit in a table every worker shares.
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "evently_cache",
        }
    }
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {
            **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
            "login": "2/min",
        },
    }
    from django.test import RequestFactory

    from core.models import ThrottleCounter
    from core.throttling import LoginRateThrottle

    request = RequestFactory().post("/api/auth/login", REMOTE_ADDR="10.4.4.4")
    with django_assert_num_queries(1):
        assert LoginRateThrottle().allow_request(request, None)
    payload = {"email": "x@example.com", "password": "whatever-it-is"}
    assert anon_api.post("/api/auth/login", payload, format="json").status_code == 401
    assert anon_api.post("/api/auth/login", payload, format="json").status_code == 401
    assert anon_api.post("/api/auth/login", payload, format="json").status_code == 429
    [counter] = ThrottleCounter.objects.filter(key__contains="127.0.0.1")
    assert counter.count == 3


def test_ended_windows_are_pruned_by_the_command(settings):
    from datetime import timedelta

    from django.core.management import call_command
    from django.utils import timezone

    from core.models import ThrottleCounter

    now = timezone.now()
    ThrottleCounter.objects.create(key="old", count=5, expires_at=now - timedelta(seconds=1))
    ThrottleCounter.objects.create(key="live", count=1, expires_at=now + timedelta(seconds=60))
    call_command("prune_throttle_counters", verbosity=0)
    assert list(ThrottleCounter.objects.values_list("key", flat=True)) == ["live"]
