"""A worker killed mid-request loses nothing and books nothing twice."""

import json
import os
import signal
import subprocess
import threading
import time
import urllib.error
import urllib.request

import psycopg
import pytest

from accounts.tokens import tokens_for
from bookings.models import Booking
from core.models import IdempotencyKey
from tests.factories import EventFactory, UserFactory
from tests.invariants import assert_books_balance
from tests.server import e2e_database_url, gunicorn

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def post(url, body, token, key):
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        method="POST",
        headers={
            "Content-Type": "application/json",
            "Authorization": f"Bearer {token}",
            "Idempotency-Key": key,
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=20) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


def worker_pids(master_pid: int) -> list[int]:
    out = subprocess.run(
        ["ps", "-o", "pid=", "--ppid", str(master_pid)], capture_output=True, text=True
    ).stdout
    return [int(pid) for pid in out.split()]


def wait_for(predicate, timeout=10.0):
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {predicate}"
        time.sleep(0.05)


def test_worker_killed_while_booking_leaves_nothing_and_the_retry_books_once():
    event = EventFactory(total_capacity=10)
    user = UserFactory()
    token = tokens_for(user)["access"]
    body = {"event_id": str(event.pk), "quantity": 2}

    with (
        gunicorn(workers=1) as (base, master),
        psycopg.connect(e2e_database_url(), autocommit=False) as blocker,
    ):
        wait_for(lambda: len(worker_pids(master.pid)) == 1)
        victim = worker_pids(master.pid)[0]
        # Hold the event row so the worker's booking stops mid-transaction, after it has
        # claimed the idempotency key.
        blocker.execute("SELECT id FROM events_event WHERE id = %s FOR UPDATE", [event.pk])
        outcome = {}
        request = threading.Thread(
            target=lambda: outcome.update(r=_safe_post(f"{base}/api/bookings", body, token))
        )
        request.start()
        wait_for(lambda: _backends("wait_event_type = 'Lock'") > 0)
        os.kill(victim, signal.SIGKILL)
        request.join(20)
        assert outcome["r"] is None  # the client saw the connection die
        blocker.rollback()  # release the row

        # The dead worker's transaction is gone: no booking, no key, seats untouched.
        wait_for(lambda: _backends("state LIKE 'idle in transaction%'") == 0)
        assert Booking.objects.count() == 0
        assert IdempotencyKey.objects.count() == 0
        assert_books_balance(event)

        # The client retries with the same key on the respawned worker: booked once.
        wait_for(
            lambda: len(worker_pids(master.pid)) == 1 and victim not in worker_pids(master.pid),
            timeout=30,
        )
        status, headers, first = post(f"{base}/api/bookings", body, token, "crash-1")
        assert status == 201, first
        status, headers, again = post(f"{base}/api/bookings", body, token, "crash-1")
        assert (status, headers.get("Idempotent-Replayed"), again) == (201, "true", first)

    assert Booking.objects.filter(user=user).count() == 1
    event.refresh_from_db()
    assert event.available_seats == 8
    assert_books_balance(event)


def _safe_post(url, body, token):
    try:
        return post(url, body, token, "crash-1")
    except (ConnectionError, urllib.error.URLError, OSError):
        return None


def _backends(condition: str) -> int:
    """How many other backends of the test database match `condition` (pg_stat_activity)."""
    with psycopg.connect(e2e_database_url(), autocommit=True) as probe:
        return probe.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
            f" AND pid <> pg_backend_pid() AND {condition}"
        ).fetchone()[0]
