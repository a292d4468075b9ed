"""Read replicas: the router's decisions, which views opt in, and reads really going to one."""

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
from django.db import DEFAULT_DB_ALIAS, connection, router, transaction
from django.urls import URLPattern, URLResolver, get_resolver
from psycopg import sql

from accounts.models import User
from accounts.tokens import tokens_for
from bookings.models import Booking
from core.db_router import ReplicaRouter, current_replica, read_from_replica
from events.models import Event
from tests.factories import PASSWORD, AdminFactory, EventFactory
from tests.invariants import assert_books_balance
from tests.server import e2e_database_url, gunicorn
from waitlist.models import WaitlistEntry

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def two_replicas(settings):
    settings.DATABASE_REPLICAS = ["replica1", "replica2"]


# --- The router's decisions ---------------------------------------------------------------------


def test_without_replicas_nothing_is_routed_and_opting_in_changes_nothing(settings):
    settings.DATABASE_REPLICAS = []
    with read_from_replica() as alias:
        assert alias is None
        assert ReplicaRouter().db_for_read(Event) is None
        assert router.db_for_read(Event) == DEFAULT_DB_ALIAS


def test_an_opted_in_read_outside_a_transaction_goes_to_the_request_replica(two_replicas):
    with read_from_replica("replica2"):
        for model in (Event, Booking, WaitlistEntry, User):
            assert router.db_for_read(model) == "replica2"


def test_reads_that_did_not_opt_in_stay_on_the_primary(two_replicas):
    assert current_replica() is None
    assert router.db_for_read(Event) == DEFAULT_DB_ALIAS


def test_writes_always_go_to_the_primary(two_replicas):
    assert router.db_for_write(Event) == DEFAULT_DB_ALIAS
    with read_from_replica("replica1"):
        for model in (Event, Booking, WaitlistEntry, User):
            assert router.db_for_write(model) == DEFAULT_DB_ALIAS


def test_sessions_throttle_counters_and_revoked_tokens_are_never_read_from_a_replica(
    two_replicas,
):
    from django.contrib.sessions.models import Session
    from django.core.cache.backends.db import DatabaseCache
    from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken

    cache_entry = DatabaseCache("evently_cache", {}).cache_model_class
    with read_from_replica("replica1"):
        for model in (Session, cache_entry, BlacklistedToken):
            assert router.db_for_read(model) == DEFAULT_DB_ALIAS


@pytest.mark.django_db(transaction=True)
def test_reads_inside_a_transaction_stay_on_the_primary(two_replicas):
    with read_from_replica("replica1"):
        assert router.db_for_read(Event) == "replica1"
        with transaction.atomic():
            # A service's transaction: its reads belong with its locks and writes.
            assert router.db_for_read(Event) == DEFAULT_DB_ALIAS
        assert router.db_for_read(Event) == "replica1"


def test_each_request_picks_one_replica_and_keeps_it(two_replicas):
    picked = set()
    for _ in range(200):
        with read_from_replica() as alias:
            picked.add(alias)
            assert current_replica() == alias == router.db_for_read(Event)
        assert current_replica() is None
    assert picked == {"replica1", "replica2"}


def test_migrations_run_on_the_primary_only():
    assert ReplicaRouter().allow_migrate(DEFAULT_DB_ALIAS, "events")
    assert not ReplicaRouter().allow_migrate("replica1", "events")


# --- Which views opt in ---------------------------------------------------------------------------


def _handlers(patterns):
    """(name, handler) of every view method or function the URLconf reaches."""
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _handlers(pattern.url_patterns)
            continue
        assert isinstance(pattern, URLPattern)
        callback = pattern.callback
        view_class = getattr(callback, "cls", None) or getattr(callback, "view_class", None)
        if view_class is None:
            yield callback.__name__, callback
        elif getattr(callback, "actions", None):  # a DRF viewset route
            for action in callback.actions.values():
                yield f"{view_class.__name__}.{action}", getattr(view_class, action)
        else:
            for method in view_class.http_method_names:
                if hasattr(view_class, method):
                    yield f"{view_class.__name__}.{method}", getattr(view_class, method)


def test_only_public_event_reads_and_staff_analytics_read_from_replicas():
    opted_in = {
        name
        for name, handler in _handlers(get_resolver().url_patterns)
        if getattr(handler, "reads_from_replica", False)
    }
    # Bookings, the waitlist, notifications, auth and every write stay on the primary.
    assert opted_in == {
        "EventViewSet.list",
        "EventViewSet.retrieve",
        "AdminEventViewSet.list",
        "AdminEventViewSet.bookings",
        "AdminEventViewSet.bookings_csv",
        "AdminEventViewSet.analytics",
        "PopularEventsView.get",
        "OverviewView.get",
        "dashboard",
    }


# --- Settings ---------------------------------------------------------------------------------


def _settings_in_subprocess(**env) -> subprocess.CompletedProcess:
    code = (
        "import django, json; django.setup(); from django.conf import settings;"
        "print(json.dumps({'replicas': settings.DATABASE_REPLICAS, 'routers': "
        "settings.DATABASE_ROUTERS, 'databases': settings.DATABASES}, default=str))"
    )
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "evently.settings", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_replica_urls_become_read_only_aliases_that_mirror_the_primary_in_tests():
    result = _settings_in_subprocess(
        DATABASE_URL="postgres://app@primary:5432/evently",
        DATABASE_REPLICA_URLS="postgres://app@replica-a:5432/evently, postgres://app@b/evently",
    )
    assert result.returncode == 0, result.stderr
    loaded = json.loads(result.stdout)
    assert loaded["replicas"] == ["replica1", "replica2"]
    assert loaded["routers"] == ["core.db_router.ReplicaRouter"]
    replica = loaded["databases"]["replica1"]
    assert (replica["HOST"], replica["NAME"]) == ("replica-a", "evently")
    assert loaded["databases"]["replica2"]["HOST"] == "b"
    assert replica["TEST"]["MIRROR"] == "default"
    # The same lock timeout as the primary, and a read-only session.
    assert "-c lock_timeout=" in replica["OPTIONS"]["options"]
    assert "-c default_transaction_read_only=on" in replica["OPTIONS"]["options"]
    assert "default_transaction_read_only" not in loaded["databases"]["default"]["OPTIONS"].get(
        "options", ""
    )


def test_without_replica_urls_there_is_only_the_primary():
    result = _settings_in_subprocess(
        DATABASE_URL="postgres://app@primary:5432/evently", DATABASE_REPLICA_URLS=""
    )
    assert result.returncode == 0, result.stderr
    loaded = json.loads(result.stdout)
    assert (loaded["replicas"], list(loaded["databases"])) == ([], ["default"])


def test_replicas_need_postgresql():
    result = _settings_in_subprocess(
        DATABASE_URL="", DATABASE_REPLICA_URLS="postgres://app@replica:5432/evently"
    )
    assert result.returncode != 0
    assert "DATABASE_REPLICA_URLS must be postgres:// URLs" in result.stderr


# --- A real second database standing in for the replica ---------------------------------------


@contextmanager
def replica_database():
    """A copy of the test database, made now, under another name: a replica that has stopped
    replicating, so anything read from it is recognisable. Yields its URL; always dropped."""
    primary = connection.settings_dict["NAME"]
    name = f"{primary}_replica"
    server = e2e_database_url().rsplit("/", 1)[0] + "/postgres"
    # CREATE DATABASE ... TEMPLATE needs the template to have no other session.
    connection.close()
    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        deadline = time.monotonic() + 15
        while True:
            try:
                admin.execute(
                    sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                        sql.Identifier(name), sql.Identifier(primary)
                    )
                )
                break
            except psycopg.errors.ObjectInUse:
                # A connection of an earlier test (a stopped server's) is still closing.
                assert time.monotonic() < deadline, "the test database stayed in use"
                time.sleep(0.2)
    try:
        yield e2e_database_url().rsplit("/", 1)[0] + f"/{name}"
    finally:
        with psycopg.connect(server, autocommit=True) as admin:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


def call(method: str, url: str, *, token: str | None = None, body: dict | None = None):
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode() if body is not None else None,
        method=method,
        headers={"Content-Type": "application/json"},
    )
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=20) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_public_reads_and_analytics_come_from_the_replica_and_bookings_go_to_the_primary():
    event = EventFactory(name="Gala", total_capacity=10)
    with replica_database() as replica_url:
        # Tell the copies apart: the replica's event has another name.
        with psycopg.connect(replica_url, autocommit=True) as replica:
            replica.execute(
                "UPDATE events_event SET name = 'Gala (replica)' WHERE id = %s", [event.pk]
            )
        # Made after the copy, so the admin exists on the primary only.
        admin = tokens_for(AdminFactory())["access"]

        with gunicorn(workers=1, env={"DATABASE_REPLICA_URLS": replica_url}) as (base, _):
            # The public list and detail read the replica.
            status, body = call("GET", f"{base}/api/events")
            assert status == 200, body
            assert [e["name"] for e in json.loads(body)["results"]] == ["Gala (replica)"]
            status, body = call("GET", f"{base}/api/events/{event.pk}")
            assert json.loads(body)["name"] == "Gala (replica)"

            # Auth is on the primary: a new account can log in and read its profile at once.
            account = {"name": "Late", "email": "late@example.com", "password": PASSWORD}
            status, body = call("POST", f"{base}/api/auth/register", body=account)
            assert status == 201, body
            status, body = call("POST", f"{base}/api/auth/login", body=account)
            assert status == 200, body
            token = json.loads(body)["access"]
            status, body = call("GET", f"{base}/api/auth/me", token=token)
            assert (status, json.loads(body)["email"]) == (200, "late@example.com"), body

            # A booking runs on the primary: its transaction read the primary's event.
            status, body = call(
                "POST",
                f"{base}/api/bookings",
                token=token,
                body={"event_id": str(event.pk), "quantity": 2},
            )
            assert status == 201, body
            assert json.loads(body)["booking"]["event"]["name"] == "Gala"
            # Reading one's own bookings is on the primary too.
            status, body = call("GET", f"{base}/api/bookings/my", token=token)
            assert json.loads(body)["count"] == 1

            # The replica has not seen the booking (nothing replicates here): the public
            # detail still shows every seat free, and staff analytics read the replica too.
            status, body = call("GET", f"{base}/api/events/{event.pk}")
            assert json.loads(body)["available_seats"] == 10
            status, body = call("GET", f"{base}/api/admin/analytics/events", token=admin)
            assert status == 200, body
            top = json.loads(body)["results"][0]
            assert (top["name"], top["confirmed_tickets"]) == ("Gala (replica)", 0)
            status, body = call("GET", f"{base}/api/admin/events/{event.pk}/analytics", token=admin)
            assert json.loads(body)["confirmed_bookings"] == 0
            # The CSV export streams after its view returns, and still from the replica.
            status, body = call(
                "GET", f"{base}/api/admin/events/{event.pk}/bookings.csv", token=admin
            )
            assert status == 200, body
            assert len(body.decode().splitlines()) == 1  # the header only

        with psycopg.connect(replica_url, autocommit=True) as replica:
            assert replica.execute("SELECT count(*) FROM bookings_booking").fetchone() == (0,)
            assert replica.execute(
                "SELECT available_seats FROM events_event WHERE id = %s", [event.pk]
            ).fetchone() == (10,)

    # Everything was written to the primary.
    person = User.objects.get(email="late@example.com")
    assert Booking.objects.filter(event=event, user=person).count() == 1
    event.refresh_from_db()
    assert (event.name, event.available_seats) == ("Gala", 8)
    assert_books_balance(event)
