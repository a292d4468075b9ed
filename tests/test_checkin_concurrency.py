"""Real concurrency at the door, on PostgreSQL: scanners in threads with their own connections,
race windows widened on purpose.

Each guarantee has a control that removes it and shows the race happens: without the unique
constraint one ticket lets several people in; without the booking lock a cancel and a
check-in of the same booking both succeed.
"""

import threading
import time
from collections import Counter

import pytest
from django.db import IntegrityError, connection

from bookings.models import Booking, TicketCheckIn
from bookings.services import booking_cancel, booking_create
from bookings.tickets import services as ticket_services
from bookings.tickets.codes import TicketRef, ticket_code
from bookings.tickets.selectors import Ticket, with_ticket_state
from bookings.tickets.services import ticket_check_in
from boxoffice.services import event_cancel
from core.exceptions import CheckedIn
from tests.concurrency import run_concurrently
from tests.conftest import client_for
from tests.factories import AdminFactory, EventFactory, ScannerFactory, UserFactory
from tests.invariants import assert_books_balance

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

SCANNERS = 20


def slow_insert(monkeypatch, delay: float) -> None:
    """The real insert, after a pause inside the check-in's transaction: every scan is in the
    window between reading the booking and writing the check-in at once."""
    real = ticket_services._record_check_in

    def record(booking, index, actor):
        time.sleep(delay)
        return real(booking, index, actor)

    monkeypatch.setattr(ticket_services, "_record_check_in", record)


def without_the_booking_lock(monkeypatch) -> None:
    """The control: read the ticket's booking without locking it."""

    def read(ref):
        bookings = Booking.objects.select_related("event", "user")
        return with_ticket_state(bookings, ref.index).filter(pk=ref.booking_id).first()

    monkeypatch.setattr(ticket_services, "_locked_booking", read)


@pytest.fixture
def without_the_once_constraint():
    """The control: bookings_ticketcheckin_once dropped for one test, and put back after."""
    [once] = [c for c in TicketCheckIn._meta.constraints if c.name.endswith("_once")]
    with connection.schema_editor() as editor:
        editor.remove_constraint(TicketCheckIn, once)
    try:
        yield
    finally:
        TicketCheckIn.objects.all().delete()  # the duplicates the control made
        with connection.schema_editor() as editor:
            editor.add_constraint(TicketCheckIn, once)


def twenty_scans_of_one_code():
    event = EventFactory(total_capacity=10, tonight=True)
    booking = booking_create(event_id=event.pk, user=UserFactory(), quantity=2).booking
    code = ticket_code(TicketRef(booking.pk, 0))
    body = {"code": code, "event_id": str(event.pk)}
    doors = [client_for(scanner) for scanner in ScannerFactory.create_batch(SCANNERS)]
    responses = run_concurrently(
        [lambda door=door: door.post("/api/checkin", body, format="json") for door in doors]
    )
    assert not [r for r in responses if isinstance(r, Exception)], responses
    return booking, responses


def test_twenty_scanners_at_once_let_one_ticket_in_exactly_once(monkeypatch):
    slow_insert(monkeypatch, 0.03)
    booking, responses = twenty_scans_of_one_code()
    statuses = Counter(r.status_code for r in responses)
    assert statuses == {200: 1, 409: SCANNERS - 1}, statuses
    [admitted] = [r.json() for r in responses if r.status_code == 200]
    refused = [r.json() for r in responses if r.status_code == 409]
    assert {body["code"] for body in refused} == {"already_checked_in"}
    assert {body["checked_in_at"] for body in refused} == {admitted["ticket"]["checked_in_at"]}
    assert TicketCheckIn.objects.filter(booking=booking).count() == 1


def test_control_without_the_constraint_looking_before_inserting_lets_several_in(
    monkeypatch, without_the_once_constraint
):
    # What a check-in would have to do without the constraint: look for a check-in, then
    # insert. With the booking lock off too, and every scanner held after its look until all
    # have looked (a sleep was not enough: twenty requests reach the look spread over more
    # than any fixed pause on a loaded machine), the ticket lets everyone in.
    without_the_booking_lock(monkeypatch)
    real = ticket_services._record_check_in
    everyone_has_looked = threading.Barrier(SCANNERS, timeout=10)

    def look_then_insert(booking, index, actor):
        if TicketCheckIn.objects.filter(booking=booking, index=index).exists():
            raise IntegrityError("already in")  # answered as the constraint's refusal
        everyone_has_looked.wait()
        return real(booking, index, actor)

    monkeypatch.setattr(ticket_services, "_record_check_in", look_then_insert)
    booking, responses = twenty_scans_of_one_code()
    assert Counter(r.status_code for r in responses) == {200: SCANNERS}
    assert TicketCheckIn.objects.filter(booking=booking, index=0).count() == SCANNERS


def test_control_without_the_constraint_the_check_in_as_written_lets_everyone_in(
    monkeypatch, without_the_once_constraint
):
    # The service reads nothing before it inserts: the constraint alone refuses a second row.
    slow_insert(monkeypatch, 0.01)
    booking, responses = twenty_scans_of_one_code()
    assert Counter(r.status_code for r in responses) == {200: SCANNERS}
    assert TicketCheckIn.objects.filter(booking=booking).count() == SCANNERS


def _check_in_then_cancel(monkeypatch, cancel):
    """A check-in that holds the window open, and a cancel that starts inside it."""
    slow_insert(monkeypatch, 0.3)
    event = EventFactory(total_capacity=10, tonight=True)
    holder = UserFactory()
    booking = booking_create(event_id=event.pk, user=holder, quantity=2).booking
    scanner = ScannerFactory()

    def late_cancel():
        time.sleep(0.1)  # the check-in has read the booking by now
        return cancel(booking, holder)

    results = run_concurrently(
        [lambda: ticket_check_in(ref=TicketRef(booking.pk, 1), actor=scanner), late_cancel]
    )
    booking.refresh_from_db()
    return event, booking, results


def test_a_cancel_racing_a_check_in_waits_and_is_refused(monkeypatch):
    event, booking, (checked_in, cancelled) = _check_in_then_cancel(
        monkeypatch, lambda b, holder: booking_cancel(booking_id=b.pk, actor=holder)
    )
    assert isinstance(checked_in, Ticket), checked_in
    assert isinstance(cancelled, CheckedIn), cancelled
    assert booking.status == "confirmed"
    assert_books_balance(event)


def test_control_without_the_booking_lock_a_cancelled_booking_is_let_in(monkeypatch):
    without_the_booking_lock(monkeypatch)
    _event, booking, (checked_in, cancelled) = _check_in_then_cancel(
        monkeypatch, lambda b, holder: booking_cancel(booking_id=b.pk, actor=holder)
    )
    # Both went through: someone is inside on a ticket whose seat went back on sale.
    assert isinstance(checked_in, Ticket), checked_in
    assert isinstance(cancelled, Booking), cancelled
    assert booking.status == "cancelled"
    assert TicketCheckIn.objects.filter(booking=booking).exists()


def test_an_event_cancel_racing_a_check_in_counts_the_person_inside(monkeypatch):
    admin = AdminFactory()
    event, booking, (checked_in, cancelled) = _check_in_then_cancel(
        monkeypatch, lambda b, holder: event_cancel(event_id=b.event_id, actor=admin)
    )
    assert isinstance(checked_in, Ticket), checked_in
    assert cancelled.tickets_inside == 1
    assert booking.status == "cancelled"
    assert_books_balance(event)
