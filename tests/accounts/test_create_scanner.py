import io

import pytest
from django.core.management import CommandError, call_command

from accounts.models import User

pytestmark = pytest.mark.django_db

PASSWORD = "door-staff-long-phrase-42"


def create(*args):
    out = io.StringIO()
    call_command("create_scanner", *args, stdout=out)
    return out.getvalue()


def test_flags_make_a_scanner(client):
    said = create(
        "--noinput", "--email", " Door1@Example.COM ", "--name", "Door 1", "--password", PASSWORD
    )
    scanner = User.objects.get(email="door1@example.com")
    assert (scanner.role, scanner.name, scanner.is_staff) == ("scanner", "Door 1", False)
    assert scanner.check_password(PASSWORD)
    assert "door1@example.com may now sign in to /admin/" in said
    # It signs in to the admin site, which shows it the desk.
    assert client.login(username="door1@example.com", password=PASSWORD)
    assert client.get("/admin/")["Location"] == "/admin/checkin/"


def test_the_environment_fills_in_like_createsuperuser(monkeypatch):
    monkeypatch.setenv("SCANNER_EMAIL", "door2@example.com")
    monkeypatch.setenv("SCANNER_NAME", "Door 2")
    monkeypatch.setenv("SCANNER_PASSWORD", PASSWORD)
    create("--noinput")
    assert User.objects.get(email="door2@example.com").role == "scanner"


def test_it_asks_for_what_is_missing(monkeypatch):
    answers = iter(["door3@example.com", "Door 3"])
    passwords = iter(["one-password-typed", "another-one-typed", PASSWORD, PASSWORD])
    monkeypatch.setattr("builtins.input", lambda prompt: next(answers))
    monkeypatch.setattr("getpass.getpass", lambda prompt: next(passwords))
    create()
    assert User.objects.get(email="door3@example.com").check_password(PASSWORD)


def test_without_input_every_value_is_needed(monkeypatch):
    for var in ("SCANNER_EMAIL", "SCANNER_NAME", "SCANNER_PASSWORD"):
        monkeypatch.delenv(var, raising=False)
    with pytest.raises(CommandError, match="--name or SCANNER_NAME"):
        create("--noinput", "--email", "door4@example.com", "--password", PASSWORD)
    assert not User.objects.exists()


def test_a_weak_password_or_a_taken_email_is_refused(user):
    with pytest.raises(CommandError, match=r"too common|too short"):
        create("--noinput", "--email", "door5@example.com", "--name", "D", "--password", "password")
    with pytest.raises(CommandError, match="role scanner on its page"):
        create("--noinput", "--email", user.email, "--name", "D", "--password", PASSWORD)
    assert User.objects.get(email=user.email).role == "user"


def test_staff_can_make_a_scanner_on_the_admins_user_page(client, admin_user):
    client.force_login(admin_user)
    form = {"email": "door6@example.com", "name": "Door 6", "role": "scanner"}
    form |= {"usable_password": "true", "password1": PASSWORD, "password2": PASSWORD}
    assert client.post("/admin/accounts/user/add/", form).status_code == 302
    assert User.objects.get(email="door6@example.com").role == "scanner"
