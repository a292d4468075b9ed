"""Structured logs: one JSON line per request, and every record tied to its request's id."""

import io
import json
import logging
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from django.utils import timezone

from bookings.services import booking_create
from core.logging import JsonFormatter, RequestIdFilter
from tests.conftest import client_for
from tests.factories import EventFactory

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def log_lines():
    """Every record logged during the test, formatted as the console handler does in JSON mode.

    Returns a callable giving the lines parsed; a line that is not one JSON object fails.
    """
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestIdFilter())
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    root.removeHandler(handler)
    root.setLevel(level)


def request_lines(lines):
    return [line for line in lines if line["logger"] == "evently.request"]


def test_each_request_writes_one_json_line_with_method_path_status_duration_user_and_id(
    log_lines, user, user_api
):
    response = user_api.get("/api/events", {"limit": 5})
    assert response.status_code == 200

    [line] = request_lines(log_lines())
    assert line["method"] == "GET"
    assert line["path"] == "/api/events"
    assert line["status"] == 200
    assert isinstance(line["duration_ms"], float) and line["duration_ms"] >= 0
    assert line["user_id"] == str(user.pk)
    assert line["remote_addr"] == "127.0.0.1"
    assert line["level"] == "INFO"
    assert line["time"].endswith("+00:00")
    # A fresh id (uuid4 hex), echoed to the client.
    assert len(line["request_id"]) == 32
    assert response["X-Request-ID"] == line["request_id"]


def test_anonymous_and_failed_requests_are_logged_too(log_lines, anon_api):
    anon_api.get("/api/events")
    anon_api.get("/api/auth/me")
    anon_api.post("/api/auth/login", {"email": "x@example.com", "password": "p"}, format="json")
    lines = request_lines(log_lines())
    assert [(line["method"], line["path"], line["status"]) for line in lines] == [
        ("GET", "/api/events", 200),
        ("GET", "/api/auth/me", 401),
        ("POST", "/api/auth/login", 401),
    ]
    assert all(line["user_id"] is None for line in lines)
    assert len({line["request_id"] for line in lines}) == 3


def test_a_sane_incoming_request_id_is_kept_echoed_and_put_on_every_record(log_lines, anon_api):
    response = anon_api.get("/api/nowhere", HTTP_X_REQUEST_ID="edge-42.a_B")
    assert response.status_code == 404
    assert response["X-Request-ID"] == "edge-42.a_B"
    lines = log_lines()
    # Django's own "Not Found" warning, logged after the middleware has returned, included.
    assert {line["logger"] for line in lines} >= {"evently.request", "django.request"}
    assert {line["request_id"] for line in lines} == {"edge-42.a_B"}


@pytest.mark.parametrize(
    "incoming",
    ["abc\ndef", "x" * 65, "y" * 300, "a b", '"quoted"', "ü", "id;rm -rf", ""],
    ids=["newline", "65-chars", "300-chars", "space", "quotes", "non-ascii", "semicolon", "empty"],
)
def test_an_unsafe_incoming_request_id_is_replaced(log_lines, anon_api, incoming):
    response = anon_api.get("/api/events", HTTP_X_REQUEST_ID=incoming)
    replaced = response["X-Request-ID"]
    assert replaced != incoming
    assert len(replaced) == 32 and int(replaced, 16) >= 0
    [line] = request_lines(log_lines())
    assert line["request_id"] == replaced


def test_booking_cancel_offer_and_expiry_are_logged_with_their_ids_and_request_id(
    log_lines, user, other_user
):
    event = EventFactory(total_capacity=2)
    theirs = booking_create(event_id=event.pk, user=other_user, quantity=2).booking
    mine = client_for(user)

    waitlisted = mine.post(
        "/api/bookings",
        {"event_id": str(event.pk), "quantity": 1},
        format="json",
        HTTP_X_REQUEST_ID="join-1",
    )
    assert waitlisted.status_code == 202
    entry_id = waitlisted.json()["waitlist_entry"]["id"]

    cancelled = client_for(other_user).post(
        f"/api/bookings/{theirs.pk}/cancel", HTTP_X_REQUEST_ID="cancel-1"
    )
    assert cancelled.status_code == 200

    with time_machine.travel(timezone.now() + timedelta(hours=1)):
        late = client_for(user).post(
            f"/api/waitlist/{entry_id}/accept", HTTP_X_REQUEST_ID="accept-1"
        )
    assert late.status_code == 409

    booked = mine.post(
        "/api/bookings",
        {"event_id": str(event.pk), "quantity": 1},
        format="json",
        HTTP_X_REQUEST_ID="book-1",
    )
    assert booked.status_code == 201
    booking_id = booked.json()["booking"]["id"]

    lines = [line for line in log_lines() if line["logger"] != "evently.request"]

    def logged(request_id, **ids):
        return [
            line["message"]
            for line in lines
            if line["request_id"] == request_id and all(line.get(k) == v for k, v in ids.items())
        ]

    assert logged("book-1", booking_id=booking_id)  # booking
    assert logged("cancel-1", booking_id=str(theirs.pk))  # cancellation
    assert logged("cancel-1", entry_id=entry_id)  # the freed seats offered
    assert any("expired" in message for message in logged("accept-1", entry_id=entry_id))


def run_python(code: str, **env) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "LOG_FORMAT"}}
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={
            **clean,
            "DJANGO_SETTINGS_MODULE": "evently.settings",
            "SECRET_KEY": "s" * 50,
            "ALLOWED_HOSTS": "testserver",
            **env,
        },
        capture_output=True,
        text=True,
        timeout=60,
    )


# A request that needs no database: an unknown route.
REQUEST = (
    "import django; django.setup(); from django.test import Client;"
    "Client().get('/nowhere', HTTP_X_REQUEST_ID='sub-1')"
)


@pytest.mark.parametrize(("debug", "log_format"), [("false", ""), ("true", "json")])
def test_the_console_writes_json_lines_by_default_in_production(debug, log_format):
    result = run_python(REQUEST, DEBUG=debug, LOG_FORMAT=log_format)
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stderr.splitlines()]
    request = next(line for line in lines if line["logger"] == "evently.request")
    assert (request["path"], request["status"], request["request_id"]) == ("/nowhere", 404, "sub-1")
    assert {line["request_id"] for line in lines} == {"sub-1"}


@pytest.mark.parametrize(("debug", "log_format"), [("true", ""), ("false", "text")])
def test_the_console_writes_text_in_development_or_when_asked(debug, log_format):
    result = run_python(REQUEST, DEBUG=debug, LOG_FORMAT=log_format)
    assert result.returncode == 0, result.stderr
    assert "INFO evently.request [sub-1] GET /nowhere 404" in result.stderr
    assert not result.stderr.lstrip().startswith("{")


def test_an_unknown_log_format_stops_start_up():
    result = run_python("import django; django.setup()", LOG_FORMAT="xml")
    assert result.returncode != 0
    assert "LOG_FORMAT must be json or text" in result.stderr
