"""Tickets as their owner sees them: ids and codes, the list, the QR code, naming the attendee,
and that issuing them costs the booking nothing."""

import string
import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from bookings.models import TicketAttendee
from bookings.services import booking_cancel, booking_create
from bookings.tickets.codes import (
    TicketRef,
    ref_from_code,
    ref_from_ticket_id,
    ticket_code,
    ticket_id,
)
from notifications.models import Notification
from tests.conftest import client_for
from tests.factories import EventFactory
from tests.problems import assert_problem

pytestmark = pytest.mark.django_db

TICKET_KEYS = {
    "id",
    "booking_id",
    "event_id",
    "number",
    "code",
    "status",
    "ticket_type_id",
    "ticket_type_name",
    "attendee_name",
    "checked_in_at",
}
URL_SAFE = set(string.ascii_letters + string.digits + "-_")


def book(user, quantity=2, **event):
    return booking_create(event_id=EventFactory(**event).pk, user=user, quantity=quantity).booking


# --- Codes and ids ----------------------------------------------------------------------------


def test_a_code_is_url_safe_short_and_names_its_ticket():
    ref = TicketRef(uuid.uuid4(), 3)
    code = ticket_code(ref)
    assert len(code) == 44 and set(code) <= URL_SAFE
    assert ref_from_code(code) == ref


def test_every_ticket_of_a_booking_has_its_own_code_and_id():
    booking_id = uuid.uuid4()
    refs = [TicketRef(booking_id, i) for i in range(10)]
    assert len({ticket_code(r) for r in refs}) == 10
    assert len({ticket_id(r) for r in refs}) == 10
    assert booking_id not in {ticket_id(r) for r in refs}


def test_a_code_with_any_one_character_changed_names_no_ticket():
    code = ticket_code(TicketRef(uuid.uuid4(), 0))
    for position in range(len(code)):
        for other in "A0_-z":
            if other != code[position]:
                forged = code[:position] + other + code[position + 1 :]
                assert ref_from_code(forged) is None, (position, other)


def test_a_code_cannot_be_made_without_the_signing_key(settings):
    ref = TicketRef(uuid.uuid4(), 1)
    genuine = ticket_code(ref)
    settings.TICKET_SIGNING_KEY = "another-key-someone-guessed"
    forged = ticket_code(ref)
    assert forged != genuine
    assert ref_from_code(forged) == ref  # it is theirs...
    settings.TICKET_SIGNING_KEY = ""
    assert ref_from_code(forged) is None  # ...but not ours
    assert ref_from_code(genuine) == ref


def test_the_signing_key_defaults_to_one_derived_from_the_secret_key(settings):
    ref = TicketRef(uuid.uuid4(), 0)
    settings.TICKET_SIGNING_KEY = ""
    derived = ticket_code(ref)
    settings.SECRET_KEY = "a-rotated-secret-key-0123456789-abcdefghijklmnop"
    assert ticket_code(ref) != derived


@pytest.mark.parametrize(
    "code",
    ["", "x", "A" * 44, "A" * 43 + "=", "A" * 45, "~" * 44, " " * 44, None, 12, "Ä" * 44],
)
def test_anything_else_is_not_a_code(code):
    assert ref_from_code(code) is None


def test_a_ticket_id_is_a_uuid_that_gives_back_its_booking_and_seat():
    booking_id = uuid.uuid4()
    for index in range(10):
        tid = ticket_id(TicketRef(booking_id, index))
        assert isinstance(tid, uuid.UUID) and tid != booking_id
        assert ref_from_ticket_id(str(tid)) == TicketRef(booking_id, index)


@pytest.mark.parametrize("value", [uuid.uuid4(), "nope", "", None, uuid.UUID(int=0)])
def test_a_booking_id_or_anything_else_is_not_a_ticket_id(value):
    assert ref_from_ticket_id(value) is None


def test_seat_indexes_stop_at_the_booking_limit():
    with pytest.raises(ValueError):
        TicketRef(uuid.uuid4(), 10)


# --- GET /api/bookings/{id}/tickets -----------------------------------------------------------


def test_the_owner_lists_one_valid_ticket_per_seat(user_api, user):
    booking = book(user, quantity=3)
    response = user_api.get(f"/api/bookings/{booking.pk}/tickets")
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 3
    tickets = body["results"]
    assert [set(t) for t in tickets] == [TICKET_KEYS] * 3
    assert [t["number"] for t in tickets] == [1, 2, 3]
    assert {t["status"] for t in tickets} == {"valid"}
    assert {(t["booking_id"], t["event_id"]) for t in tickets} == {
        (str(booking.pk), str(booking.event_id))
    }
    for t in tickets:
        assert ref_from_code(t["code"]) == ref_from_ticket_id(t["id"])
        assert ref_from_ticket_id(t["id"]).booking_id == booking.pk
    # The same tickets every time: nothing was issued, they are computed.
    assert user_api.get(f"/api/bookings/{booking.pk}/tickets").json() == body


def test_a_cancelled_booking_has_void_tickets(user_api, user):
    booking = book(user, quantity=2)
    booking_cancel(booking_id=booking.pk, actor=user)
    tickets = user_api.get(f"/api/bookings/{booking.pk}/tickets").json()["results"]
    assert [t["status"] for t in tickets] == ["void", "void"]


def test_someone_elses_booking_has_no_tickets_to_see_but_an_admin_sees_them(
    user, other_api, admin_api
):
    booking = book(user)
    assert_problem(other_api.get(f"/api/bookings/{booking.pk}/tickets"), 404, "not_found")
    assert admin_api.get(f"/api/bookings/{booking.pk}/tickets").json()["count"] == 2


def test_listing_tickets_reads_a_fixed_number_of_rows(user, django_assert_num_queries):
    booking = book(user, quantity=10)
    api = client_for(user)
    # 1 the caller's account, 2 the booking with its event, 3 its items with their types,
    # 4 its check-ins, 5 its attendees.
    with django_assert_num_queries(5):
        assert api.get(f"/api/bookings/{booking.pk}/tickets").json()["count"] == 10


def test_my_bookings_count_their_tickets(user_api, user):
    book(user, quantity=3)
    [result] = user_api.get("/api/bookings/my").json()["results"]
    assert result["tickets"] == 3


def test_the_confirmation_links_to_the_tickets(user):
    booking = book(user)
    notification = Notification.objects.get(user=user, type="booking_confirmed")
    assert f"/api/bookings/{booking.pk}/tickets" in notification.message


# --- The booking path -------------------------------------------------------------------------


def test_booking_runs_no_statement_for_its_tickets(user, django_assert_num_queries):
    event = EventFactory(total_capacity=20)
    api = client_for(user)
    # As before tickets existed: whether the event has a waiting room turned on (no admission
    # came with the booking), the transaction's savepoint (the test runs in a transaction),
    # the buyer's lock, the event (the worker's first booking of it), the seats, the booking,
    # its notification and the day's sales in one statement, the webhook message's one
    # statement (webhooks.outbox), and the release.
    with django_assert_num_queries(7):
        response = api.post(
            "/api/bookings", {"event_id": str(event.pk), "quantity": 4}, format="json"
        )
    assert response.status_code == 201
    booking_id = response.json()["booking"]["id"]
    assert client_for(user).get(f"/api/bookings/{booking_id}/tickets").json()["count"] == 4


# --- GET /api/tickets/{id}/qr.svg -------------------------------------------------------------


def first_ticket(api, booking):
    return api.get(f"/api/bookings/{booking.pk}/tickets").json()["results"][0]


def test_the_qr_code_is_an_svg_of_the_code(user_api, user):
    booking = book(user)
    ticket = first_ticket(user_api, booking)
    response = user_api.get(f"/api/tickets/{ticket['id']}/qr.svg")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/svg+xml"
    assert "no-store" in response["Cache-Control"]
    svg = response.content.decode()
    assert svg.startswith("<svg") and svg.rstrip().endswith("</svg>")
    assert 'viewBox="0 0 ' in svg and booking.event.name in svg  # scalable, with a title
    # What a browser's <img> asks for, or an explicit image request, gets the picture too.
    for accept in ("image/avif,image/webp,*/*", "image/svg+xml"):
        again = user_api.get(f"/api/tickets/{ticket['id']}/qr.svg", HTTP_ACCEPT=accept)
        assert (again.status_code, again.content) == (200, response.content)


def test_the_qr_code_changes_with_the_ticket(user_api, user):
    tickets = user_api.get(f"/api/bookings/{book(user).pk}/tickets").json()["results"]
    pictures = {user_api.get(f"/api/tickets/{t['id']}/qr.svg").content for t in tickets}
    assert len(pictures) == 2


def test_only_the_owner_or_an_admin_gets_the_qr_code(
    user_api, other_api, admin_api, anon_api, user
):
    ticket = first_ticket(user_api, book(user))
    path = f"/api/tickets/{ticket['id']}/qr.svg"
    assert_problem(other_api.get(path, HTTP_ACCEPT="image/svg+xml"), 404, "not_found")
    assert_problem(anon_api.get(path), 401, "not_authenticated")
    assert admin_api.get(path).status_code == 200


@pytest.mark.parametrize("make_id", [lambda b: b.pk, lambda b: uuid.uuid4(), lambda b: "nope"])
def test_a_booking_id_or_a_random_id_is_no_ticket(user_api, user, make_id):
    booking = book(user)
    assert_problem(user_api.get(f"/api/tickets/{make_id(booking)}/qr.svg"), 404, "not_found")


def test_a_seat_beyond_the_booking_is_no_ticket(user_api, user):
    booking = book(user, quantity=2)
    beyond = ticket_id(TicketRef(booking.pk, 2))
    assert_problem(user_api.get(f"/api/tickets/{beyond}/qr.svg"), 404, "not_found")


# --- PATCH /api/tickets/{id} ------------------------------------------------------------------


def test_the_owner_names_who_will_use_a_ticket(user_api, user):
    booking = book(user)
    ticket = first_ticket(user_api, booking)
    response = user_api.patch(
        f"/api/tickets/{ticket['id']}", {"attendee_name": "  Cleo Guest "}, format="json"
    )
    assert response.status_code == 200
    assert response.json() == {**ticket, "attendee_name": "Cleo Guest"}
    listed = user_api.get(f"/api/bookings/{booking.pk}/tickets").json()["results"]
    assert [t["attendee_name"] for t in listed] == ["Cleo Guest", ""]
    # Renamed, then cleared.
    path = f"/api/tickets/{ticket['id']}"
    user_api.patch(path, {"attendee_name": "Dee Guest"}, format="json")
    assert TicketAttendee.objects.get().name == "Dee Guest"
    assert user_api.patch(path, {"attendee_name": ""}, format="json").json()["attendee_name"] == ""
    assert not TicketAttendee.objects.exists()


def test_only_the_owner_names_an_attendee(user_api, other_api, admin_api, user):
    ticket = first_ticket(user_api, book(user))
    for api in (other_api, admin_api):
        response = api.patch(f"/api/tickets/{ticket['id']}", {"attendee_name": "X"}, format="json")
        assert_problem(response, 404, "not_found")


def test_no_renaming_after_the_start(user_api, user):
    booking = book(user)
    ticket = first_ticket(user_api, booking)
    booking.event.__class__.objects.filter(pk=booking.event_id).update(
        event_time=timezone.now() - timedelta(minutes=1)
    )
    response = user_api.patch(f"/api/tickets/{ticket['id']}", {"attendee_name": "L"}, format="json")
    assert_problem(response, 409, "event_started")


def test_no_renaming_a_void_ticket(user_api, user):
    booking = book(user)
    ticket = first_ticket(user_api, booking)
    booking_cancel(booking_id=booking.pk, actor=user)
    response = user_api.patch(f"/api/tickets/{ticket['id']}", {"attendee_name": "V"}, format="json")
    assert_problem(response, 409, "ticket_void")


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"attendee_name": 5}, {"attendee_name"}),
        ({"attendee_name": "x" * 151}, {"attendee_name"}),
    ],
)
def test_the_attendee_name_is_validated(user_api, user, body, fields):
    ticket = first_ticket(user_api, book(user))
    response = user_api.patch(f"/api/tickets/{ticket['id']}", body, format="json")
    assert_problem(response, 400, "validation_error", fields=fields)


def test_a_patch_without_a_name_changes_nothing(user_api, user):
    booking = book(user)
    ticket = first_ticket(user_api, booking)
    response = user_api.patch(f"/api/tickets/{ticket['id']}", {}, format="json")
    assert (response.status_code, response.json()) == (200, ticket)
