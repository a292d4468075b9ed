"""The PostgreSQL backend's health check (core/postgresql): an idle connection whose socket
is quiet is usable without a query; anything else gets Django's `SELECT 1`."""

import time

import pytest
from django.db import connection, connections

from core.postgresql.base import DatabaseWrapper

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def kept():
    """A connection of its own to the test database, as a worker keeps one across requests,
    whose cursors (Django's check opens one for its SELECT 1) are counted."""
    wrapper = connections.create_connection("default")
    assert isinstance(wrapper, DatabaseWrapper)
    wrapper.ensure_connection()
    raw = wrapper.connection
    wrapper.checks = []
    cursor = raw.cursor

    def counted(*args, **kwargs):
        wrapper.checks.append("cursor")
        return cursor(*args, **kwargs)

    raw.cursor = counted
    yield wrapper
    wrapper.close()


def test_the_project_runs_on_it():
    assert isinstance(connections["default"], DatabaseWrapper)


def test_an_idle_quiet_connection_is_usable_without_a_query(kept):
    with kept.cursor() as cursor:
        cursor.execute("SELECT 1")
    kept.checks.clear()

    assert kept.is_usable() is True
    assert kept.checks == []


def test_a_connection_inside_a_transaction_is_checked_with_a_query(kept):
    kept.set_autocommit(False)
    with kept.cursor() as cursor:
        cursor.execute("SELECT 1")  # opens the transaction

    kept.checks.clear()

    assert kept.is_usable() is True
    assert kept.checks == ["cursor"]
    kept.rollback()
    kept.set_autocommit(True)


def test_a_connection_the_server_ended_is_unusable_and_replaced(kept):
    with kept.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
    # The server closes the socket as the backend exits, a moment after the call returns.
    for _ in range(100):
        if not kept.is_usable():
            break
        time.sleep(0.05)
    assert kept.is_usable() is False

    # What Django does at a request's start: a connection that fails its check is closed, and
    # the next query opens a new one.
    kept.health_check_done = False
    kept.close_if_health_check_failed()
    assert kept.connection is None
    with kept.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        assert cursor.fetchone()[0] != pid
