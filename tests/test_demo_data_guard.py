"""`load_demo_data` publishes an admin's password, so it does not run on a production setup."""

import io

import pytest
from django.core.management import CommandError, call_command

from accounts.models import User
from tests.test_operations import run_python


@pytest.mark.django_db
def test_load_demo_data_refuses_with_debug_off_and_writes_nothing(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG is off: refusing to load the demo data"):
        call_command("load_demo_data", stdout=io.StringIO())
    assert not User.objects.exists()


def test_load_demo_data_exits_non_zero_with_debug_off():
    result = run_python(
        "import sys, django; django.setup();"
        "from django.core.management import execute_from_command_line;"
        "execute_from_command_line(['manage.py', 'load_demo_data'])",
        DJANGO_SETTINGS_MODULE="evently.settings",
        DEBUG="false",
        SECRET_KEY="s" * 50,
        DATABASE_URL="sqlite:///:memory:",
    )
    assert result.returncode == 1
    assert "DEBUG is off: refusing to load the demo data" in result.stderr
    assert "--force" in result.stderr
