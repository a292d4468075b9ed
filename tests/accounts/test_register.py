import pytest

from accounts.models import User
from tests.problems import assert_problem

pytestmark = pytest.mark.django_db

URL = "/api/auth/register"


def test_register_creates_user_with_trimmed_lowercased_email(anon_api):
    response = anon_api.post(
        URL,
        {"name": "Ann", "email": "  Ann@Example.COM ", "password": "a-long-secret-phrase"},
        format="json",
    )
    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"id", "name", "email", "role", "created_at"}
    assert body["email"] == "ann@example.com"
    assert body["role"] == "user"
    user = User.objects.get(pk=body["id"])
    assert user.check_password("a-long-secret-phrase")
    assert user.password.startswith("md5$")  # hashed (MD5 in tests, Argon2 in settings)


def test_register_ignores_role_in_body(anon_api):
    response = anon_api.post(
        URL,
        {
            "name": "Mal",
            "email": "mal@example.com",
            "password": "a-long-secret-phrase",
            "role": "admin",
        },
        format="json",
    )
    assert response.status_code == 201
    assert response.json()["role"] == "user"
    assert User.objects.get(email="mal@example.com").role == "user"


def test_register_taken_email_is_409_case_insensitively(anon_api, user):
    response = anon_api.post(
        URL,
        {"name": "Other", "email": "ANN@example.com", "password": "a-long-secret-phrase"},
        format="json",
    )
    assert_problem(response, 409, "email_taken")
    assert User.objects.filter(email="ann@example.com").count() == 1


@pytest.mark.parametrize(
    ("payload", "fields"),
    [
        ({}, {"name", "email", "password"}),
        ({"name": "A", "email": "not-an-email", "password": "a-long-secret-phrase"}, {"email"}),
        ({"name": "", "email": "a@example.com", "password": "a-long-secret-phrase"}, {"name"}),
        ({"name": "A", "email": "a@example.com", "password": "short"}, {"password"}),
        ({"name": "A", "email": "a@example.com", "password": "password123"}, {"password"}),
        ({"name": "A", "email": "a@example.com", "password": "12345678901"}, {"password"}),
        (
            {"name": "A" * 151, "email": "a@example.com", "password": "a-long-secret-phrase"},
            {"name"},
        ),
        ({"name": 7, "email": "a@example.com", "password": "a-long-secret-phrase"}, {"name"}),
        ({"name": "A", "email": "a@example.com", "password": 12345678}, {"password"}),
    ],
)
def test_register_rejects_invalid_input_and_creates_nothing(anon_api, payload, fields):
    response = anon_api.post(URL, payload, format="json")
    body = assert_problem(response, 400, "validation_error", fields=fields)
    assert all(isinstance(m, str) for msgs in body["errors"].values() for m in msgs)
    assert User.objects.count() == 0


def test_register_password_similar_to_email_is_rejected(anon_api):
    response = anon_api.post(
        URL,
        {"name": "Zed", "email": "zedzedzed@example.com", "password": "zedzedzed1"},
        format="json",
    )
    assert_problem(response, 400, "validation_error", fields={"password"})


def test_passwords_are_hashed_with_argon2_outside_tests():
    from django.conf import settings as real

    # The autouse fixture swaps in MD5 for speed; the module's own setting is Argon2 first.
    from evently import settings as module

    assert module.PASSWORD_HASHERS[0] == "accounts.hashers.Argon2idHasher"
    assert real.PASSWORD_HASHERS == ["django.contrib.auth.hashers.MD5PasswordHasher"]
