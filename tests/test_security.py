"""Security: who may call what, tokens, CORS, headers, secrets kept out of logs, admin login.

The permission matrix names every route under /api, read from the URL resolver: a new route
without an entry fails `test_permission_matrix_covers_every_api_route`.
"""

import base64
import json
import logging
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import jwt
import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import URLResolver, get_resolver
from django.utils import timezone
from django.views.debug import SafeExceptionReporterFilter
from rest_framework.test import APIClient

from accounts.tokens import tokens_for
from bookings.models import Booking, Voucher
from bookings.services import booking_cancel, booking_create
from bookings.tickets.codes import TicketRef, ticket_code, ticket_id
from core.logging import JsonFormatter
from events.models import Event
from notifications.models import Notification
from tests.conftest import client_for
from tests.factories import PASSWORD, EventFactory, UserFactory, VoucherFactory
from tests.problems import assert_problem
from waitlist.models import WaitlistEntry
from webhooks.models import WebhookDelivery, WebhookEndpoint
from webhooks.services import endpoint_send_test, new_secret

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parent.parent

# --- Permission matrix ------------------------------------------------------------------------


@dataclass
class World:
    """`user` owns one of everything; `other_user` owns nothing; `admin_user` is staff;
    `scanner_user` is door staff and owns nothing."""

    event: Event
    booking: Booking
    offer: WaitlistEntry  # an open offer, so `accept` can succeed
    notification: Notification
    refresh: str  # a refresh token of `user`
    webhook: WebhookEndpoint
    delivery: WebhookDelivery

    @property
    def ticket_id(self):
        return ticket_id(TicketRef(self.booking.pk, 0))

    @property
    def ticket_code(self):
        return ticket_code(TicketRef(self.booking.pk, 0))


@pytest.fixture
def world(user, other_user, admin_user) -> World:
    event = EventFactory(total_capacity=50, tonight=True)  # its door is open
    booking = booking_create(event_id=event.pk, user=user, quantity=1).booking
    tight = EventFactory(total_capacity=1)
    someone = UserFactory()
    taken = booking_create(event_id=tight.pk, user=someone, quantity=1).booking
    entry = booking_create(event_id=tight.pk, user=user, quantity=1).waitlist_entry
    booking_cancel(booking_id=taken.pk, actor=someone)  # the seat is offered to `user`
    entry.refresh_from_db()
    assert entry.status == WaitlistEntry.Status.OFFERED
    notification = Notification.objects.filter(user=user).first()
    webhook = WebhookEndpoint.objects.create(
        url="https://93.184.215.14/in", events=["*"], secret=new_secret()
    )
    delivery = endpoint_send_test(endpoint_id=webhook.pk, actor=admin_user)
    refresh = tokens_for(user)["refresh"]
    return World(event, booking, entry, notification, refresh, webhook, delivery)


def world_voucher(w: World) -> Voucher:
    voucher = Voucher.objects.filter(event=w.event, code="WORLD").first()
    return voucher or VoucherFactory(event=w.event, code="WORLD")


def event_body(**changes):
    when = (timezone.now() + timedelta(days=9)).isoformat()
    body = {"name": "Gala", "venue": "Hall", "event_time": when, "total_capacity": 60}
    return {**body, "price": "10.00", **changes}


PERSONAS = ("anon", "user", "other", "admin", "scanner")
STAFF_ONLY = (401, 403, 403, 200, 403)
ANYONE = (200, 200, 200, 200, 200)
SIGNED_IN = (401, 200, 200, 200, 200)
OWNER_OR_ADMIN = (401, 200, 404, 200, 404)  # someone else's id is a 404, never a 403
# Door staff: admins and scanners. A scanner is otherwise a signed-in person like `other`,
# and gets 403 on every other staff route.
DOOR_STAFF = (401, 403, 403, 200, 200)
# "METHOD /api/path": (statuses for anon, user, other, admin, scanner), request (path, body).
MATRIX = {
    "GET /api/health": (ANYONE, lambda w: ("/api/health", None)),
    "GET /api/schema": (ANYONE, lambda w: ("/api/schema", None)),
    "GET /api/docs": (ANYONE, lambda w: ("/api/docs", None)),
    "GET /api/redoc": (ANYONE, lambda w: ("/api/redoc", None)),
    "POST /api/auth/register": (
        (201, 201, 201, 201, 201),
        lambda w: (
            "/api/auth/register",
            {"name": "Neo", "email": "neo@example.com", "password": "a-long-secret-phrase"},
        ),
    ),
    "POST /api/auth/login": (
        ANYONE,
        lambda w: ("/api/auth/login", {"email": "ann@example.com", "password": PASSWORD}),
    ),
    "POST /api/auth/refresh": (ANYONE, lambda w: ("/api/auth/refresh", {"refresh": w.refresh})),
    # Only the owner of a refresh token may revoke it.
    "POST /api/auth/logout": (
        (401, 204, 401, 401, 401),
        lambda w: ("/api/auth/logout", {"refresh": w.refresh}),
    ),
    "GET /api/auth/me": (SIGNED_IN, lambda w: ("/api/auth/me", None)),
    "GET /api/events": (ANYONE, lambda w: ("/api/events", None)),
    "POST /api/events": ((401, 403, 403, 201, 403), lambda w: ("/api/events", event_body())),
    "GET /api/events/{id}": (ANYONE, lambda w: (f"/api/events/{w.event.pk}", None)),
    "PUT /api/events/{id}": (STAFF_ONLY, lambda w: (f"/api/events/{w.event.pk}", event_body())),
    "PATCH /api/events/{id}": (
        STAFF_ONLY,
        lambda w: (f"/api/events/{w.event.pk}", {"name": "Renamed"}),
    ),
    "DELETE /api/events/{id}": (
        (401, 403, 403, 204, 403),
        lambda w: (f"/api/events/{w.event.pk}", None),
    ),
    "GET /api/events/{id}/ticket-types": (
        ANYONE,
        lambda w: (f"/api/events/{w.event.pk}/ticket-types", None),
    ),
    "POST /api/events/{id}/ticket-types": (
        (401, 403, 403, 201, 403),
        lambda w: (
            f"/api/events/{w.event.pk}/ticket-types",
            {"name": "VIP", "price": "80.00", "quota": 5},
        ),
    ),
    "GET /api/ticket-types/{id}": (
        ANYONE,
        lambda w: (f"/api/ticket-types/{w.event.ticket_types.get().pk}", None),
    ),
    "PATCH /api/ticket-types/{id}": (
        STAFF_ONLY,
        lambda w: (f"/api/ticket-types/{w.event.ticket_types.get().pk}", {"name": "Floor"}),
    ),
    # The event's one type, which sold: an admin gets 409 ticket_type_sold, nobody else in.
    "DELETE /api/ticket-types/{id}": (
        (401, 403, 403, 409, 403),
        lambda w: (f"/api/ticket-types/{w.event.ticket_types.get().pk}", None),
    ),
    "POST /api/bookings": (
        (401, 201, 201, 201, 201),
        lambda w: ("/api/bookings", {"event_id": str(w.event.pk), "quantity": 1}),
    ),
    "GET /api/bookings/my": (SIGNED_IN, lambda w: ("/api/bookings/my", None)),
    "GET /api/bookings/{id}": (OWNER_OR_ADMIN, lambda w: (f"/api/bookings/{w.booking.pk}", None)),
    "POST /api/bookings/{id}/cancel": (
        OWNER_OR_ADMIN,
        lambda w: (f"/api/bookings/{w.booking.pk}/cancel", None),
    ),
    "PUT /api/bookings/{id}/cancel": (
        OWNER_OR_ADMIN,
        lambda w: (f"/api/bookings/{w.booking.pk}/cancel", None),
    ),
    # With no payment provider (the default) the booking was confirmed without a payment: its
    # owner and an admin hear 404 for the payment and 409 already_confirmed for a new one.
    # tests/checkout covers these routes with a provider.
    "GET /api/bookings/{id}/payment": (
        (401, 404, 404, 404, 404),
        lambda w: (f"/api/bookings/{w.booking.pk}/payment", None),
    ),
    "POST /api/bookings/{id}/payment": (
        (401, 409, 404, 409, 404),
        lambda w: (f"/api/bookings/{w.booking.pk}/payment", None),
    ),
    "GET /api/bookings/{id}/tickets": (
        OWNER_OR_ADMIN,
        lambda w: (f"/api/bookings/{w.booking.pk}/tickets", None),
    ),
    "GET /api/tickets/{id}/qr.svg": (
        OWNER_OR_ADMIN,
        lambda w: (f"/api/tickets/{w.ticket_id}/qr.svg", None),
    ),
    # Naming who uses a ticket is for its owner alone; an admin gets 404 too.
    "PATCH /api/tickets/{id}": (
        (401, 200, 404, 404, 404),
        lambda w: (f"/api/tickets/{w.ticket_id}", {"attendee_name": "Cleo"}),
    ),
    "POST /api/checkin": (
        DOOR_STAFF,
        lambda w: ("/api/checkin", {"code": w.ticket_code, "event_id": str(w.event.pk)}),
    ),
    "GET /api/checkin/events/{id}": (
        DOOR_STAFF,
        lambda w: (f"/api/checkin/events/{w.event.pk}", None),
    ),
    "GET /api/waitlist/my": (SIGNED_IN, lambda w: ("/api/waitlist/my", None)),
    "GET /api/waitlist/{id}": (OWNER_OR_ADMIN, lambda w: (f"/api/waitlist/{w.offer.pk}", None)),
    # Acting on a waitlist entry is for its owner alone; an admin gets 404 too.
    "DELETE /api/waitlist/{id}": (
        (401, 204, 404, 404, 404),
        lambda w: (f"/api/waitlist/{w.offer.pk}", None),
    ),
    "POST /api/waitlist/{id}/accept": (
        (401, 201, 404, 404, 404),
        lambda w: (f"/api/waitlist/{w.offer.pk}/accept", None),
    ),
    "POST /api/waitlist/{id}/decline": (
        (401, 200, 404, 404, 404),
        lambda w: (f"/api/waitlist/{w.offer.pk}/decline", None),
    ),
    "GET /api/notifications": (SIGNED_IN, lambda w: ("/api/notifications", None)),
    "POST /api/notifications/read-all": (
        SIGNED_IN,
        lambda w: ("/api/notifications/read-all", None),
    ),
    "POST /api/notifications/{id}/read": (
        (401, 200, 404, 404, 404),
        lambda w: (f"/api/notifications/{w.notification.pk}/read", None),
    ),
    "GET /api/admin/events": (STAFF_ONLY, lambda w: ("/api/admin/events", None)),
    "GET /api/admin/events/{id}/analytics": (
        STAFF_ONLY,
        lambda w: (f"/api/admin/events/{w.event.pk}/analytics", None),
    ),
    "GET /api/admin/events/{id}/bookings": (
        STAFF_ONLY,
        lambda w: (f"/api/admin/events/{w.event.pk}/bookings", None),
    ),
    "GET /api/admin/events/{id}/bookings.csv": (
        STAFF_ONLY,
        lambda w: (f"/api/admin/events/{w.event.pk}/bookings.csv", None),
    ),
    "POST /api/admin/events/{id}/messages": (
        (401, 403, 403, 202, 403),
        lambda w: (
            f"/api/admin/events/{w.event.pk}/messages",
            {"title": "Doors open at 19:30", "message": "Use the side entrance."},
        ),
    ),
    "GET /api/admin/events/{id}/vouchers": (
        STAFF_ONLY,
        lambda w: (f"/api/admin/events/{w.event.pk}/vouchers", None),
    ),
    "POST /api/admin/events/{id}/vouchers": (
        (401, 403, 403, 201, 403),
        lambda w: (
            f"/api/admin/events/{w.event.pk}/vouchers",
            {"code": "PRESS", "discount_type": "fixed", "value": "5.00"},
        ),
    ),
    "PATCH /api/admin/vouchers/{id}": (
        STAFF_ONLY,
        lambda w: (f"/api/admin/vouchers/{world_voucher(w).pk}", {"max_uses": 9}),
    ),
    "DELETE /api/admin/vouchers/{id}": (
        (401, 403, 403, 204, 403),
        lambda w: (f"/api/admin/vouchers/{world_voucher(w).pk}", None),
    ),
    "GET /api/admin/events/{id}/queue": (
        STAFF_ONLY,
        lambda w: (f"/api/admin/events/{w.event.pk}/queue", None),
    ),
    "PATCH /api/admin/events/{id}/queue": (
        STAFF_ONLY,
        lambda w: (f"/api/admin/events/{w.event.pk}/queue", {"queue_rate": 120}),
    ),
    # The world's event has no waiting room open: joining it is a 404 for anyone signed in.
    "POST /api/events/{id}/queue": (
        (401, 404, 404, 404, 404),
        lambda w: (f"/api/events/{w.event.pk}/queue", None),
    ),
    # A place token is its person's alone; this one is nobody's.
    "GET /api/queue/{id}": ((401, 404, 404, 404, 404), lambda w: ("/api/queue/AAAA", None)),
    "GET /api/admin/analytics/events": (
        STAFF_ONLY,
        lambda w: ("/api/admin/analytics/events", None),
    ),
    "GET /api/admin/analytics/overview": (
        STAFF_ONLY,
        lambda w: ("/api/admin/analytics/overview", None),
    ),
    "GET /api/admin/webhooks": (STAFF_ONLY, lambda w: ("/api/admin/webhooks", None)),
    "POST /api/admin/webhooks": (
        (401, 403, 403, 201, 403),
        lambda w: ("/api/admin/webhooks", {"url": "https://93.184.215.14/hook", "events": ["*"]}),
    ),
    "GET /api/admin/webhooks/{id}": (
        STAFF_ONLY,
        lambda w: (f"/api/admin/webhooks/{w.webhook.pk}", None),
    ),
    "PATCH /api/admin/webhooks/{id}": (
        STAFF_ONLY,
        lambda w: (f"/api/admin/webhooks/{w.webhook.pk}", {"description": "CRM"}),
    ),
    "DELETE /api/admin/webhooks/{id}": (
        (401, 403, 403, 204, 403),
        lambda w: (f"/api/admin/webhooks/{w.webhook.pk}", None),
    ),
    "POST /api/admin/webhooks/{id}/rotate-secret": (
        STAFF_ONLY,
        lambda w: (f"/api/admin/webhooks/{w.webhook.pk}/rotate-secret", None),
    ),
    "POST /api/admin/webhooks/{id}/test": (
        (401, 403, 403, 202, 403),
        lambda w: (f"/api/admin/webhooks/{w.webhook.pk}/test", None),
    ),
    "GET /api/admin/webhooks/{id}/deliveries": (
        STAFF_ONLY,
        lambda w: (f"/api/admin/webhooks/{w.webhook.pk}/deliveries", None),
    ),
    "POST /api/admin/webhook-deliveries/{id}/retry": (
        (401, 403, 403, 202, 403),
        lambda w: (f"/api/admin/webhook-deliveries/{w.delivery.pk}/retry", None),
    ),
}


WRITTEN_METHODS = ("get", "post", "put", "patch", "delete")


def api_operations() -> set[str]:
    """Every "METHOD /api/path" the URL resolver serves, path parameters written `{id}`."""
    operations = set()

    def walk(patterns, prefix):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, prefix + str(pattern.pattern))
                continue
            path = re.sub(r"\(\?P<\w+>[^)]*\)", "{id}", prefix + str(pattern.pattern))
            path = "/" + path.replace("^", "").replace("/?$", "").replace("$", "").replace("\\", "")
            if not path.startswith("/api/"):
                continue
            callback = pattern.callback
            actions = getattr(callback, "actions", None)  # a viewset route: method -> action
            view = getattr(callback, "view_class", None) or getattr(callback, "cls", None)
            methods = actions or [m for m in WRITTEN_METHODS if hasattr(view, m)]
            # DRF adds `head` to a viewset's actions once a GET was served; HEAD and OPTIONS
            # follow GET and CORS, so only the written methods count.
            operations.update(f"{m.upper()} {path}" for m in methods if m in WRITTEN_METHODS)

    walk(get_resolver().url_patterns, "")
    return operations


def test_permission_matrix_covers_every_api_route():
    operations = api_operations()
    assert len(operations) > 30  # the walk found the API
    assert operations - set(MATRIX) == set(), "add these routes to MATRIX"
    assert set(MATRIX) - operations == set(), "these MATRIX entries are not routes any more"


def test_a_scanner_is_refused_every_staff_route_but_the_doors():
    staff_routes = {
        operation
        for operation, (statuses, _) in MATRIX.items()
        if statuses[PERSONAS.index("user")] == 403
    }
    door = {operation for operation in staff_routes if "/api/checkin" in operation}
    assert door == {"POST /api/checkin", "GET /api/checkin/events/{id}"}
    for operation in staff_routes:
        scanner = MATRIX[operation][0][PERSONAS.index("scanner")]
        assert scanner == (200 if operation in door else 403), operation


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("operation", sorted(MATRIX))
def test_permission_matrix(operation, persona, world, user, other_user, admin_user, scanner_user):
    statuses, build = MATRIX[operation]
    expected = statuses[PERSONAS.index(persona)]
    callers = {"user": user, "other": other_user, "admin": admin_user, "scanner": scanner_user}
    caller = callers.get(persona)
    client = client_for(caller) if caller else APIClient()
    method = operation.split()[0].lower()
    path, body = build(world)
    response = getattr(client, method)(path, body, format="json")
    assert response.status_code == expected, response.content[:300]
    if persona == "anon" and expected == 401:
        assert_problem(response, 401, "not_authenticated")
    elif expected == 403:
        assert_problem(response, 403, "permission_denied")
    elif expected == 404:
        assert_problem(response, 404, "not_found")


# --- JWT --------------------------------------------------------------------------------------
# tests/accounts/test_tokens.py covers expiry, a foreign key and a refresh token used as access.


def b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def login_access(client) -> str:
    response = client.post(
        "/api/auth/login", {"email": "ann@example.com", "password": PASSWORD}, format="json"
    )
    return response.json()["access"]


def test_access_tokens_are_hs256_signed_with_the_configured_key(anon_api, user):
    token = login_access(anon_api)
    assert jwt.get_unverified_header(token)["alg"] == "HS256"
    key = settings.SIMPLE_JWT["SIGNING_KEY"]
    claims = jwt.decode(token, key, algorithms=["HS256"])
    assert (claims["token_type"], claims["user_id"]) == ("access", str(user.pk))


def test_token_with_alg_none_is_rejected(anon_api, user, admin_user):
    claims = jwt.decode(login_access(anon_api), options={"verify_signature": False})
    unsigned = f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64({**claims, 'role': 'admin'})}."
    anon_api.credentials(HTTP_AUTHORIZATION=f"Bearer {unsigned}")
    assert_problem(anon_api.get("/api/admin/events"), 401, "token_not_valid")


def test_token_with_an_edited_payload_and_the_original_signature_is_rejected(
    anon_api, user, admin_user
):
    header, _, signature = login_access(anon_api).split(".")
    claims = jwt.decode(login_access(anon_api), options={"verify_signature": False})
    for edit in ({"role": "admin"}, {"user_id": str(admin_user.pk)}):
        forged = f"{header}.{b64({**claims, **edit})}.{signature}"
        anon_api.credentials(HTTP_AUTHORIZATION=f"Bearer {forged}")
        assert_problem(anon_api.get("/api/admin/events"), 401, "token_not_valid")


@pytest.mark.filterwarnings("ignore:The HMAC key is")  # the suite's short test key
def test_token_signed_with_the_right_key_but_another_algorithm_is_rejected(anon_api, user):
    claims = jwt.decode(login_access(anon_api), options={"verify_signature": False})
    other = jwt.encode(claims, settings.SIMPLE_JWT["SIGNING_KEY"], algorithm="HS384")
    anon_api.credentials(HTTP_AUTHORIZATION=f"Bearer {other}")
    assert_problem(anon_api.get("/api/auth/me"), 401, "token_not_valid")


def run_python(code: str, **env) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "SECRET_KEY"}}
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**clean, "DJANGO_SETTINGS_MODULE": "evently.settings", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_jwt_signing_key_setting_replaces_the_secret_key_for_tokens():
    code = """
import time, django, jwt
django.setup()
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.tokens import AccessToken
now = int(time.time())
claims = {"token_type": "access", "exp": now + 60, "iat": now, "jti": "j", "user_id": "u"}
for key in ("the-jwt-signing-key-0123456789abcdef", "the-secret-key-0123456789abcdefghij"):
    try:
        AccessToken(jwt.encode(claims, key, algorithm="HS256"))
        print(key, "accepted")
    except TokenError:
        print(key, "rejected")
"""
    result = run_python(
        code,
        DEBUG="false",
        SECRET_KEY="the-secret-key-0123456789abcdefghij",
        JWT_SIGNING_KEY="the-jwt-signing-key-0123456789abcdef",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split("\n")[:2] == [
        "the-jwt-signing-key-0123456789abcdef accepted",
        "the-secret-key-0123456789abcdefghij rejected",
    ]


# --- CORS -------------------------------------------------------------------------------------

APP = "https://app.example.com"


@pytest.fixture
def cors(settings):
    settings.CORS_ALLOWED_ORIGINS = [APP]


def test_a_configured_origin_may_call_the_api(cors, anon_api):
    response = anon_api.get("/api/events", HTTP_ORIGIN=APP)
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == APP
    exposed = response["Access-Control-Expose-Headers"].lower()
    assert {"x-request-id", "retry-after", "idempotent-replayed"} <= set(exposed.split(", "))


def test_a_configured_origin_passes_the_preflight_with_the_api_headers(cors, anon_api):
    response = anon_api.options(
        "/api/bookings",
        HTTP_ORIGIN=APP,
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="authorization, content-type, idempotency-key, "
        "x-request-id",
    )
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == APP
    assert "POST" in response["Access-Control-Allow-Methods"]
    allowed = set(response["Access-Control-Allow-Headers"].split(", "))
    assert {"authorization", "content-type", "idempotency-key", "x-request-id"} <= allowed


def test_an_unlisted_origin_gets_no_cors_headers(cors, anon_api):
    evil = "https://evil.example.com"
    assert "Access-Control-Allow-Origin" not in anon_api.get("/api/events", HTTP_ORIGIN=evil)
    preflight = anon_api.options(
        "/api/bookings", HTTP_ORIGIN=evil, HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST"
    )
    assert "Access-Control-Allow-Origin" not in preflight


def test_cors_covers_the_api_only(cors, client):
    assert "Access-Control-Allow-Origin" not in client.get("/admin/login/", HTTP_ORIGIN=APP)


# --- Security headers -------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/api/health", "/api/events", "/admin/login/", "/nowhere"])
def test_production_security_headers(anon_api, path):
    assert not settings.DEBUG, "the suite runs with DEBUG off (scripts/test.sh)"
    https = anon_api.get(path, secure=True)
    http = anon_api.get(path)
    for response in (https, http):
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["X-Frame-Options"] == "DENY"
    assert https["Strict-Transport-Security"] == "max-age=31536000"
    assert "Strict-Transport-Security" not in http  # HSTS over plain HTTP means nothing


def test_hsts_is_on_by_default_in_production_and_off_in_development():
    code = "import django; django.setup(); from django.conf import settings as s;"
    code += "print(s.SECURE_HSTS_SECONDS, s.SECURE_CONTENT_TYPE_NOSNIFF, s.X_FRAME_OPTIONS)"
    production = run_python(code, DEBUG="false", SECRET_KEY="s" * 50, SECURE_HSTS_SECONDS="")
    development = run_python(code, DEBUG="true", SECURE_HSTS_SECONDS="")
    assert production.stdout.split() == ["31536000", "True", "DENY"], production.stderr
    assert development.stdout.split() == ["0", "True", "DENY"], development.stderr


# --- Passwords never logged -------------------------------------------------------------------


def test_passwords_never_reach_any_log_record(caplog, anon_api, client, admin_user):
    new_password = "Unlogged-Register-Secret-4821"
    wrong_password = "Unlogged-Wrong-Secret-9713"
    weak_password = "Zq9#k"
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="django.db.backends")
    with CaptureQueriesContext(connection):  # every SQL statement is logged at DEBUG too
        register = {"name": "Eve", "email": "eve@example.com", "password": new_password}
        assert anon_api.post("/api/auth/register", register, format="json").status_code == 201
        weak = {**register, "email": "weak@example.com", "password": weak_password}
        assert anon_api.post("/api/auth/register", weak, format="json").status_code == 400
        login = {"email": "eve@example.com", "password": new_password}
        assert anon_api.post("/api/auth/login", login, format="json").status_code == 200
        wrong = {**login, "password": wrong_password}
        assert anon_api.post("/api/auth/login", wrong, format="json").status_code == 401
        admin_form = {"username": admin_user.email, "password": PASSWORD}
        assert client.post("/admin/login/", admin_form).status_code == 302
        client.logout()
        wrong_form = {**admin_form, "password": wrong_password}
        assert client.post("/admin/login/", wrong_form).status_code == 200

    loggers = {record.name for record in caplog.records}
    assert {"evently.request", "django.db.backends"} <= loggers  # the capture saw it all
    formatter = JsonFormatter()
    for record in caplog.records:
        written = f"{formatter.format(record)} {record.__dict__!r}"
        for secret in (new_password, wrong_password, weak_password, PASSWORD):
            assert secret not in written, record.name


def test_admin_forms_with_passwords_are_hidden_from_error_reports(client, admin_user):
    # sensitive_post_parameters marks the request, so an error report (mail_admins, the debug
    # page) shows stars instead of the password.
    response = client.post("/admin/login/", {"username": "x@example.com", "password": "pw-1"})
    request = response.wsgi_request
    assert request.sensitive_post_parameters == "__ALL__"
    assert SafeExceptionReporterFilter().get_post_parameters(request)["password"] != "pw-1"

    client.force_login(admin_user)
    form = {"email": "n@example.com", "name": "N", "role": "user"}
    form |= {"password1": "pw-2-long-enough", "password2": "pw-2-long-enough"}
    response = client.post("/admin/accounts/user/add/", form)
    assert response.status_code == 302  # created
    assert response.wsgi_request.sensitive_post_parameters == "__ALL__"


# --- Admin login throttle ---------------------------------------------------------------------


@pytest.fixture
def login_rate(settings):
    def set_rate(rate):
        rates = {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "login": rate}
        settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}

    return set_rate


def test_admin_login_is_throttled_per_address_like_the_api_login(
    login_rate, client, anon_api, admin_user, one_throttle_window
):
    login_rate("2/min")
    guess = {"username": admin_user.email, "password": "guess"}
    assert client.post("/admin/login/", guess).status_code == 200  # the form again
    assert client.post("/admin/login/", guess).status_code == 200
    throttled = client.post("/admin/login/", {**guess, "password": PASSWORD})
    assert_problem(throttled, 429, "throttled")
    assert 1 <= int(throttled["Retry-After"]) <= 60
    assert throttled.wsgi_request.sensitive_post_parameters == "__ALL__"
    assert "_auth_user_id" not in client.session  # the right password did not get in

    # The form still shows; another address has its own budget; the API shares this one.
    assert client.get("/admin/login/").status_code == 200
    assert client.post("/admin/login/", guess, REMOTE_ADDR="10.9.8.7").status_code == 200
    api = {"email": admin_user.email, "password": PASSWORD}
    assert_problem(anon_api.post("/api/auth/login", api, format="json"), 429, "throttled")


def test_admin_login_is_not_throttled_when_the_rate_is_off(login_rate, client, admin_user):
    login_rate(None)
    guess = {"username": admin_user.email, "password": "guess"}
    for _ in range(5):
        assert client.post("/admin/login/", guess).status_code == 200
    assert client.post("/admin/login/", {**guess, "password": PASSWORD}).status_code == 302


def test_the_admin_site_is_evently_s():
    from django.contrib import admin

    from evently.admin_site import EventlyAdminSite

    assert isinstance(admin.site, EventlyAdminSite)


@pytest.mark.parametrize(
    "path",
    ["/admin/login/", "/admin/logout/", "/admin/events/event/add/", "/admin/accounts/user/"],
)
def test_the_admin_site_refuses_a_post_without_its_csrf_token(path, admin_user):
    from django.test import Client

    # The admin's views check CSRF themselves (csrf_protect); no middleware does it for them.
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin_user)
    response = client.post(path, {"username": admin_user.email, "password": "x"})
    assert response.status_code == 403


def test_api_requests_carry_no_session_cookie(anon_api, user_api):
    response = user_api.get("/api/auth/me")
    assert response.status_code == 200
    assert "sessionid" not in response.cookies and "csrftoken" not in response.cookies


# --- Content-Security-Policy ------------------------------------------------------------------


def test_the_console_and_the_desk_carry_a_content_security_policy(client, admin_user, anon_api):
    event = EventFactory()
    for path in ("/admin/login/", "/admin/", "/admin/events/event/", "/admin/checkin/"):
        if path != "/admin/login/":
            client.force_login(admin_user)
        response = client.get(path)
        assert response.status_code == 200, path
        policy = response["Content-Security-Policy"]
        assert "script-src 'self'" in policy and "style-src 'self'" in policy, path
        assert "'unsafe-inline'" not in policy and "frame-ancestors 'none'" in policy, path
        page = response.content.decode()
        assert " style=" not in page and "<style" not in page, path  # nothing it would refuse
    assert client.get(f"/admin/checkin/{event.pk}/")["Content-Security-Policy"] == policy
    assert "Content-Security-Policy" not in anon_api.get("/api/health")
