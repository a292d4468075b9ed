"""GET /metrics: who may scrape it, and that what it says is what happened.

The exact counts are read from gunicorn run with the production config and two workers that
are recycled every few requests, so every figure is a sum over several processes, some of
them gone by the time of the scrape.
"""

import json
import re
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.utils import timezone

from accounts.tokens import tokens_for
from bookings.models import Booking
from bookings.tickets.codes import TicketRef, ticket_code
from core.metrics import capped, route_label
from notifications.models import Notification
from tests.factories import EventFactory, ScannerFactory, UserFactory
from tests.server import gunicorn
from waitlist.models import WaitlistEntry

TOKEN = "metrics-token-for-tests"
SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\{[^}]*\})?) (\S+)$")


def samples(text: str) -> dict[str, float]:
    """Each sample line of a Prometheus text exposition: `name{labels}` -> value."""
    found = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            match = SAMPLE.match(line)
            assert match, f"not a sample line: {line!r}"
            found[match.group(1)] = float(match.group(2))
    return found


# --- Who may scrape ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_metrics_are_a_404_when_no_token_is_configured(client, settings):
    settings.METRICS_TOKEN = ""
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    # The site's 404 page, as for any path that is not there.
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")
    other = client.get("/no-such-page").content.replace(b"/no-such-page", b"/metrics")
    assert response.content == other


@pytest.mark.django_db
@pytest.mark.parametrize("header", [None, "Bearer wrong", f"Basic {TOKEN}", f"Bearer {TOKEN}x"])
def test_metrics_refuse_a_missing_or_wrong_token_with_401(client, settings, header):
    settings.METRICS_TOKEN = TOKEN
    extra = {"HTTP_AUTHORIZATION": header} if header else {}
    response = client.get("/metrics", **extra)
    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"
    assert response["WWW-Authenticate"] == 'Bearer realm="metrics"'
    assert response.json()["code"] == "not_authenticated"


# --- State read at scrape time ------------------------------------------------------------------

NOW = datetime(2026, 12, 1, 20, 0, tzinfo=UTC)


@pytest.mark.django_db
def test_scrape_reads_outbox_backlog_and_age_and_overdue_offers_from_the_database(client, settings):
    settings.METRICS_TOKEN = TOKEN
    person = UserFactory()
    event = EventFactory(event_time=NOW + timedelta(days=3), total_capacity=10)

    def note(status, next_attempt):
        Notification.objects.create(
            user=person,
            type=Notification.Type.EVENT_MESSAGE,
            title="t",
            message="m",
            email_status=status,
            email_next_attempt_at=next_attempt,
        )

    note("pending", NOW - timedelta(seconds=90))  # due for 90 s: the oldest
    note("sending", NOW - timedelta(seconds=30))
    note("pending", NOW + timedelta(minutes=4))  # waiting out a retry backoff: not due
    note("sent", NOW - timedelta(hours=1))
    note("failed", NOW - timedelta(hours=2))  # given up: not the mailer's work any more
    for expires in (NOW - timedelta(seconds=300), NOW - timedelta(seconds=20), NOW):
        WaitlistEntry.objects.create(
            event=event,
            ticket_type=event.ticket_types.get(),
            user=UserFactory(),
            quantity=1,
            status=WaitlistEntry.Status.OFFERED,
            offered_at=expires - timedelta(minutes=30),
            offer_expires_at=expires,
        )

    with time_machine.travel(NOW, tick=False):
        response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=")
    found = samples(response.content.decode())
    assert found['evently_outbox_backlog{outbox="email"}'] == 3
    assert found['evently_outbox_oldest_age_seconds{outbox="email"}'] == 90
    assert found["evently_waitlist_overdue_offers"] == 2  # the third expires just now
    assert found["evently_waitlist_overdue_offer_seconds"] == 300
    assert found["evently_database_up"] == 1


@pytest.mark.django_db
def test_an_idle_outbox_and_no_offers_read_zero(client, settings):
    settings.METRICS_TOKEN = TOKEN
    found = samples(client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}").content.decode())
    assert found['evently_outbox_backlog{outbox="email"}'] == 0
    assert found['evently_outbox_oldest_age_seconds{outbox="email"}'] == 0
    assert found["evently_waitlist_overdue_offers"] == 0
    assert found["evently_waitlist_overdue_offer_seconds"] == 0


def test_route_labels_are_the_url_patterns_without_regex_syntax():
    assert route_label("api/bookings/?$") == "api/bookings"
    assert route_label("api/bookings/(?P<pk>[^/.]+)/cancel/?$") == "api/bookings/<pk>/cancel"
    assert route_label("admin/bookings/booking/<path:object_id>/change/") == (
        "admin/bookings/booking/<path:object_id>/change"
    )
    assert route_label("api/.*$") == "api/.*"
    assert route_label("^metrics/?$") == "metrics"


def test_queue_lengths_name_the_longest_queues_and_sum_the_rest():
    lengths = {"a": 5, "b": 50, "c": 7, "d": 1}
    assert capped(lengths, 2) == [("b", 50), ("c", 7), ("other", 6)]
    assert capped(lengths, 4) == [("b", 50), ("c", 7), ("a", 5), ("d", 1)]


# --- Counts after real traffic, summed over worker processes ----------------------------------


def call(method, url, *, token=None, body=None):
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=20) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_scrape_sums_every_worker_including_recycled_ones(tmp_path):
    # Tonight's, so its door is open for the check-ins.
    event = EventFactory(total_capacity=3, event_time=timezone.now() + timedelta(minutes=30))
    buyers = [UserFactory() for _ in range(5)]
    scanner = ScannerFactory()
    env = {
        "METRICS_TOKEN": TOKEN,
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path),
        # Each worker exits after 3 requests and a new one takes its place: the counts of the
        # exited ones must still be in the sums.
        "GUNICORN_MAX_REQUESTS": "3",
        "THROTTLE_LOGIN": "1/min",
    }
    with gunicorn(workers=2, production=True, env=env) as (base, _):
        book = f"{base}/api/bookings"
        one_seat = {"event_id": str(event.pk), "quantity": 1}
        for buyer in buyers[:3]:
            token = tokens_for(buyer)["access"]
            assert call("POST", book, token=token, body=one_seat)[0] == 201
        sold_out = {**one_seat, "join_waitlist": False}
        status, body = call("POST", book, token=tokens_for(buyers[3])["access"], body=sold_out)
        assert (status, json.loads(body)["code"]) == (409, "sold_out")
        status, _ = call("POST", book, token=tokens_for(buyers[4])["access"], body=one_seat)
        assert status == 202  # waitlisted

        door = tokens_for(scanner)["access"]
        code = ticket_code(TicketRef(Booking.objects.filter(event=event).first().pk, 0))
        for expected in (200, 409):
            assert call("POST", f"{base}/api/checkin", token=door, body={"code": code})[0] == (
                expected
            )

        login = {"email": buyers[0].email, "password": "wrong password"}
        assert call("POST", f"{base}/api/auth/login", body=login)[0] == 401
        assert call("POST", f"{base}/api/auth/login", body=login)[0] == 429

        status, text = call("GET", f"{base}/metrics", token=TOKEN)
        assert status == 200

    found = samples(text.decode())
    assert found['evently_bookings_total{result="booked"}'] == 3
    assert found['evently_bookings_total{result="waitlisted"}'] == 1
    assert found['evently_booking_conflicts_total{code="sold_out"}'] == 1
    assert found['evently_checkins_total{result="admitted"}'] == 1
    assert found['evently_checkins_total{result="already_checked_in"}'] == 1
    assert found['evently_throttled_requests_total{scope="login"}'] == 1
    bookings = 'evently_http_requests_total{{method="POST",route="api/bookings",status="{}"}}'
    assert found[bookings.format(201)] == 3
    assert found[bookings.format(409)] == 1
    assert found[bookings.format(202)] == 1
    assert found['evently_http_request_duration_seconds_count{route="api/bookings"}'] == 5
    # Lock waits: the three plain bookings' one statement each; the sold-out and the
    # waitlisted booking each ran that statement (it wrote nothing) and then locked the row.
    assert found["evently_seat_lock_wait_seconds_count"] == 7
    # 3 confirmations and 1 waitlist notice, none sent (no mailer runs).
    assert found['evently_outbox_backlog{outbox="email"}'] == 4
    assert found["evently_database_up"] == 1

    # Every request's process left its files: more processes than the two workers alive.
    pids = {path.stem.rsplit("_", 1)[1] for path in tmp_path.glob("counter_*.db")}
    assert len(pids) >= 4, pids


@pytest.mark.django_db(transaction=True)
def test_a_counter_counts_only_what_commits(monkeypatch):
    from django.db import transaction
    from prometheus_client import CollectorRegistry, Counter

    from core import metrics

    monkeypatch.setattr(metrics, "ENABLED", True)
    counter = Counter("evently_test_total", "test", registry=CollectorRegistry())
    with pytest.raises(RuntimeError), transaction.atomic():
        metrics.on_commit(counter, 2)
        raise RuntimeError("rolled back")
    assert counter._value.get() == 0
    with transaction.atomic():
        metrics.on_commit(counter, 2)
        assert counter._value.get() == 0  # not before the commit
    assert counter._value.get() == 2
