import pytest

from tests.problems import assert_problem

pytestmark = pytest.mark.django_db


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


def test_throttle_counters_live_in_the_shared_database_cache(anon_api, settings):
    # Without REDIS_URL the counters sit in a table every worker shares; migrate created it.
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
    from django.db import connection

    payload = {"email": "x@example.com", "password": "whatever-it-is"}
    assert anon_api.post("/api/auth/login", payload, format="json").status_code == 401
    assert anon_api.post("/api/auth/login", payload, format="json").status_code == 401
    assert anon_api.post("/api/auth/login", payload, format="json").status_code == 429
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM evently_cache")
        assert cursor.fetchone()[0] >= 1
