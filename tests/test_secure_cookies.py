"""With DEBUG off the admin's session and CSRF cookies are `Secure`; SECURE_COOKIES=false is
the documented switch for a trial over plain http."""

import json

import pytest

from tests.test_operations import run_python

# Settings as the process read them, and the CSRF cookie the admin's login page really sets.
PROBE = (
    "import django, json; django.setup();"
    "from django.conf import settings; from django.test import Client;"
    "r = Client().get('/admin/login/');"
    "print(json.dumps([settings.SESSION_COOKIE_SECURE, settings.CSRF_COOKIE_SECURE,"
    " bool(r.cookies['csrftoken']['secure'])]))"
)


def probe(**env) -> list[bool]:
    result = run_python(
        PROBE,
        DJANGO_SETTINGS_MODULE="evently.settings",
        SECRET_KEY="s" * 50,
        ALLOWED_HOSTS="testserver",
        **env,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize(
    ("env", "secure"),
    [
        ({"DEBUG": "false"}, True),
        ({"DEBUG": "false", "SECURE_COOKIES": "false"}, False),
        ({"DEBUG": "true"}, False),
        ({"DEBUG": "true", "SECURE_COOKIES": "true"}, True),
    ],
)
def test_session_and_csrf_cookies_are_secure_with_debug_off_unless_switched_off(env, secure):
    assert probe(**env) == [secure, secure, secure]
