import jwt
import pytest
from django.conf import settings

from tests.factories import PASSWORD
from tests.problems import assert_problem

pytestmark = pytest.mark.django_db

URL = "/api/auth/login"


def test_login_returns_tokens_and_user(anon_api, user):
    response = anon_api.post(
        URL, {"email": " ANN@example.com", "password": PASSWORD}, format="json"
    )
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"access", "refresh", "token", "token_type", "expires_in", "user"}
    assert body["token"] == body["access"]
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 15 * 60
    assert body["user"] == {
        "id": str(user.pk),
        "name": "Ann Example",
        "email": "ann@example.com",
        "role": "user",
        "created_at": body["user"]["created_at"],
    }
    claims = jwt.decode(body["access"], settings.SIMPLE_JWT["SIGNING_KEY"], algorithms=["HS256"])
    assert claims["user_id"] == str(user.pk)
    assert claims["token_type"] == "access"
    assert claims["role"] == "user"


def test_login_access_token_authenticates(anon_api, user):
    access = anon_api.post(
        URL, {"email": "ann@example.com", "password": PASSWORD}, format="json"
    ).json()["access"]
    anon_api.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    me = anon_api.get("/api/auth/me")
    assert me.status_code == 200
    assert me.json()["email"] == "ann@example.com"


@pytest.mark.parametrize(
    ("email", "password"),
    [("ann@example.com", "wrong-password"), ("nobody@example.com", PASSWORD)],
)
def test_login_wrong_email_or_password_is_401_with_one_message(anon_api, user, email, password):
    response = anon_api.post(URL, {"email": email, "password": password}, format="json")
    body = assert_problem(response, 401, "invalid_credentials")
    assert body["detail"] == "Invalid email or password."


def test_login_inactive_user_is_401(anon_api, user):
    user.is_active = False
    user.save()
    response = anon_api.post(URL, {"email": "ann@example.com", "password": PASSWORD}, format="json")
    assert_problem(response, 401, "invalid_credentials")


def test_login_missing_fields_is_400(anon_api):
    response = anon_api.post(URL, {}, format="json")
    assert_problem(response, 400, "validation_error", fields={"email", "password"})
