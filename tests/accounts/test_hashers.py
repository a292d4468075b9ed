"""Logins hash with Argon2id at OWASP's minimum, and older hashes move over at login."""

import pytest
from argon2 import extract_parameters
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
