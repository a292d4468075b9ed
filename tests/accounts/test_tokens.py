from datetime import timedelta

import jwt
import pytest
import time_machine
from django.conf import settings
from django.utils import timezone

from tests.factories import PASSWORD
from tests.problems import assert_problem

pytestmark = pytest.mark.django_db


def login(client, email="ann@example.com"):
    response = client.post("/api/auth/login", {"email": email, "password": PASSWORD}, format="json")
    assert response.status_code == 200
    return response.json()


def test_refresh_rotates_and_old_refresh_token_stops_working(anon_api, user):
    first = login(anon_api)
    response = anon_api.post("/api/auth/refresh", {"refresh": first["refresh"]}, format="json")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"access", "refresh"}
    assert body["refresh"] != first["refresh"]

    again = anon_api.post("/api/auth/refresh", {"refresh": first["refresh"]}, format="json")
    assert_problem(again, 401, "token_not_valid")

    rotated = anon_api.post("/api/auth/refresh", {"refresh": body["refresh"]}, format="json")
    assert rotated.status_code == 200


def test_refresh_rejects_access_token_and_garbage(anon_api, user):
    tokens = login(anon_api)
    assert_problem(
        anon_api.post("/api/auth/refresh", {"refresh": tokens["access"]}, format="json"),
        401,
        "token_not_valid",
    )
    assert_problem(
        anon_api.post("/api/auth/refresh", {"refresh": "garbage"}, format="json"),
        401,
        "token_not_valid",
    )
    assert_problem(
        anon_api.post("/api/auth/refresh", {}, format="json"),
        400,
        "validation_error",
        fields={"refresh"},
    )


def test_logout_revokes_refresh_token(anon_api, user):
    tokens = login(anon_api)
    anon_api.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
    response = anon_api.post("/api/auth/logout", {"refresh": tokens["refresh"]}, format="json")
    assert response.status_code == 204
    assert response.content == b""
    anon_api.credentials()
    again = anon_api.post("/api/auth/refresh", {"refresh": tokens["refresh"]}, format="json")
    assert_problem(again, 401, "token_not_valid")


def test_logout_needs_authentication(anon_api, user):
    tokens = login(anon_api)
    response = anon_api.post("/api/auth/logout", {"refresh": tokens["refresh"]}, format="json")
    assert_problem(response, 401, "not_authenticated")
    # Nothing was revoked.
    assert (
        anon_api.post(
            "/api/auth/refresh", {"refresh": tokens["refresh"]}, format="json"
        ).status_code
        == 200
    )


def test_logout_cannot_revoke_someone_elses_refresh_token(anon_api, user, other_user):
    mine = login(anon_api)
    theirs = login(anon_api, "bob@example.com")
    anon_api.credentials(HTTP_AUTHORIZATION=f"Bearer {mine['access']}")
    response = anon_api.post("/api/auth/logout", {"refresh": theirs["refresh"]}, format="json")
    assert_problem(response, 401, "token_not_valid")
    anon_api.credentials()
    assert (
        anon_api.post(
            "/api/auth/refresh", {"refresh": theirs["refresh"]}, format="json"
        ).status_code
        == 200
    )


def test_me_returns_the_caller(user_api, user):
    response = user_api.get("/api/auth/me")
    assert response.status_code == 200
    assert response.json()["id"] == str(user.pk)


def test_me_without_token_is_401_with_bearer_challenge(anon_api):
    response = anon_api.get("/api/auth/me")
    assert_problem(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_expired_access_token_is_rejected(anon_api, user):
    tokens = login(anon_api)
    anon_api.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
    with time_machine.travel(timezone.now() + timedelta(minutes=16)):
        assert_problem(anon_api.get("/api/auth/me"), 401, "token_not_valid")


def test_tampered_or_foreign_signed_token_is_rejected(anon_api, user):
    tokens = login(anon_api)
    claims = jwt.decode(tokens["access"], settings.SIMPLE_JWT["SIGNING_KEY"], algorithms=["HS256"])
    foreign_key = "another-signing-key-that-is-long-enough-0123456789"
    forged = jwt.encode({**claims, "role": "admin"}, foreign_key, algorithm="HS256")
    anon_api.credentials(HTTP_AUTHORIZATION=f"Bearer {forged}")
    assert_problem(anon_api.get("/api/auth/me"), 401, "token_not_valid")


def test_refresh_token_is_not_accepted_as_access_token(anon_api, user):
    tokens = login(anon_api)
    anon_api.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['refresh']}")
    assert_problem(anon_api.get("/api/auth/me"), 401, "token_not_valid")


def test_user_routes_read_the_account_once(user, django_assert_num_queries):
    from notifications.services import notify
    from tests.conftest import client_for

    notify(user_ids=[user.pk], type="event_updated", title="t", message="m")
    api = client_for(user)
    # 1 the account (rights follow it, not the token), 2 count, 3 the page.
    with django_assert_num_queries(3):
        assert api.get("/api/notifications").status_code == 200


def test_me_reads_the_account_and_refuses_a_disabled_one(user):
    from tests.conftest import client_for

    api = client_for(user)
    assert api.get("/api/auth/me").json()["name"] == "Ann Example"
    user.is_active = False
    user.save()
    assert_problem(api.get("/api/auth/me"), 401, "token_not_valid")


def test_refresh_checks_the_account_again(anon_api, user):
    tokens = login(anon_api)
    user.is_active = False
    user.save()
    response = anon_api.post("/api/auth/refresh", {"refresh": tokens["refresh"]}, format="json")
    assert_problem(response, 401, "token_not_valid")


def test_a_token_is_verified_once_per_process_and_still_expires(user, monkeypatch):
    from rest_framework_simplejwt.backends import TokenBackend

    from tests.conftest import client_for

    decoded = []
    real_decode = TokenBackend.decode

    def decode(backend, token, verify=True):
        decoded.append(token)
        return real_decode(backend, token, verify)

    monkeypatch.setattr(TokenBackend, "decode", decode)
    api = client_for(user)
    assert api.get("/api/auth/me").status_code == 200
    assert api.get("/api/auth/me").status_code == 200
    assert len(decoded) == 1  # the second request reused the first one's check
    with time_machine.travel(timezone.now() + timedelta(minutes=16)):
        assert_problem(api.get("/api/auth/me"), 401, "token_not_valid")


def test_a_tampered_token_is_refused_even_after_the_real_one_was_verified(user):
    from tests.conftest import client_for

    api = client_for(user)
    assert api.get("/api/auth/me").status_code == 200
    header = api._credentials["HTTP_AUTHORIZATION"]
    head, payload, signature = header.removeprefix("Bearer ").split(".")
    forged = f"{head}.{payload}.{signature[:-2]}{'AA' if signature[-2:] != 'AA' else 'BB'}"
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {forged}")
    assert_problem(api.get("/api/auth/me"), 401, "token_not_valid")
