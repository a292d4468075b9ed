"""Real concurrency on PostgreSQL: threads with their own connections, widened race windows.

Each race has a control case with the event row lock switched off, which shows the race is
real: without the lock the same workload breaks a rule.
"""

from collections import Counter
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import IntegrityError
from django.utils import timezone

from bookings import services as booking_services
from bookings import statements as booking_statements
from bookings.models import Booking
from bookings.services import booking_cancel, booking_create, waitlist_offer_accept
from boxoffice.services import event_update
from core.exceptions import SoldOut, TicketLimit
from notifications.models import Notification
from tests.concurrency import (
    run_concurrently,
    with_slow_lock,
    without_buyer_lock,
    without_lock,
)
from tests.factories import AdminFactory, EventFactory, UserFactory
from tests.invariants import assert_books_balance
from waitlist import services as waitlist_services
from waitlist.models import WaitlistEntry
from waitlist.services import waitlist_expire_due

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def book(event, user, quantity=1, join_waitlist=False):
    return lambda: booking_create(
        event_id=event.pk, user=user, quantity=quantity, join_waitlist=join_waitlist
    )


def test_many_buyers_for_the_last_seats_never_oversell(monkeypatch):
    with_slow_lock(monkeypatch, booking_services, 0.02)
    event = EventFactory(total_capacity=5)
    buyers = UserFactory.create_batch(20)
    results = run_concurrently([book(event, u) for u in buyers])
    kinds = Counter(type(r).__name__ for r in results)
    assert kinds == {"BookingOutcome": 5, "SoldOut": 15}, kinds
    assert Booking.objects.filter(event=event, status="confirmed").count() == 5
    assert_books_balance(event)
    event.refresh_from_db()
    assert event.available_seats == 0


def test_control_without_the_lock_the_last_seats_race(monkeypatch):
    without_lock(monkeypatch, booking_services, 0.1)
    event = EventFactory(total_capacity=5)
    results = run_concurrently([book(event, u) for u in UserFactory.create_batch(20)])
    # Everyone saw 5 free seats; only the database constraint stopped the oversell, so the
    # losers crashed instead of getting a clean sold_out.
    assert any(isinstance(r, IntegrityError) for r in results)
    assert not any(isinstance(r, SoldOut) for r in results)
    assert_books_balance(event)


def test_one_person_racing_themself_stays_within_ten_tickets(monkeypatch):
    with_slow_lock(monkeypatch, booking_services, 0.02)
    event = EventFactory(total_capacity=50)
    person = UserFactory()
    results = run_concurrently([book(event, person, 4) for _ in range(3)])
    assert sum(isinstance(r, TicketLimit) for r in results) == 1
    assert sum(b.quantity for b in Booking.objects.filter(user=person)) == 8
    assert_books_balance(event)


def test_control_without_the_lock_the_ticket_limit_races(monkeypatch):
    without_lock(monkeypatch, booking_services, 0.1)
    event = EventFactory(total_capacity=50)
    person = UserFactory()
    run_concurrently([book(event, person, 4) for _ in range(3)])
    assert sum(b.quantity for b in Booking.objects.filter(user=person)) == 12  # over the limit


def test_control_the_buyer_lock_is_what_keeps_the_limit_on_the_common_path(monkeypatch):
    # The event row lock alone does not protect the limit: the common path counts a person's
    # tickets before it locks the event, so without the buyer's lock all three count none.
    with_slow_lock(monkeypatch, booking_services, 0.1)
    without_buyer_lock(monkeypatch, booking_services)
    event = EventFactory(total_capacity=50)
    person = UserFactory()
    results = run_concurrently([book(event, person, 4) for _ in range(3)])
    assert not any(isinstance(r, Exception) for r in results), results
    assert sum(b.quantity for b in Booking.objects.filter(user=person)) == 12  # over the limit
    assert_books_balance(event)


def test_cancellations_racing_new_bookings_serve_the_waitlist_first(monkeypatch):
    with_slow_lock(monkeypatch, booking_services, 0.01)
    event = EventFactory(total_capacity=8)
    holders = UserFactory.create_batch(8)
    bookings = [booking_create(event_id=event.pk, user=u, quantity=1).booking for u in holders]
    waiters = [
        booking_create(event_id=event.pk, user=u, quantity=1).waitlist_entry
        for u in UserFactory.create_batch(8)
    ]
    newcomers = UserFactory.create_batch(8)
    calls = [lambda b=b: booking_cancel(booking_id=b.pk, actor=b.user) for b in bookings]
    calls += [book(event, u, join_waitlist=True) for u in newcomers]
    results = run_concurrently(calls)
    assert not [r for r in results if isinstance(r, Exception)]
    # Every freed seat went to someone already waiting; no newcomer jumped the queue.
    assert not Booking.objects.filter(user__in=newcomers).exists()
    offered = set(WaitlistEntry.objects.filter(status="offered").values_list("pk", flat=True))
    assert offered == {w.pk for w in waiters}
    assert WaitlistEntry.objects.filter(user__in=newcomers, status="waiting").count() == 8
    assert_books_balance(event)


def _events_with_due_offers(count: int) -> list:
    events, offers = [], []
    for _ in range(count):
        event = EventFactory(total_capacity=2)
        holder = UserFactory()
        booking = booking_create(event_id=event.pk, user=holder, quantity=2).booking
        offers.append(booking_create(event_id=event.pk, user=UserFactory(), quantity=2))
        booking_create(event_id=event.pk, user=UserFactory(), quantity=1)  # next in line
        booking_cancel(booking_id=booking.pk, actor=holder)
        events.append(event)
    WaitlistEntry.objects.filter(status="offered").update(
        offer_expires_at=timezone.now() - timedelta(seconds=1)
    )
    return events


def test_two_expiry_runs_at_once_expire_each_offer_exactly_once():
    events = _events_with_due_offers(12)
    summaries = run_concurrently([waitlist_expire_due, waitlist_expire_due, waitlist_expire_due])
    assert not [s for s in summaries if isinstance(s, Exception)]
    assert sum(s.offers_expired for s in summaries) == 12
    assert sum(s.offers_made for s in summaries) == 12
    assert Notification.objects.filter(type="waitlist_offer_expired").count() == 12
    assert WaitlistEntry.objects.filter(status="expired").count() == 12
    for event in events:
        assert_books_balance(event)


def test_accept_racing_expiry_ends_in_one_state(monkeypatch):
    with_slow_lock(monkeypatch, waitlist_services, 0.02)
    events = _events_with_due_offers(1)
    entry = WaitlistEntry.objects.get(status="offered")
    # Make the offer still valid for accept, but due by the expiry run's clock.
    later = timezone.now() + timedelta(seconds=5)
    WaitlistEntry.objects.filter(pk=entry.pk).update(offer_expires_at=later)
    results = run_concurrently(
        [
            lambda: waitlist_offer_accept(entry_id=entry.pk, user=entry.user),
            lambda: waitlist_expire_due(now=later + timedelta(seconds=1)),
        ]
    )
    entry.refresh_from_db()
    accepted = isinstance(results[0], Booking)
    assert entry.status == ("accepted" if accepted else "expired")
    assert Booking.objects.filter(user=entry.user).count() == (1 if accepted else 0)
    assert_books_balance(events[0])


def _edited_right_after_reading(monkeypatch, **changes):
    """Staff edit the event in a transaction of their own (another thread, another connection)
    just after a booking has read it, before the booking takes the seats."""
    read = booking_statements.booking_event

    def read_then_edit(event_id):
        event = read(event_id)
        monkeypatch.setattr(booking_statements, "booking_event", read)  # once
        [result] = run_concurrently(
            [lambda: event_update(event_id=event_id, changes=changes, actor=AdminFactory())]
        )
        assert not isinstance(result, Exception), result
        return event

    monkeypatch.setattr(booking_statements, "booking_event", read_then_edit)


def test_a_price_change_between_reading_and_booking_is_honoured(monkeypatch):
    event = EventFactory(total_capacity=10, price=Decimal("10.00"))
    person = UserFactory()
    _edited_right_after_reading(monkeypatch, price=Decimal("15.00"))
    outcome = booking_create(event_id=event.pk, user=person, quantity=2)
    # The first attempt's booking and notification were rolled back; the retry under the
    # event lock booked at the new price.
    assert outcome.booking.total_amount == Decimal("30.00")
    assert Booking.objects.get(event=event).total_amount == Decimal("30.00")
    assert Notification.objects.filter(user=person, type="booking_confirmed").count() == 1
    event.refresh_from_db()
    assert (event.available_seats, event.booked_seats, event.revenue) == (8, 2, Decimal("30.00"))
    assert_books_balance(event)


def test_a_capacity_cut_between_reading_and_booking_puts_the_person_on_the_waitlist(
    monkeypatch,
):
    event = EventFactory(total_capacity=10)
    person = UserFactory()
    _edited_right_after_reading(monkeypatch, total_capacity=1)
    outcome = booking_create(event_id=event.pk, user=person, quantity=2)
    assert outcome.result == "waitlisted"
    assert not Booking.objects.exists()
    assert [n.type for n in Notification.objects.filter(user=person)] == ["waitlist_joined"]
    assert_books_balance(event)
