"""Failure behaviour, for real: the database goes away and comes back; a row stays locked.

The outage is made with a TCP proxy between a gunicorn server and the shared PostgreSQL: cutting
the proxy is what a crashed database or a partition looks like to the app (refused connects,
dead pooled connections), and the shared server itself is never stopped.
"""

import http.cookiejar
import json
import re
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.db import connection

from bookings.models import Booking
from notifications.models import Notification
from tests.concurrency import event_row_held
from tests.conftest import client_for
from tests.factories import PASSWORD, AdminFactory, EventFactory, UserFactory
from tests.problems import assert_problem
from tests.server import e2e_database_url, gunicorn
from tests.tcp_proxy import TcpProxy
from waitlist.models import WaitlistEntry

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # a 302 is an answer to look at, not to follow


class Browser:
    """Just enough of a browser: keeps cookies, never follows redirects, every call bounded."""

    def __init__(self, base: str):
        self.base = base
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), _NoRedirects()
        )

    def call(self, method: str, path: str, form: dict | None = None):
        data = urllib.parse.urlencode(form).encode() if form is not None else None
        request = urllib.request.Request(self.base + path, data=data, method=method)
        try:
            with self.opener.open(request, timeout=10) as response:
                return response.status, response.headers, response.read()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.headers, exc.read()


def login_form(browser: Browser, email: str) -> dict:
    status, _, page = browser.call("GET", "/admin/login/")
    assert status == 200
    csrf = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    return {
        "username": email,
        "password": PASSWORD,
        "csrfmiddlewaretoken": csrf.decode(),
        "next": "/admin/",
    }


def assert_http_problem(answer, status: int, code: str) -> None:
    got, headers, body = answer
    assert got == status, (got, body[:300])
    assert headers["Content-Type"] == "application/problem+json"
    assert json.loads(body)["code"] == code
    assert headers["X-Request-ID"]


def test_database_outage_answers_503_everywhere_and_recovers_without_restart():
    EventFactory()
    admin = AdminFactory(email="staff@example.com")
    # The server runs the production hashers, not the tests' MD5.
    hasher = PBKDF2PasswordHasher()
    admin.password = hasher.encode(PASSWORD, hasher.salt())
    admin.save(update_fields=["password"])
    proxy = TcpProxy(("127.0.0.1", connection.settings_dict.get("PORT") or 5432)).start()
    env = {
        "DATABASE_URL": e2e_database_url(proxy.port),
        "ALLOWED_HOSTS": "127.0.0.1",
        "DB_CONNECT_TIMEOUT": "2",
        "CONN_MAX_AGE": "60",  # a kept connection that dies must be noticed (health checks)
        "SECURE_COOKIES": "false",  # plain http: the admin's cookies must reach it
    }
    try:
        with gunicorn(workers=1, env=env) as (base, _):
            browser, visitor = Browser(base), Browser(base)
            assert browser.call("GET", "/api/health")[0] == 200
            assert browser.call("GET", "/api/events")[0] == 200
            # While all is well, a staff member signs in to the admin, and a visitor opens
            # the login form (each has a CSRF token; signing in rotates the staff one).
            assert browser.call("POST", "/admin/login/", login_form(browser, admin.email))[0] == 302
            assert browser.call("GET", "/admin/")[0] == 200
            visitor_login = login_form(visitor, admin.email)

            proxy.stop()  # the database is gone

            health = browser.call("GET", "/api/health")
            assert_http_problem(health, 503, "database_unavailable")
            assert health[1]["Retry-After"]
            events = browser.call("GET", "/api/events")
            assert_http_problem(events, 503, "database_unavailable")
            assert events[1]["Retry-After"]
            # Django's own views too: the admin reads its session and user from the database.
            for who, method, path, form in [
                (browser, "GET", "/admin/login/", None),
                (browser, "GET", "/admin/", None),
                (visitor, "POST", "/admin/login/", visitor_login),
            ]:
                answer = who.call(method, path, form)
                assert_http_problem(answer, 503, "database_unavailable")
                assert answer[1]["Retry-After"] == "5"

            proxy.start()  # the database is back, on the same address; gunicorn kept running

            deadline = time.monotonic() + 15
            while browser.call("GET", "/api/health")[0] != 200:
                assert time.monotonic() < deadline, "no recovery within 15 s"
                time.sleep(0.2)
            assert browser.call("GET", "/api/events")[0] == 200
            assert browser.call("GET", "/admin/")[0] == 200  # still signed in
    finally:
        proxy.stop()


def test_booking_behind_a_stuck_lock_gives_up_after_lock_timeout_with_409_busy():
    event = EventFactory(total_capacity=10)
    user = UserFactory()
    with event_row_held(event.pk, lock_timeout="200ms"):
        started = time.monotonic()
        response = client_for(user).post(
            "/api/bookings", {"event_id": str(event.pk), "quantity": 2}, format="json"
        )
        waited = time.monotonic() - started

    assert_problem(response, 409, "busy")
    assert response["Retry-After"] == "1"
    assert waited < 3, waited  # bounded by lock_timeout, not by the holder
    # The refused request left nothing behind.
    assert Booking.objects.count() == 0
    assert WaitlistEntry.objects.count() == 0
    assert Notification.objects.count() == 0
    event.refresh_from_db()
    assert (event.available_seats, event.booked_seats) == (10, 0)

    # Control: with the lock released the same request books, so the 409 was the lock.
    again = client_for(user).post(
        "/api/bookings", {"event_id": str(event.pk), "quantity": 2}, format="json"
    )
    assert again.status_code == 201, again.content
