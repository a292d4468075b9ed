"""Property-based API tests: Schemathesis against the project's own OpenAPI schema.

Every operation is called in-process through the WSGI application (no network) by four
personas: anonymous, a plain user, an admin, and a client whose token has expired. Generated
requests, valid and invalid, must never cause a server error; every answer must match what the
schema documents (status code, content type, headers, body); invalid input must be refused and
valid input accepted.

The schema is drf-spectacular's, generated at import so that pytest gets one test per operation
and persona. (`schemathesis.pytest.from_fixture` would load it inside a test instead, but on
pytest 9.2 it fails: it rewrites `Node._nodeid`, which pytest no longer has.)
"""

import hashlib
import json
import re
import uuid
from datetime import UTC, timedelta
from urllib.parse import parse_qs, urlsplit

import hypothesis
import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from rest_framework_simplejwt.tokens import AccessToken
from schemathesis.config import SchemathesisConfig
from schemathesis.core.failures import AcceptedNegativeData
from schemathesis.core.parameters import ParameterLocation

from accounts.tokens import tokens_for
from bookings.models import Booking
from bookings.services import booking_cancel, booking_create
from bookings.tickets.codes import TicketRef, ticket_code, ticket_id
from boxoffice.services import event_cancel
from notifications.models import Notification
from tests.factories import AdminFactory, EventFactory, UserFactory
from waitlist.models import WaitlistEntry

pytestmark = [pytest.mark.django_db, pytest.mark.schemathesis]

# The fuzzing phase's budget per operation and persona; the examples and coverage phases add
# their own, bounded, cases.
MAX_EXAMPLES = 25
SEED = 20240917

# Schemathesis' default expected answers to valid input, and 422.
VALID_OR_KEY_REUSED = ["2xx", "3xx", "401", "403", "404", "409", "422", "429", "5xx"]

CONFIG = {
    "seed": SEED,
    "suppress-health-check": ["too_slow", "filter_too_much", "data_too_large"],
    "generation": {
        "max-examples": MAX_EXAMPLES,
        "deterministic": True,
        "database": "none",
        # DRF refuses a NUL character in every string it reads (PostgreSQL text cannot hold
        # one): a rule of the whole API that no single schema field can carry.
        "allow-x00": False,
    },
    "checks": {
        "enabled": False,
        "not_a_server_error": {"enabled": True},
        "status_code_conformance": {"enabled": True},
        "content_type_conformance": {"enabled": True},
        "response_headers_conformance": {"enabled": True},
        "response_schema_conformance": {"enabled": True},
        "negative_data_rejection": {"enabled": True},
        "positive_data_acceptance": {"enabled": True},
    },
    "operations": [
        {
            # `from` and `to` are each well-formed dates, but together they must span at most
            # 366 days, `from` not after `to` (the default `to` is today): a rule across two
            # parameters and the clock that a JSON Schema cannot state, so a valid-looking pair
            # is rightly refused with 400. Every other check still runs here.
            "include-operation-id": "admin_analytics_overview",
            "checks": {"positive_data_acceptance": {"enabled": False}},
        },
        {
            # A new account must pass Django's validators: the password is checked against a
            # list of common passwords and for likeness to the name and e-mail, and the e-mail
            # by Django's EmailValidator, stricter than JSON Schema's `email` format (`a@b.c`
            # has a one-letter top-level domain). The schema states what it can (length, not
            # only digits, not only spaces); a valid-looking body may still rightly get 400.
            "include-operation-id": "auth_register",
            "checks": {"positive_data_acceptance": {"enabled": False}},
        },
        {
            # A webhook URL must also resolve, to public addresses only (no server-side
            # request forgery): a check against DNS at the time of the request, which no
            # schema can state, so a well-formed URL such as https://0.com is rightly a 400.
            "include-operation-id": ["admin_webhooks_create", "admin_webhooks_partial_update"],
            "checks": {"positive_data_acceptance": {"enabled": False}},
        },
        {
            # A type's sales window must open before it closes (sales_start < sales_end), a rule
            # across two fields that the schema cannot state: a valid-looking pair is rightly
            # refused with 400. Every other check still runs here.
            "include-operation-id": ["events_ticket_types_create", "ticket_types_partial_update"],
            "checks": {"positive_data_acceptance": {"enabled": False}},
        },
        {
            # A percent voucher takes at most 100 (a rule across `discount_type` and `value`),
            # its type must be one of the event's, a code must be new to the event in any
            # letter case, and `max_uses` may not drop below the uses counted: rules across
            # fields and the data that the schema cannot state, rightly a 400.
            "include-operation-id": [
                "admin_event_vouchers_create",
                "admin_vouchers_partial_update",
            ],
            "checks": {"positive_data_acceptance": {"enabled": False}},
        },
        {
            # Both take an Idempotency-Key, and generated cases reuse keys such as "0" with
            # other bodies: the contract's answer is 422 `idempotency_key_reused` (every
            # validation error here is a 400), so 422 is an expected answer to valid input.
            "include-operation-id": ["bookings_create", "waitlist_accept"],
            "checks": {"positive_data_acceptance": {"expected-statuses": VALID_OR_KEY_REUSED}},
        },
    ],
}


def _openapi() -> dict:
    raw = SchemaGenerator().get_schema(request=None, public=True)
    return json.loads(OpenApiJsonRenderer().render(raw))


schema = schemathesis.openapi.from_dict(_openapi(), config=SchemathesisConfig.from_dict(CONFIG))
schema.app = WSGIHandler()

# Ids of the seeded objects, filled by the `seeded` fixture: about half of the requests for one
# object are pointed at a real one instead of a random UUID (see `_point_at_real_objects`).
REAL_IDS: dict[str, list[str]] = {}
_ID_KINDS = [
    (re.compile(r"^/api/(admin/|checkin/)?events/\{id\}"), "events"),
    (re.compile(r"^/api/bookings/\{id\}"), "bookings"),
    (re.compile(r"^/api/tickets/\{id\}"), "tickets"),
    (re.compile(r"^/api/waitlist/\{id\}"), "waitlist"),
    (re.compile(r"^/api/notifications/\{id\}"), "notifications"),
]


def _real_id(value, kind: str, case) -> str:
    """A seeded id instead of `value` for about half of the cases, chosen by the case itself.

    Only a well-formed id is swapped (for another well-formed one), so a case meant to be
    invalid stays invalid, and the choice is as reproducible as the generated case.
    """
    ids = REAL_IDS.get(kind)
    try:
        uuid.UUID(value)
    except (TypeError, ValueError, AttributeError):
        return value
    if not ids:
        return value
    parts = [case.method, case.path_parameters, case.query, case.body]
    digest = hashlib.sha256(json.dumps(parts, sort_keys=True, default=repr).encode()).digest()
    number = int.from_bytes(digest[:8], "big")
    return value if number % 2 else ids[(number // 2) % len(ids)]


def _real_code(value, case) -> str:
    """A seeded ticket's code instead of a generated one for about half of the cases, so the
    door is tried with codes that name tickets (valid, void, already in) as well as with
    strings that name none."""
    codes = REAL_IDS.get("codes")
    if not isinstance(value, str) or not codes:
        return value
    parts = [case.method, case.query, case.body]
    digest = hashlib.sha256(json.dumps(parts, sort_keys=True, default=repr).encode()).digest()
    number = int.from_bytes(digest[:8], "big")
    return value if number % 2 else codes[(number // 2) % len(codes)]


def _point_at_real_objects(case) -> None:
    path = case.operation.path
    kind = next((k for pattern, k in _ID_KINDS if pattern.match(path)), None)
    if kind and isinstance(case.path_parameters, dict) and "id" in case.path_parameters:
        real = _real_id(case.path_parameters["id"], kind, case)
        case.path_parameters = {**case.path_parameters, "id": real}
    body = case.body
    if path in ("/api/bookings/", "/api/checkin/") and isinstance(body, dict):
        if "event_id" in body:
            body = {**body, "event_id": _real_id(body["event_id"], "events", case)}
        if "code" in body:
            body = {**body, "code": _real_code(body["code"], case)}
        case.body = body


@schema.hook
def filter_failure(context, failure, case, response):
    """Keep every failure but one kind: an empty optional query parameter read as absent.

    Like HTML forms, django-filter and DRF, the API reads `?starts_before=` as no
    `starts_before` at all (pagination does the same on purpose), so a case whose only flaw is
    an empty query value is rightly accepted. OpenAPI's way to say so, `allowEmptyValue`, is
    deprecated and drf-spectacular cannot emit it. A case with any other flaw still counts.
    """
    if not isinstance(failure, AcceptedNegativeData) or case.meta is None:
        return True
    negative = {loc for loc, info in case.meta.components.items() if info.mode.is_negative}
    data = case.meta.phase.data
    flawed = {(m.parameter_location, m.parameter) for m in getattr(data, "mutations", ())}
    if not flawed and getattr(data, "parameter", None):
        flawed = {(data.parameter_location, data.parameter)}
    # What went on the wire: a generated `{}` or `[]` is sent as an empty value too.
    sent = parse_qs(urlsplit(response.request.url).query, keep_blank_values=True)
    empty = {name for name, values in sent.items() if values == [""]}
    only_empty = bool(flawed) and all(
        location == ParameterLocation.QUERY and name in empty for location, name in flawed
    )
    return not (negative == {ParameterLocation.QUERY} and only_empty)


@pytest.fixture
def keep_test_connection():
    # Django's test client keeps `close_old_connections` from running around each request,
    # since closing the connection would throw away the test's transaction; a bare WSGI call
    # needs the same.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.fixture
def unthrottled(settings):
    # Throttling has its own tests; here it would only turn generated requests into 429s.
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": dict.fromkeys(("login", "anon", "user"), "100000/min"),
    }


@pytest.fixture
def seeded(db):
    """A small world for the generated requests to hit: events with bookings and a waitlist."""
    ann = UserFactory(name="Ann Persona", email="ann.persona@example.com")
    admin = AdminFactory(name="Ada Persona", email="ada.persona@example.com")
    bob, cat, dan = UserFactory(), UserFactory(), UserFactory()

    # Open, with Ann's and Bob's bookings.
    open_event = EventFactory(name="Open Air Jazz", total_capacity=20)
    booking_create(event_id=open_event.pk, user=ann, quantity=2)
    booking_create(event_id=open_event.pk, user=bob, quantity=3)

    # Sold out: Bob cancels, so Ann's waiting entry becomes an open offer; Dan then waits.
    sold_out = EventFactory(name="Sold Out Strings", total_capacity=4)
    bobs = booking_create(event_id=sold_out.pk, user=bob, quantity=2).booking
    booking_create(event_id=sold_out.pk, user=cat, quantity=2)
    booking_create(event_id=sold_out.pk, user=ann, quantity=2)
    booking_cancel(booking_id=bobs.pk, actor=bob)
    booking_create(event_id=sold_out.pk, user=dan, quantity=1)

    # Sold out with Ann waiting.
    full = EventFactory(name="Full House", total_capacity=1)
    booking_create(event_id=full.pk, user=cat, quantity=1)
    booking_create(event_id=full.pk, user=ann, quantity=1)

    # Cancelled by staff after Ann booked; and one that is over.
    cancelled = EventFactory(name="Called Off", total_capacity=10)
    booking_create(event_id=cancelled.pk, user=ann, quantity=1)
    event_cancel(event_id=cancelled.pk, actor=admin)
    past = EventFactory(name="Last Year", event_time=timezone.now() - timedelta(days=30))

    assert WaitlistEntry.objects.filter(user=ann, status=WaitlistEntry.Status.OFFERED).exists()
    refs = [TicketRef(b.pk, i) for b in Booking.objects.all() for i in range(b.quantity)]
    REAL_IDS.update(
        events=[str(e.pk) for e in (open_event, sold_out, full, cancelled, past)],
        bookings=[str(pk) for pk in Booking.objects.values_list("pk", flat=True)],
        waitlist=[str(pk) for pk in WaitlistEntry.objects.values_list("pk", flat=True)],
        notifications=[str(pk) for pk in Notification.objects.values_list("pk", flat=True)],
        tickets=[str(ticket_id(ref)) for ref in refs],
        codes=[ticket_code(ref) for ref in refs],
    )
    yield {"user": ann, "admin": admin}
    REAL_IDS.clear()


@pytest.fixture(params=["anonymous", "user", "admin", "expired"])
def auth_headers(request, seeded) -> dict[str, str]:
    """The persona's credentials: none, a user's or an admin's token, or a stale token.

    The stale one (the user's, expired an hour ago) is what a client sends whose token ran
    out; every operation that reads credentials, public ones too, must document its 401.
    """
    if request.param == "anonymous":
        return {}
    if request.param == "expired":
        token = AccessToken.for_user(seeded["user"])
        token.set_exp(from_time=timezone.now() - timedelta(hours=1))
        return {"Authorization": f"Bearer {token}"}
    return {"Authorization": f"Bearer {tokens_for(seeded[request.param])['access']}"}


@schema.parametrize()
@hypothesis.settings(
    suppress_health_check=[hypothesis.HealthCheck.function_scoped_fixture], database=None
)
@pytest.mark.usefixtures("keep_test_connection", "unthrottled")
def test_api_conforms_to_its_schema(case, auth_headers):
    _point_at_real_objects(case)
    _start_in_the_future(case)
    # A case that leaves out or spoils the credentials on purpose is sent as generated.
    negated = case.operation.schema.is_security_param_negated(case)
    case.call_and_validate(headers=None if negated else auth_headers)


def _start_in_the_future(case) -> None:
    # Events must start in the future, a rule of the contract that no JSON Schema can state:
    # a well-formed but past `event_time` is moved ahead, so it stays well-formed and every
    # other part of the case is still judged as generated.
    body = case.body
    if case.operation.path.startswith("/api/events/") and isinstance(body, dict):
        when = body.get("event_time")
        if isinstance(when, str) and _is_past(when):
            case.body = {**body, "event_time": (timezone.now() + timedelta(days=30)).isoformat()}


def _is_past(value: str) -> bool:
    try:
        parsed = parse_datetime(value)
    except ValueError:
        return False
    if parsed is None:
        return False
    if timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed, UTC)
    return parsed <= timezone.now()
