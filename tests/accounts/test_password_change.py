"""A new password, by whatever path it is set, revokes every refresh token of the account."""

import io
import threading
import time

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from accounts import services
from accounts.models import User
from tests.accounts.test_rights_follow_account import login, refresh
from tests.concurrency import run_concurrently
from tests.factories import PASSWORD, AdminFactory, UserFactory
from tests.problems import assert_problem

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a-brand-new-long-password"


@pytest.fixture
def ann():
    return UserFactory(email="ann@example.com", name="Ann")


def assert_revoked(*sessions: dict) -> None:
    for tokens in sessions:
        assert_problem(refresh(tokens["refresh"]), 401, "token_not_valid")


def login_with(email: str, password: str):
    return APIClient().post(
        "/api/auth/login", {"email": email, "password": password}, format="json"
    )


def test_a_password_set_in_the_admin_site_revokes_every_refresh_token(client, ann):
    phone, laptop = login(ann.email), login(ann.email)
    client.force_login(AdminFactory(email="ada@example.com"))
    response = client.post(
        f"/admin/accounts/user/{ann.pk}/password/",
        {"usable_password": "true", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert_revoked(phone, laptop)
    # The new password signs in, and its tokens refresh.
    fresh = login_with(ann.email, NEW_PASSWORD)
    assert fresh.status_code == 200
    assert refresh(fresh.json()["refresh"]).status_code == 200


def test_password_login_switched_off_in_the_admin_site_revokes_them_too(client, ann):
    phone = login(ann.email)
    client.force_login(AdminFactory(email="ada@example.com"))
    response = client.post(
        f"/admin/accounts/user/{ann.pk}/password/",
        {"usable_password": "false", "unset-password": "1"},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert response["Location"] == f"/admin/accounts/user/{ann.pk}/change/"
    ann.refresh_from_db()
    assert not ann.has_usable_password()
    assert_revoked(phone)


def test_changepassword_revokes_every_refresh_token(ann, monkeypatch):
    phone = login(ann.email)
    monkeypatch.setattr("getpass.getpass", lambda prompt="": NEW_PASSWORD)
    call_command("changepassword", ann.email, stdout=io.StringIO())
    assert_revoked(phone)
    assert login_with(ann.email, NEW_PASSWORD).status_code == 200


def test_set_password_then_save_in_a_shell_revokes_every_refresh_token(ann):
    phone, laptop = login(ann.email), login(ann.email)
    user = User.objects.get(email=ann.email)
    user.set_password(NEW_PASSWORD)
    user.save()
    assert_revoked(phone, laptop)


def test_saving_other_fields_keeps_the_refresh_tokens(ann):
    phone = login(ann.email)
    user = User.objects.get(email=ann.email)
    user.name = "Ann Renamed"
    user.save()
    user.set_password(NEW_PASSWORD)
    user.save(update_fields=["name"])  # the new password is not stored by this save
    assert refresh(phone["refresh"]).status_code == 200
    assert login_with(ann.email, PASSWORD).status_code == 200


def test_a_hash_upgraded_at_login_is_not_a_password_change(ann, settings):
    phone = login(ann.email)  # stored with MD5, the tests' hasher
    settings.PASSWORD_HASHERS = [
        "accounts.hashers.Argon2idHasher",
        "django.contrib.auth.hashers.MD5PasswordHasher",
    ]
    login(ann.email)  # checks against MD5, then stores Argon2id
    ann.refresh_from_db()
    assert ann.password.startswith("argon2")
    assert refresh(phone["refresh"]).status_code == 200


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_refresh_racing_a_password_change_keeps_no_token(ann, monkeypatch):
    """The refresh has written its new pair and not yet committed when the password changes:
    the change waits for it on the account row, then revokes the new pair too. (Without the
    lock the change's revocation ran past the uncommitted pair, which then lived on.)"""
    phone = login(ann.email)
    minted = threading.Event()
    real_pair = services.token_pair

    def slow_pair(user):
        pair = real_pair(user)
        minted.set()
        time.sleep(0.5)
        return pair

    monkeypatch.setattr(services, "token_pair", slow_pair)

    def change_password():
        assert minted.wait(10)
        user = User.objects.get(pk=ann.pk)
        user.set_password(NEW_PASSWORD)
        user.save()

    pair, changed = run_concurrently(
        [lambda: services.tokens_refresh(refresh=phone["refresh"]), change_password]
    )
    assert changed is None and isinstance(pair, dict), (pair, changed)
    assert_revoked(pair)
