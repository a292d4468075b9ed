"""Many app servers, one database: two gunicorn instances, each started with the production
command and config, and two copies of the offer-expiry loop, all on the same PostgreSQL.

Nothing here is shared but the database, as with app servers on separate machines behind a
load balancer: whatever keeps the seats right must hold in PostgreSQL alone.
"""

import json
import os
import random
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections import Counter
from contextlib import ExitStack, contextmanager

import pytest
from django.db.models import Sum

from accounts.tokens import tokens_for
from bookings.models import Booking
from events.models import Event
from notifications.models import Notification
from tests.concurrency import run_concurrently
from tests.factories import EventFactory, UserFactory
from tests.invariants import assert_books_balance
from tests.server import ROOT, e2e_database_url, gunicorn
from waitlist.models import WaitlistEntry

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

OFFER_TTL = 2  # seconds: short, so the expiry loops have offers to expire during the test


def call(method: str, url: str, token: str, body: dict | None = None) -> tuple[int, dict]:
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode() if body is not None else None,
        method=method,
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
    )
    try:
        with urllib.request.urlopen(request, timeout=20) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


@contextmanager
def expiry_loop(log_path):
    """`manage.py expire_waitlist_offers --loop`, as the worker service runs it; stopped with
    SIGTERM like a container, and expected to finish its round and exit cleanly."""
    with open(log_path, "w") as log:
        process = subprocess.Popen(
            [sys.executable, "manage.py", "expire_waitlist_offers", "--loop", "--interval", "0.3"],
            cwd=ROOT,
            env={
                **os.environ,
                "DATABASE_URL": e2e_database_url(),
                "WAITLIST_OFFER_TTL_SECONDS": str(OFFER_TTL),
                "PYTHONUNBUFFERED": "1",  # each round's line reaches the log at once
            },
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            # Its first round printed, its SIGTERM handler is in place: a loop still importing
            # Django on a loaded machine would die of the signal instead of finishing a round.
            def first_round_done():
                """the expiry loop's first round"""
                return "expire_waitlist_offers:" in log_path.read_text()

            wait_for(first_round_done, timeout=60)
            yield process
        finally:
            # Stopped once it runs its loop: a loaded machine may take seconds to start it,
            # and a SIGTERM before the loop's handler is set ends it as a signal would.
            started = time.monotonic()
            while "expire_waitlist_offers:" not in log_path.read_text():
                if time.monotonic() - started > 60 or process.poll() is not None:
                    break
                time.sleep(0.1)
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(5)


def wait_for(predicate, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {predicate.__doc__}"
        time.sleep(0.1)


def assert_queue_order_respected(event: Event) -> None:
    """Nobody was offered seats while someone ahead of them in the queue, still waiting, fit in
    those seats: a waiting entry ahead of an offered one must want more seats than it."""
    queue = list(WaitlistEntry.objects.filter(event=event).order_by("-priority", "joined_at", "id"))
    for position, ahead in enumerate(queue):
        if ahead.status != WaitlistEntry.Status.WAITING:
            continue
        for behind in queue[position + 1 :]:
            if behind.offered_at is not None:
                assert ahead.quantity > behind.quantity, (ahead, behind)


def test_two_app_servers_and_two_expiry_loops_on_one_database_keep_every_rule(tmp_path):
    rng = random.Random(20261124)
    events = [EventFactory(total_capacity=12), EventFactory(total_capacity=5)]
    people = UserFactory.create_batch(24)
    latecomers = UserFactory.create_batch(6)
    token = {p.pk: tokens_for(p)["access"] for p in [*people, *latecomers]}

    def book(server, person, event):
        body = {"event_id": str(event.pk), "quantity": rng.randint(1, 3)}
        return lambda: call("POST", f"{server}/api/bookings", token[person.pk], body)

    with ExitStack() as stack:
        servers = [
            stack.enter_context(
                gunicorn(
                    workers=3,
                    production=True,
                    env={
                        "WAITLIST_OFFER_TTL_SECONDS": str(OFFER_TTL),
                        "GUNICORN_ACCESS_LOG": str(tmp_path / f"access-{n}.log"),
                    },
                )
            )
            for n in range(2)
        ]
        assert len({process.pid for _, process in servers}) == 2
        urls = [base for base, _ in servers]

        # 1. Everyone books both events at once, half through each server: far more seats
        # are asked for than exist, so most people join the waitlists.
        results = run_concurrently(
            [
                book(urls[(i + j) % 2], person, event)
                for i, person in enumerate(people)
                for j, event in enumerate(events)
            ]
        )
        assert Counter(status for status, _ in results).keys() <= {201, 202}, results
        for event in events:
            assert_books_balance(event)  # and nobody waits who fits in the seats left
            assert WaitlistEntry.objects.filter(event=event, status="waiting").exists()

        # 2. Two expiry loops start. Every other booking is cancelled, through the other
        # server than it was made on, while latecomers book: the freed seats must go down the
        # waitlists in order, never to a latecomer ahead of a waiting person they fit.
        loops = [stack.enter_context(expiry_loop(tmp_path / f"expiry-{n}.log")) for n in range(2)]
        cancelled = list(Booking.objects.order_by("booking_time", "id"))[::2]
        results = run_concurrently(
            [
                lambda b=b, k=k: call(
                    "POST", f"{urls[k % 2]}/api/bookings/{b.pk}/cancel", token[b.user_id]
                )
                for k, b in enumerate(cancelled)
            ]
            + [book(urls[k % 2], p, events[k % 2]) for k, p in enumerate(latecomers)]
        )
        statuses = [status for status, _ in results]
        assert statuses[: len(cancelled)] == [200] * len(cancelled), results
        assert set(statuses[len(cancelled) :]) <= {201, 202}, results
        for event in events:
            assert_books_balance(event)

        # 3. Half of the offers are accepted, each through one server; the others are left
        # for the expiry loops, which must expire each exactly once and pass its seats on.
        offers = list(WaitlistEntry.objects.filter(status="offered").order_by("offered_at", "id"))
        assert len(offers) >= 2, "the cancellations made too few offers to test"
        accepted, ignored = offers[::2], offers[1::2]
        results = run_concurrently(
            [
                lambda e=e, k=k: call(
                    "POST", f"{urls[k % 2]}/api/waitlist/{e.pk}/accept", token[e.user_id]
                )
                for k, e in enumerate(accepted)
            ]
        )
        # Accepting races the loops only if this machine took longer than the offer's TTL.
        assert {status for status, _ in results} <= {201, 409}, results
        expired_on_accept = sum(body.get("code") == "offer_expired" for _, body in results)

        def ignored_offers_expired():
            """the expiry loops to expire the offers nobody answered"""
            return not WaitlistEntry.objects.filter(
                pk__in=[e.pk for e in ignored], status="offered"
            ).exists()

        wait_for(ignored_offers_expired, timeout=OFFER_TTL + 15)
        # Both loops are stopped here (SIGTERM), then both servers.

    assert [loop.returncode for loop in loops] == [0, 0]
    reports = [(tmp_path / f"expiry-{n}.log").read_text() for n in range(2)]
    rounds = [re.findall(r"expire_waitlist_offers: expired (\d+) offer", r) for r in reports]
    assert all(rounds), reports  # both copies kept running their rounds

    for event in events:
        assert_books_balance(event)
        assert_queue_order_respected(event)
        confirmed = Booking.objects.filter(event=event, status="confirmed").aggregate(
            n=Sum("quantity")
        )["n"]
        assert confirmed <= event.total_capacity

    # Each offer was made once and, if it lapsed, expired once: by one loop, or on accept.
    entries = WaitlistEntry.objects.all()
    offered = Counter(
        Notification.objects.filter(type="waitlist_offer").values_list("user", "event")
    )
    lapsed = Counter(
        Notification.objects.filter(type="waitlist_offer_expired").values_list("user", "event")
    )
    assert offered == Counter((e.user_id, e.event_id) for e in entries if e.offered_at)
    expired = [e for e in entries if e.status == "expired"]
    assert lapsed == Counter((e.user_id, e.event_id) for e in expired)
    assert {e.pk for e in ignored} <= {e.pk for e in expired}
    assert sum(int(n) for r in rounds for n in r) + expired_on_accept == len(expired)

    # Each server wrote its own access log, one JSON object per request.
    for n in range(2):
        lines = [
            json.loads(line)
            for line in (tmp_path / f"access-{n}.log").read_text().split("\n")
            if line
        ]
        assert {"POST"} <= {line["method"] for line in lines}
        assert all(isinstance(line["status"], int) for line in lines)
