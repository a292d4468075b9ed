import os
import uuid

import pytest
import time_machine
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.tokens import tokens_for
from tests.factories import AdminFactory, ScannerFactory, UserFactory


def pytest_report_header(config):
    from django.conf import settings

    engine = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
    if engine != "postgresql":
        if os.environ.get("CI"):
            pytest.exit("CI is set but the tests are not on PostgreSQL; set DATABASE_URL.", 2)
        return [
            "*" * 72,
            "Running on SQLite: the PostgreSQL-only tests (row locks, concurrency) are SKIPPED.",
            "Start PostgreSQL or set DATABASE_URL=postgres://... to run everything.",
            "*" * 72,
        ]
    return [f"database: PostgreSQL ({settings.DATABASES['default']['NAME']})"]


def pytest_collection_modifyitems(config, items):
    if connection.vendor == "postgresql":
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _fast_isolated_settings(settings):
    # MD5 keeps tests fast; each test gets its own throttle counters.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": uuid.uuid4().hex,
        }
    }


@pytest.fixture
def user(db):
    return UserFactory(name="Ann Example", email="ann@example.com")


@pytest.fixture
def other_user(db):
    return UserFactory(name="Bob Example", email="bob@example.com")


@pytest.fixture
def admin_user(db):
    return AdminFactory(name="Ada Admin", email="ada@example.com")


@pytest.fixture
def scanner_user(db):
    return ScannerFactory(name="Sam Scanner", email="sam@example.com")


@pytest.fixture
def staff(client, admin_user):
    """The Django test client, signed in to the admin site as an admin."""
    client.force_login(admin_user)
    return client


def client_for(user) -> APIClient:
    client = APIClient()
    if user is not None:
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens_for(user)['access']}")
    return client


@pytest.fixture
def anon_api():
    return APIClient()


@pytest.fixture
def user_api(user):
    return client_for(user)


@pytest.fixture
def other_api(other_user):
    return client_for(other_user)


@pytest.fixture
def admin_api(admin_user):
    return client_for(admin_user)


@pytest.fixture
def scanner_api(scanner_user):
    return client_for(scanner_user)


@pytest.fixture
def one_throttle_window():
    """The clock stands still for the test: throttles count in fixed windows (a minute, say),
    and a test whose requests straddled the turn of one would see its count start again."""
    with time_machine.travel(timezone.now(), tick=False):
        yield
