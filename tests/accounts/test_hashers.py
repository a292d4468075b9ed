"""Logins hash with Argon2id at OWASP's minimum, and older hashes move over at login."""

import pytest
from argon2 import PasswordHasher, Type, extract_parameters
from django.contrib.auth.hashers import Argon2PasswordHasher, make_password

from accounts.hashers import Argon2idHasher
from accounts.models import User
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

HASHERS = ["accounts.hashers.Argon2idHasher", "django.contrib.auth.hashers.PBKDF2PasswordHasher"]


def parameters(encoded: str):
    return extract_parameters(encoded.removeprefix("argon2"))


def test_new_hashes_are_argon2id_with_19_mib_2_iterations_and_one_lane(settings):
    settings.PASSWORD_HASHERS = HASHERS
    params = parameters(make_password(PASSWORD))
    assert (params.type.name, params.memory_cost, params.time_cost, params.parallelism) == (
        "ID",
        19456,
        2,
        1,
    )


def test_a_hash_with_djangos_default_cost_is_upgraded_at_the_next_login(settings, anon_api):
    settings.PASSWORD_HASHERS = HASHERS
    user = UserFactory(email="old@example.com")
    old = Argon2PasswordHasher().encode(PASSWORD, Argon2PasswordHasher().salt())
    User.objects.filter(pk=user.pk).update(password=old)
    assert parameters(old).memory_cost == 102400  # Django's default

    response = anon_api.post(
        "/api/auth/login", {"email": user.email, "password": PASSWORD}, format="json"
    )
    assert response.status_code == 200
    upgraded = User.objects.get(pk=user.pk).password
    assert upgraded != old
    assert parameters(upgraded).memory_cost == Argon2idHasher.memory_cost
    # And the upgraded hash still logs in.
    again = anon_api.post(
        "/api/auth/login", {"email": user.email, "password": PASSWORD}, format="json"
    )
    assert again.status_code == 200


@pytest.mark.parametrize(
    "hasher_parameters",
    [
        pytest.param({}, id="ours"),
        pytest.param(
            {"memory_cost": 102400, "time_cost": 2, "parallelism": 8}, id="djangos-default"
        ),
        pytest.param({"memory_cost": 8192, "time_cost": 3, "parallelism": 4}, id="four-lanes"),
    ],
)
def test_libsodium_checks_hashes_argon2_cffi_made(hasher_parameters):
    hasher = Argon2idHasher()
    maker = type("Maker", (Argon2PasswordHasher,), hasher_parameters)()
    encoded = maker.encode(PASSWORD, maker.salt())

    assert hasher.verify(PASSWORD, encoded) is True
    assert hasher.verify(PASSWORD + "x", encoded) is False
    assert hasher.verify(PASSWORD.upper(), encoded) is False


def test_a_password_beyond_ascii_checks_the_same_as_django_does():
    password = "pässwörd ✓ 密码"
    encoded = Argon2idHasher().encode(password, Argon2idHasher().salt())

    assert Argon2idHasher().verify(password, encoded) is True
    assert Argon2PasswordHasher().verify(password, encoded) is True
    assert Argon2idHasher().verify("passwörd ✓ 密码", encoded) is False


def test_an_argon2i_hash_from_older_django_still_logs_in_and_is_upgraded(settings, anon_api):
    settings.PASSWORD_HASHERS = HASHERS
    user = UserFactory(email="argon2i@example.com")
    phc = PasswordHasher(time_cost=2, memory_cost=8192, parallelism=1, type=Type.I).hash(PASSWORD)
    User.objects.filter(pk=user.pk).update(password="argon2" + phc)

    response = anon_api.post(
        "/api/auth/login", {"email": user.email, "password": PASSWORD}, format="json"
    )
    assert response.status_code == 200
    upgraded = User.objects.get(pk=user.pk).password
    assert parameters(upgraded).type.name == "ID"
    # The wrong password is refused by the upgraded (libsodium-checked) hash as well.
    wrong = anon_api.post(
        "/api/auth/login", {"email": user.email, "password": "nope"}, format="json"
    )
    assert wrong.status_code == 401
