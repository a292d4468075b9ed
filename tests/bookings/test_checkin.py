"""The door: letting each ticket in once, every refusal with its code, the door's counts, and
what check-ins do to cancelling a booking or an event."""

import uuid
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from bookings.models import TicketCheckIn
from bookings.services import booking_cancel, booking_create
from bookings.tickets.codes import TicketRef, ref_from_code, ticket_code
from bookings.tickets.selectors import door_counts
from bookings.tickets.services import ticket_check_in
from boxoffice.services import event_cancel
from core.exceptions import (
    AlreadyCheckedIn,
    CheckedIn,
    CheckInClosed,
    TicketVoid,
    UnknownTicket,
    WrongEvent,
)
from events.models import Event
from tests.factories import EventFactory, UserFactory
from tests.invariants import assert_books_balance
from tests.problems import assert_problem

pytestmark = pytest.mark.django_db


@pytest.fixture
def night():
    return EventFactory(name="Jazz Night", total_capacity=20, tonight=True)


def book(event, quantity=2, user=None):
    user = user or UserFactory()
    return booking_create(event_id=event.pk, user=user, quantity=quantity).booking


def code(booking, index=0):
    return ticket_code(TicketRef(booking.pk, index))


def scan(api, code, event=None):
    body = {"code": code}
    if event is not None:
        body["event_id"] = str(event.pk)
    return api.post("/api/checkin", body, format="json")


def test_the_first_scan_lets_the_ticket_in(scanner_api, scanner_user, night):
    booking = book(night, user=UserFactory(name="Ann Holder"))
    response = scan(scanner_api, code(booking, 1), night)
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"result", "ticket", "event", "holder"}
    assert body["result"] == "checked_in"
    assert body["event"] == {"id": str(night.pk), "name": "Jazz Night"}
    assert body["holder"] == {"name": "Ann Holder"}
    ticket = body["ticket"]
    assert (ticket["booking_id"], ticket["number"], ticket["status"]) == (
        str(booking.pk),
        2,
        "checked_in",
    )
    assert ticket["checked_in_at"]
    row = TicketCheckIn.objects.get()
    assert (row.booking_id, row.index, row.checked_in_by) == (booking.pk, 1, scanner_user)


def test_the_holder_is_the_named_attendee_when_there_is_one(user, user_api, scanner_api, night):
    booking = book(night, user=user)
    [first, _] = user_api.get(f"/api/bookings/{booking.pk}/tickets").json()["results"]
    user_api.patch(f"/api/tickets/{first['id']}", {"attendee_name": "Cleo Guest"}, format="json")
    assert scan(scanner_api, first["code"]).json()["holder"] == {"name": "Cleo Guest"}


def test_a_second_scan_is_already_checked_in_with_the_first_time(scanner_api, admin_api, night):
    booking = book(night)
    first = scan(scanner_api, code(booking), night).json()
    again = assert_problem(scan(admin_api, code(booking), night), 409, "already_checked_in")
    assert again["checked_in_at"] == first["ticket"]["checked_in_at"]
    assert again["holder"] == first["holder"]
    assert TicketCheckIn.objects.count() == 1
    # The booking's other ticket is still its own.
    assert scan(scanner_api, code(booking, 1), night).status_code == 200


def test_a_cancelled_bookings_code_is_void(user, scanner_api, night):
    booking = book(night, user=user)
    booking_cancel(booking_id=booking.pk, actor=user)
    assert_problem(scan(scanner_api, code(booking), night), 409, "ticket_void")
    assert not TicketCheckIn.objects.exists()


def test_a_cancelled_events_codes_are_void(admin_user, scanner_api, night):
    booking = book(night)
    event_cancel(event_id=night.pk, actor=admin_user)
    assert_problem(scan(scanner_api, code(booking), night), 409, "ticket_void")


def test_a_ticket_of_event_a_at_event_bs_door_is_the_wrong_event(scanner_api, night):
    other = EventFactory(name="Opera Gala")
    booking = book(night)
    body = assert_problem(scan(scanner_api, code(booking), other), 409, "wrong_event")
    assert body["ticket_event"] == {"id": str(night.pk), "name": "Jazz Night"}
    assert not TicketCheckIn.objects.exists()
    # Without a door's event, any event's ticket is let in.
    assert scan(scanner_api, code(booking)).status_code == 200


def test_a_void_ticket_of_another_event_is_first_the_wrong_event(user, scanner_api, night):
    booking = book(night, user=user)
    booking_cancel(booking_id=booking.pk, actor=user)
    assert_problem(scan(scanner_api, code(booking), EventFactory()), 409, "wrong_event")


@pytest.mark.parametrize(
    "make_code",
    [
        lambda b: "",
        lambda b: "not-a-code",
        lambda b: code(b)[:-1],
        lambda b: code(b) + "A",
        lambda b: code(b).lower(),
        lambda b: ticket_code(TicketRef(uuid.uuid4(), 0)),  # signed, but no such booking
        lambda b: ticket_code(TicketRef(b.pk, 2)),  # signed, but beyond its two seats
        lambda b: "x" * 5000,
    ],
)
def test_unknown_or_malformed_codes_are_unknown_tickets(scanner_api, night, make_code):
    booking = book(night, quantity=2)
    assert_problem(scan(scanner_api, make_code(booking), night), 404, "unknown_ticket")


def test_a_code_with_one_character_changed_is_unknown(scanner_api, night):
    genuine = code(book(night))
    for position in (0, 10, 21, 22, 30, 43):
        swapped = "B" if genuine[position] != "B" else "C"
        forged = genuine[:position] + swapped + genuine[position + 1 :]
        assert_problem(scan(scanner_api, forged, night), 404, "unknown_ticket")
    assert not TicketCheckIn.objects.exists()


def test_the_scanned_code_may_carry_the_scanners_white_space(scanner_api, night):
    assert scan(scanner_api, f"  {code(book(night))}\n").status_code == 200


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({}, {"code"}),
        ({"code": 5}, {"code"}),
        ({"code": "x", "event_id": "nope"}, {"event_id"}),
    ],
)
def test_a_check_in_needs_a_code(scanner_api, body, fields):
    response = scanner_api.post("/api/checkin", body, format="json")
    assert_problem(response, 400, "validation_error", fields=fields)


def test_only_door_staff_check_in(user_api, anon_api, admin_api, night):
    booking = book(night)
    assert_problem(scan(user_api, code(booking)), 403, "permission_denied")
    assert_problem(scan(anon_api, code(booking)), 401, "not_authenticated")
    assert_problem(user_api.get(f"/api/checkin/events/{night.pk}"), 403, "permission_denied")
    assert not TicketCheckIn.objects.exists()
    assert scan(admin_api, code(booking)).status_code == 200


def test_a_scanner_demoted_loses_the_door_on_the_next_request(scanner_user, scanner_api, night):
    booking = book(night)
    scanner_user.role = "user"
    scanner_user.save(update_fields=["role"])
    assert_problem(scan(scanner_api, code(booking)), 403, "permission_denied")


# --- Cancelling -------------------------------------------------------------------------------


def test_a_booking_with_a_checked_in_ticket_cannot_be_cancelled(user, user_api, admin_api, night):
    booking = book(night, user=user)
    ticket_check_in(ref=ref_from_code(code(booking)), actor=UserFactory())
    with pytest.raises(CheckedIn):
        booking_cancel(booking_id=booking.pk, actor=user)
    assert_problem(user_api.post(f"/api/bookings/{booking.pk}/cancel"), 409, "checked_in")
    assert_problem(admin_api.post(f"/api/bookings/{booking.pk}/cancel"), 409, "checked_in")
    booking.refresh_from_db()
    assert booking.status == "confirmed"
    assert_books_balance(night)


def test_an_event_cancel_cancels_checked_in_bookings_and_says_how_many_are_inside(
    admin_user, night
):
    inside = book(night, quantity=3)
    outside = book(night, quantity=1)
    for index in (0, 2):
        ticket_check_in(ref=TicketRef(inside.pk, index), actor=admin_user)
    cancelled = event_cancel(event_id=night.pk, actor=admin_user)
    assert cancelled.status == "cancelled"
    assert cancelled.tickets_inside == 2
    for booking in (inside, outside):
        booking.refresh_from_db()
        assert booking.status == "cancelled"
    # Their tickets are void from the cancel's commit; the check-ins stay on record.
    with pytest.raises(TicketVoid):
        ticket_check_in(ref=TicketRef(inside.pk, 1), actor=admin_user)
    assert TicketCheckIn.objects.count() == 2
    assert_books_balance(night)
    # Cancelling it again finds nothing more.
    assert event_cancel(event_id=night.pk, actor=admin_user).tickets_inside == 0


def test_an_event_cancel_logs_the_people_inside(admin_api, admin_user, night, caplog):
    booking = book(night)
    ticket_check_in(ref=TicketRef(booking.pk, 0), actor=admin_user)
    assert admin_api.delete(f"/api/events/{night.pk}").status_code == 204  # still a 204
    [record] = [r for r in caplog.records if r.getMessage() == "event cancelled with people inside"]
    assert (record.event_id, record.tickets_checked_in) == (str(night.pk), 1)


def test_the_admin_cancel_action_says_how_many_are_inside(client, admin_user, night):
    booking = book(night, quantity=2)
    ticket_check_in(ref=TicketRef(booking.pk, 1), actor=admin_user)
    client.force_login(admin_user)
    response = client.post(
        "/admin/events/event/",
        {"action": "cancel_events", "_selected_action": [str(night.pk)]},
        follow=True,
    )
    page = response.content.decode()
    assert "Events cancelled: 1." in page
    assert "Jazz Night: 1 ticket(s) had already been checked in." in page


# --- The door's counts ------------------------------------------------------------------------


def test_the_counts_add_up_after_a_mixed_run(scanner_api, night):
    other = EventFactory()
    people = UserFactory.create_batch(4)
    bookings = [book(night, quantity=q, user=p) for q, p in zip((3, 2, 1, 4), people, strict=True)]
    booking_cancel(booking_id=bookings[3].pk, actor=people[3])  # 4 tickets void
    foreign = book(other, quantity=1)
    outcomes = [
        scan(scanner_api, code(bookings[0], 0), night).status_code,  # in
        scan(scanner_api, code(bookings[0], 1), night).status_code,  # in
        scan(scanner_api, code(bookings[0], 1), night).status_code,  # again
        scan(scanner_api, code(bookings[1], 0), night).status_code,  # in
        scan(scanner_api, code(bookings[3], 0), night).status_code,  # void
        scan(scanner_api, code(foreign), night).status_code,  # wrong event
        scan(scanner_api, code(bookings[2])[::-1], night).status_code,  # unknown
        scan(scanner_api, code(bookings[2], 0), night).status_code,  # in
    ]
    assert outcomes == [200, 200, 409, 200, 409, 409, 404, 200]
    counts = scanner_api.get(f"/api/checkin/events/{night.pk}").json()
    general = night.ticket_types.get()
    assert counts == {
        "event_id": str(night.pk),
        "tickets": 6,
        "checked_in": 4,
        "remaining": 2,
        "ticket_types": [
            {
                "ticket_type_id": str(general.pk),
                "name": "General admission",
                "tickets": 6,
                "checked_in": 4,
                "remaining": 2,
            }
        ],
    }
    assert door_counts(event_id=other.pk)["checked_in"] == 0
    assert TicketCheckIn.objects.count() == 4


def test_the_counts_of_an_unknown_event_are_a_404(scanner_api):
    assert_problem(scanner_api.get(f"/api/checkin/events/{uuid.uuid4()}"), 404, "not_found")
    assert_problem(scanner_api.get("/api/checkin/events/nope"), 404, "not_found")


def test_the_counts_read_one_row(scanner_user, night, django_assert_num_queries):
    from tests.conftest import client_for

    for _ in range(3):
        ticket_check_in(ref=TicketRef(book(night).pk, 0), actor=scanner_user)
    api = client_for(scanner_user)
    # 1 the caller's account, 2 the event with its check-ins counted, 3 the check-ins counted
    # by type, 4 the types.
    with django_assert_num_queries(4):
        assert api.get(f"/api/checkin/events/{night.pk}").json()["checked_in"] == 3


def test_a_check_in_runs_three_statements(scanner_user, night, django_assert_num_queries):
    ref = TicketRef(book(night).pk, 0)
    # The savepoint (the test runs in a transaction), 1 the booking locked with its event,
    # holder and attendee, 2 the check-in, 3 the webhook message (webhooks.outbox), and the
    # release.
    with django_assert_num_queries(5):
        ticket_check_in(ref=ref, event_id=night.pk, actor=scanner_user)


def test_doors_open_before_the_start_and_stay_open_after_it(scanner_user):
    early = EventFactory(event_time=timezone.now() + timedelta(hours=1))
    late = EventFactory()
    bookings = {event: book(event) for event in (early, late)}
    Event.objects.filter(pk=late.pk).update(event_time=timezone.now() - timedelta(hours=1))
    for event, booking in bookings.items():
        ticket_check_in(ref=TicketRef(booking.pk, 0), event_id=event.pk, actor=scanner_user)
    assert TicketCheckIn.objects.count() == 2


# --- The check-in window ------------------------------------------------------------------------


def test_a_ticket_for_another_day_is_refused_and_stays_valid(scanner_api, scanner_user):
    # A ticket for 11 December let its holder in on 4 December, and said "already checked in"
    # at the real door. The door opens 240 minutes before the start, closes 720 after it.
    later = EventFactory(name="Winter Gala", event_time=timezone.now() + timedelta(days=7))
    booking = book(later)
    body = assert_problem(scan(scanner_api, code(booking), later), 409, "checkin_closed")
    opens = later.event_time - timedelta(minutes=240)
    assert body["opens_at"] == opens.isoformat().replace("+00:00", "Z")
    closes = later.event_time + timedelta(minutes=720)
    assert body["closes_at"] == closes.isoformat().replace("+00:00", "Z")
    assert body["detail"] == f"Check-in for Winter Gala opens at {opens:%Y-%m-%d %H:%M} UTC."
    assert not TicketCheckIn.objects.exists()
    tickets = scanner_api.get(f"/api/checkin/events/{later.pk}").json()
    assert (tickets["checked_in"], tickets["remaining"]) == (0, 2)


def test_the_window_lets_in_from_its_opening_to_its_closing_and_no_later(scanner_user):
    event = EventFactory()
    booking = book(event, quantity=4)
    opens = event.event_time - timedelta(minutes=240)
    closes = event.event_time + timedelta(minutes=720)
    for index, moment in enumerate((opens - timedelta(seconds=1), closes + timedelta(seconds=1))):
        with time_machine.travel(moment, tick=False), pytest.raises(CheckInClosed) as refusal:
            ticket_check_in(ref=TicketRef(booking.pk, index), event_id=event.pk, actor=scanner_user)
        assert (refusal.value.extra["opens_at"], refusal.value.extra["closes_at"]) == (
            opens,
            closes,
        )
    assert not TicketCheckIn.objects.exists()
    for index, moment in enumerate((opens, closes)):
        with time_machine.travel(moment, tick=False):
            ticket_check_in(ref=TicketRef(booking.pk, index), event_id=event.pk, actor=scanner_user)
    assert TicketCheckIn.objects.count() == 2
    with time_machine.travel(closes + timedelta(minutes=1)), pytest.raises(CheckInClosed) as late:
        ticket_check_in(ref=TicketRef(booking.pk, 0), event_id=event.pk, actor=scanner_user)
    assert late.value.detail.startswith("Check-in for ") and " closed at " in late.value.detail


def test_the_window_follows_its_settings(settings, scanner_api, night):
    settings.CHECKIN_OPENS_MINUTES = 60  # night starts in two hours
    assert_problem(scan(scanner_api, code(book(night)), night), 409, "checkin_closed")
    settings.CHECKIN_OPENS_MINUTES = 180
    assert scan(scanner_api, code(book(night)), night).status_code == 200


def test_a_void_or_wrong_events_ticket_says_so_before_the_window(scanner_api, user):
    later = EventFactory(event_time=timezone.now() + timedelta(days=7))
    booking = book(later, user=user)
    assert_problem(scan(scanner_api, code(booking), EventFactory()), 409, "wrong_event")
    booking_cancel(booking_id=booking.pk, actor=user)
    assert_problem(scan(scanner_api, code(booking), later), 409, "ticket_void")


def test_refusals_are_domain_errors_for_the_services(scanner_user, night):
    booking = book(night)
    with pytest.raises(UnknownTicket):
        ticket_check_in(ref=None, actor=scanner_user)
    with pytest.raises(WrongEvent):
        ticket_check_in(ref=TicketRef(booking.pk, 0), event_id=uuid.uuid4(), actor=scanner_user)
    ticket_check_in(ref=TicketRef(booking.pk, 0), actor=scanner_user)
    with pytest.raises(AlreadyCheckedIn):
        ticket_check_in(ref=TicketRef(booking.pk, 0), actor=scanner_user)
