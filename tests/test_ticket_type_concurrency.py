"""Ticket types under real concurrency on PostgreSQL: threads with their own connections.

A type's seats are also its event's: a booking takes both under the event's row lock and then
the type's, so neither counter is ever oversold, whichever path (the one statement of a plain
booking or the locked path of several lines) each booking takes. Each race has a control with
the locks switched off, which shows the race is real.
"""

from collections import Counter
from decimal import Decimal

import pytest
from django.db import IntegrityError

from bookings import services as booking_services
from bookings.models import Booking
from bookings.services import booking_cancel, booking_create
from core.exceptions import SoldOut
from tests.concurrency import run_concurrently, with_slow_lock, without_lock
from tests.factories import EventFactory, TicketTypeFactory, UserFactory
from tests.invariants import assert_books_balance

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def book(event, user, *lines, join_waitlist=False):
    items = [{"ticket_type_id": t.pk, "quantity": q} for t, q in lines]
    return lambda: booking_create(
        event_id=event.pk, user=user, items=items, join_waitlist=join_waitlist
    )


def test_a_quota_smaller_than_the_capacity_sells_out_exactly(monkeypatch):
    with_slow_lock(monkeypatch, booking_services, 0.02)
    event = EventFactory(total_capacity=50)
    early = TicketTypeFactory(event=event, name="Early", price=Decimal("9.00"), quota=6)
    results = run_concurrently([book(event, u, (early, 1)) for u in UserFactory.create_batch(16)])
    kinds = Counter(type(r).__name__ for r in results)
    assert kinds == {"BookingOutcome": 6, "SoldOut": 10}, kinds
    early.refresh_from_db()
    assert (early.available, early.booked) == (0, 6)
    event.refresh_from_db()
    assert (event.available_seats, event.booked_seats) == (44, 6)
    assert_books_balance(event)


def test_two_types_racing_for_the_events_last_seats_never_oversell(monkeypatch):
    with_slow_lock(monkeypatch, booking_services, 0.02)
    event = EventFactory(total_capacity=6)
    general = event.ticket_types.get()
    vip = TicketTypeFactory(event=event, name="VIP", price=Decimal("90.00"), quota=6)
    buyers = UserFactory.create_batch(16)
    calls = [book(event, u, (general if i % 2 else vip, 1)) for i, u in enumerate(buyers)]
    # And some buyers of both at once: the locked path, beside the plain statements.
    calls += [book(event, u, (general, 1), (vip, 1)) for u in UserFactory.create_batch(4)]
    results = run_concurrently(calls)
    assert not [r for r in results if isinstance(r, Exception) and not isinstance(r, SoldOut)]
    event.refresh_from_db()
    assert (event.available_seats, event.booked_seats) == (0, 6)
    general.refresh_from_db()
    vip.refresh_from_db()
    assert general.booked + vip.booked == 6
    assert_books_balance(event)


def test_control_without_the_locks_two_types_race_for_the_last_seats(monkeypatch):
    without_lock(monkeypatch, booking_services, 0.1)
    event = EventFactory(total_capacity=3)
    general = event.ticket_types.get()
    vip = TicketTypeFactory(event=event, name="VIP", price=Decimal("90.00"), quota=3)
    buyers = UserFactory.create_batch(10)
    results = run_concurrently(
        [book(event, u, (general if i % 2 else vip, 1)) for i, u in enumerate(buyers)]
    )
    # Everyone saw free seats; only the database's CHECK constraints stopped the oversell.
    assert any(isinstance(r, IntegrityError) for r in results)
    assert_books_balance(event)


def test_cancels_free_both_counters_while_others_book(monkeypatch):
    with_slow_lock(monkeypatch, booking_services, 0.01)
    event = EventFactory(total_capacity=10)
    general = event.ticket_types.get()
    vip = TicketTypeFactory(event=event, name="VIP", price=Decimal("90.00"), quota=4)
    holders = UserFactory.create_batch(4)
    bookings = [
        booking_create(
            event_id=event.pk,
            user=u,
            items=[
                {"ticket_type_id": vip.pk, "quantity": 1},
                {"ticket_type_id": general.pk, "quantity": 1},
            ],
        ).booking
        for u in holders
    ]
    # Every seat of the event and of the VIP quota is taken; the cancels free both, and the
    # buyers race them for what is freed.
    booking_create(
        event_id=event.pk, user=UserFactory(), items=[{"ticket_type_id": general.pk, "quantity": 2}]
    )
    cancels = [
        lambda b=b, u=u: booking_cancel(booking_id=b.pk, actor=u)
        for b, u in zip(bookings, holders, strict=True)
    ]
    buyers = [book(event, u, (vip, 1)) for u in UserFactory.create_batch(8)]
    results = run_concurrently(cancels + buyers)
    assert not [r for r in results if isinstance(r, Exception) and not isinstance(r, SoldOut)]
    vip.refresh_from_db()
    booked_vip = sum(1 for r in results[4:] if not isinstance(r, Exception))
    assert vip.booked == booked_vip <= 4
    assert Booking.objects.filter(event=event, status="cancelled").count() == 4
    assert_books_balance(event)
