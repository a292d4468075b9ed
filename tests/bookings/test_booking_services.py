from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from bookings.models import Booking
from bookings.services import booking_cancel, booking_create
from core.exceptions import (
    AlreadyCancelled,
    AlreadyWaitlisted,
    EventClosed,
    EventStarted,
    NotFound,
    SoldOut,
    TicketLimit,
)
from events.models import Event
from notifications.models import Notification
from tests.factories import AdminFactory, EventFactory, UserFactory
from tests.invariants import assert_books_balance
from waitlist.models import WaitlistEntry

pytestmark = pytest.mark.django_db


def test_booking_takes_free_seats_and_fixes_the_amount(user):
    event = EventFactory(total_capacity=10, price=Decimal("12.50"))
    outcome = booking_create(event_id=event.pk, user=user, quantity=3)
    assert outcome.result == "booked"
    booking = outcome.booking
    assert (booking.quantity, booking.total_amount, booking.status) == (
        3,
        Decimal("37.50"),
        "confirmed",
    )
    event.refresh_from_db()
    assert (event.available_seats, event.booked_seats) == (7, 3)
    assert Notification.objects.get(user=user).type == "booking_confirmed"
    assert_books_balance(event)

    Event.objects.filter(pk=event.pk).update(price=Decimal("99.00"))
    booking.refresh_from_db()
    assert booking.total_amount == Decimal("37.50")


def test_booking_the_last_seats_exactly(user):
    event = EventFactory(total_capacity=4)
    assert booking_create(event_id=event.pk, user=user, quantity=4).result == "booked"
    event.refresh_from_db()
    assert event.available_seats == 0


def test_not_enough_seats_joins_the_waitlist(user):
    event = EventFactory(total_capacity=2)
    outcome = booking_create(event_id=event.pk, user=user, quantity=3)
    assert outcome.result == "waitlisted"
    entry = outcome.waitlist_entry
    assert (entry.status, entry.quantity, entry.priority) == ("waiting", 3, 0)
    assert Notification.objects.get(user=user).type == "waitlist_joined"
    event.refresh_from_db()
    assert event.available_seats == 2  # nothing taken
    assert_books_balance(event)


def test_not_enough_seats_without_waitlist_is_sold_out(user):
    event = EventFactory(total_capacity=2)
    with pytest.raises(SoldOut) as exc:
        booking_create(event_id=event.pk, user=user, quantity=3, join_waitlist=False)
    assert exc.value.extra == {
        "available_seats": 2,
        "available": {str(event.ticket_types.get().pk): 2},
    }
    assert not WaitlistEntry.objects.exists() and not Booking.objects.exists()


@pytest.mark.parametrize(
    "event_kwargs",
    [
        {"status": Event.Status.CANCELLED},
        {"event_time": timezone.now() - timedelta(minutes=1)},
    ],
)
def test_closed_event_cannot_be_booked(user, event_kwargs):
    event = EventFactory(**event_kwargs)
    with pytest.raises(EventClosed):
        booking_create(event_id=event.pk, user=user, quantity=1)


def test_unknown_event_is_not_found(user):
    with pytest.raises(NotFound):
        booking_create(event_id="00000000-0000-0000-0000-000000000000", user=user, quantity=1)


def test_a_person_holds_at_most_ten_tickets_per_event(user):
    event = EventFactory(total_capacity=50)
    booking_create(event_id=event.pk, user=user, quantity=6)
    with pytest.raises(TicketLimit) as exc:
        booking_create(event_id=event.pk, user=user, quantity=5)
    assert exc.value.extra == {"tickets_held": 6}
    booking_create(event_id=event.pk, user=user, quantity=4)  # exactly ten
    with pytest.raises(TicketLimit):
        booking_create(event_id=event.pk, user=user, quantity=1)
    # Another event has its own limit; a cancelled booking frees the allowance.
    assert booking_create(event_id=EventFactory().pk, user=user, quantity=10).result == "booked"
    first = Booking.objects.filter(event=event).order_by("created_at").first()
    booking_cancel(booking_id=first.pk, actor=user)
    assert booking_create(event_id=event.pk, user=user, quantity=6).result == "booked"


def test_ticket_limit_applies_to_joining_the_waitlist_too(user):
    event = EventFactory(total_capacity=9)
    booking_create(event_id=event.pk, user=user, quantity=8)
    with pytest.raises(TicketLimit):
        booking_create(event_id=event.pk, user=user, quantity=3)
    assert not WaitlistEntry.objects.exists()


def test_one_active_waitlist_entry_per_person_and_event(user):
    event = EventFactory(total_capacity=1, available_seats=0, booked_seats=1)
    booking_create(event_id=event.pk, user=user, quantity=1)
    with pytest.raises(AlreadyWaitlisted):
        booking_create(event_id=event.pk, user=user, quantity=2)
    assert WaitlistEntry.objects.count() == 1


def test_cancel_returns_seats(user):
    event = EventFactory(total_capacity=5)
    booking = booking_create(event_id=event.pk, user=user, quantity=2).booking
    cancelled = booking_cancel(booking_id=booking.pk, actor=user)
    assert cancelled.status == "cancelled"
    assert cancelled.cancelled_at is not None
    event.refresh_from_db()
    assert (event.available_seats, event.booked_seats) == (5, 0)
    types = list(Notification.objects.filter(user=user).values_list("type", flat=True))
    assert sorted(types) == ["booking_cancelled", "booking_confirmed"]
    assert_books_balance(event)


def test_cancelling_every_booking_brings_the_revenue_back_to_exactly_zero():
    # On SQLite decimals are binary floats: 49.99 + 149.97 + 99.98 - ... ended a hair below
    # zero and the revenue >= 0 CHECK turned the last cancellation into a 500.
    event = EventFactory(total_capacity=50, price=Decimal("49.99"))
    bookings = [
        booking_create(event_id=event.pk, user=UserFactory(), quantity=quantity).booking
        for quantity in (1, 3, 2, 7)
    ]
    for booking in bookings:
        booking_cancel(booking_id=booking.pk, actor=booking.user)
    event.refresh_from_db()
    assert event.revenue == 0
    assert str(event.revenue) == "0.00"


def test_cancel_offers_seats_to_first_waiting_entry_that_fits():
    event = EventFactory(total_capacity=3)
    holder, big, small, later = UserFactory.create_batch(4)
    booking = booking_create(event_id=event.pk, user=holder, quantity=2).booking
    booking_create(event_id=event.pk, user=UserFactory(), quantity=1)  # sold out now
    wants_three = booking_create(event_id=event.pk, user=big, quantity=3).waitlist_entry
    wants_two = booking_create(event_id=event.pk, user=small, quantity=2).waitlist_entry
    wants_two_later = booking_create(event_id=event.pk, user=later, quantity=2).waitlist_entry

    booking_cancel(booking_id=booking.pk, actor=holder)  # two seats free up

    statuses = dict(WaitlistEntry.objects.values_list("id", "status"))
    # The first entry needs three and does not fit; the next that fits gets the offer.
    assert statuses == {
        wants_three.pk: "waiting",
        wants_two.pk: "offered",
        wants_two_later.pk: "waiting",
    }
    offered = WaitlistEntry.objects.get(pk=wants_two.pk)
    assert offered.offer_expires_at - offered.offered_at == timedelta(seconds=1800)
    event.refresh_from_db()
    assert (event.available_seats, event.held_seats) == (0, 2)
    assert Notification.objects.filter(user=small, type="waitlist_offer").count() == 1
    assert_books_balance(event)


def test_freed_seats_go_to_several_entries_in_order_until_none_fits():
    event = EventFactory(total_capacity=6)
    holder = UserFactory()
    booking = booking_create(event_id=event.pk, user=holder, quantity=6).booking
    a = booking_create(event_id=event.pk, user=UserFactory(), quantity=2).waitlist_entry
    b = booking_create(event_id=event.pk, user=UserFactory(), quantity=5).waitlist_entry
    c = booking_create(event_id=event.pk, user=UserFactory(), quantity=3).waitlist_entry
    d = booking_create(event_id=event.pk, user=UserFactory(), quantity=2).waitlist_entry
    booking_cancel(booking_id=booking.pk, actor=holder)  # six free
    statuses = dict(WaitlistEntry.objects.values_list("id", "status"))
    # a (2) fits, b (5) does not fit in the 4 left, c (3) fits, d (2) does not fit in 1.
    assert [statuses[e.pk] for e in (a, b, c, d)] == ["offered", "waiting", "offered", "waiting"]
    event.refresh_from_db()
    assert (event.available_seats, event.held_seats) == (1, 5)
    assert_books_balance(event)


def test_higher_priority_is_served_before_earlier_joiners():
    event = EventFactory(total_capacity=1)
    holder = UserFactory()
    booking = booking_create(event_id=event.pk, user=holder, quantity=1).booking
    early = booking_create(event_id=event.pk, user=UserFactory(), quantity=1).waitlist_entry
    vip = booking_create(event_id=event.pk, user=UserFactory(), quantity=1).waitlist_entry
    WaitlistEntry.objects.filter(pk=vip.pk).update(priority=5)
    booking_cancel(booking_id=booking.pk, actor=holder)
    assert WaitlistEntry.objects.get(pk=vip.pk).status == "offered"
    assert WaitlistEntry.objects.get(pk=early.pk).status == "waiting"


def test_cancel_twice_is_already_cancelled(user):
    event = EventFactory()
    booking = booking_create(event_id=event.pk, user=user, quantity=1).booking
    booking_cancel(booking_id=booking.pk, actor=user)
    with pytest.raises(AlreadyCancelled):
        booking_cancel(booking_id=booking.pk, actor=user)
    assert_books_balance(event)


def test_cancel_after_the_event_started_is_refused(user):
    event = EventFactory()
    booking = booking_create(event_id=event.pk, user=user, quantity=1).booking
    Event.objects.filter(pk=event.pk).update(event_time=timezone.now() - timedelta(minutes=1))
    with pytest.raises(EventStarted):
        booking_cancel(booking_id=booking.pk, actor=user)
    booking.refresh_from_db()
    assert booking.status == "confirmed"


def test_only_owner_or_admin_may_cancel(user, other_user):
    event = EventFactory()
    booking = booking_create(event_id=event.pk, user=user, quantity=1).booking
    with pytest.raises(NotFound):
        booking_cancel(booking_id=booking.pk, actor=other_user)
    assert booking_cancel(booking_id=booking.pk, actor=AdminFactory()).status == "cancelled"
