"""One normaliser for every address: look-alike forms are the same account."""

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from accounts.models import User, normalize_email_address
from tests.factories import PASSWORD
from tests.problems import assert_problem

pytestmark = pytest.mark.django_db

# "ann@example.com" in fullwidth letters.
FULLWIDTH = "\uff41\uff4e\uff4e@\uff45\uff58\uff41\uff4d\uff50\uff4c\uff45.com"
FULLWIDTH_DOMAIN = "ann@\uff45\uff58\uff41\uff4d\uff50\uff4c\uff45.com"


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        (FULLWIDTH, "ann@example.com"),
        (FULLWIDTH_DOMAIN, "ann@example.com"),
        ("  Ann@EXAMPLE.com ", "ann@example.com"),
        ("bob@b\u00fccher.de", "bob@xn--bcher-kva.de"),
        ("bob@B\u00dcCHER.de", "bob@xn--bcher-kva.de"),
        ("no-at-sign", "no-at-sign"),
    ],
)
def test_the_normaliser_folds_look_alikes_case_and_unicode_domains(typed, stored):
    assert normalize_email_address(typed) == stored


def register(client, email: str):
    return client.post(
        "/api/auth/register",
        {"name": "Ann", "email": email, "password": PASSWORD},
        format="json",
    )


@pytest.mark.parametrize("look_alike", [FULLWIDTH, FULLWIDTH_DOMAIN, "ANN@Example.COM"])
def test_a_look_alike_address_cannot_register_a_second_account(anon_api, look_alike):
    assert register(anon_api, "ann@example.com").status_code == 201
    assert_problem(register(anon_api, look_alike), 409, "email_taken")
    assert User.objects.count() == 1


def test_a_fullwidth_address_registers_as_the_plain_one(anon_api):
    response = register(anon_api, FULLWIDTH)
    assert response.status_code == 201
    assert response.json()["email"] == "ann@example.com"


@pytest.mark.parametrize("typed", [FULLWIDTH, "ann@EXAMPLE.com", " ann@example.com"])
def test_login_finds_the_account_by_any_form_of_its_address(anon_api, user, typed):
    response = anon_api.post(
        "/api/auth/login", {"email": typed, "password": PASSWORD}, format="json"
    )
    assert response.status_code == 200, response.content
    assert response.json()["user"]["id"] == str(user.pk)


def test_a_unicode_domain_is_stored_as_mail_will_address_it(anon_api):
    assert register(anon_api, "bob@b\u00fccher.de").json()["email"] == "bob@xn--bcher-kva.de"
    login = anon_api.post(
        "/api/auth/login", {"email": "bob@b\u00fccher.de", "password": PASSWORD}, format="json"
    )
    assert login.status_code == 200


def test_createsuperuser_refuses_a_look_alike_of_an_existing_address(user, monkeypatch):
    monkeypatch.setenv("DJANGO_SUPERUSER_EMAIL", FULLWIDTH)
    monkeypatch.setenv("DJANGO_SUPERUSER_NAME", "Twin")
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "a-long-staff-password")
    with pytest.raises(CommandError, match="already taken"):
        call_command("createsuperuser", interactive=False, verbosity=0)
    assert User.objects.count() == 1


def test_createsuperuser_stores_the_normalised_address(monkeypatch):
    monkeypatch.setenv("DJANGO_SUPERUSER_EMAIL", FULLWIDTH)
    monkeypatch.setenv("DJANGO_SUPERUSER_NAME", "Ann")
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "a-long-staff-password")
    call_command("createsuperuser", interactive=False, verbosity=0)
    admin = User.objects.get()
    assert (admin.email, admin.role) == ("ann@example.com", "admin")


def test_the_admin_site_refuses_a_look_alike_address(client, admin_user, user):
    client.force_login(admin_user)
    response = client.post(
        "/admin/accounts/user/add/",
        {
            "email": FULLWIDTH,
            "name": "Twin",
            "role": "user",
            "usable_password": "true",
            "password1": "a-long-staff-password",
            "password2": "a-long-staff-password",
        },
    )
    assert response.status_code == 200
    assert "already exists" in response.content.decode()
    assert User.objects.filter(email="ann@example.com").count() == 1
