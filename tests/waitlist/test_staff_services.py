from datetime import timedelta

import pytest
from django.utils import timezone

from bookings.services import booking_cancel, booking_create
from boxoffice.services import event_cancel
from core.exceptions import NotOffered, WaitlistEntryClosed
from tests.factories import EventFactory, UserFactory
from tests.invariants import assert_books_balance
from waitlist.models import WaitlistEntry
from waitlist.services import (
    waitlist_entry_set_priority,
    waitlist_event_serve,
    waitlist_offer_expire,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def queue():
    """One seat held by an offer to `first`; `second` waits behind."""
    event = EventFactory(total_capacity=1)
    holder = UserFactory()
    booking = booking_create(event_id=event.pk, user=holder, quantity=1).booking
    first = booking_create(event_id=event.pk, user=UserFactory(), quantity=1).waitlist_entry
    second = booking_create(event_id=event.pk, user=UserFactory(), quantity=1).waitlist_entry
    booking_cancel(booking_id=booking.pk, actor=holder)
    first.refresh_from_db()
    assert first.status == "offered"
    return event, first, second


def test_staff_expire_an_offer_now_and_it_passes_on(queue, admin_user):
    event, first, second = queue
    waitlist_offer_expire(entry_id=first.pk, actor=admin_user)
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, second.status) == ("expired", "offered")
    assert_books_balance(event)
    with pytest.raises(NotOffered):
        waitlist_offer_expire(entry_id=first.pk, actor=admin_user)


def test_offer_seats_now_expires_overdue_offers_and_serves(queue, admin_user):
    event, first, second = queue
    assert waitlist_event_serve(event_id=event.pk, actor=admin_user) == []  # nothing due
    WaitlistEntry.objects.filter(pk=first.pk).update(
        offer_expires_at=timezone.now() - timedelta(seconds=1)
    )
    offered = waitlist_event_serve(event_id=event.pk, actor=admin_user)
    assert [e.pk for e in offered] == [second.pk]
    assert_books_balance(event)


def test_priority_moves_an_entry_up_the_queue(queue, admin_user):
    event, first, second = queue
    third = booking_create(event_id=event.pk, user=UserFactory(), quantity=1).waitlist_entry
    waitlist_entry_set_priority(entry_id=third.pk, priority=10, actor=admin_user)
    waitlist_offer_expire(entry_id=first.pk, actor=admin_user)
    third.refresh_from_db()
    second.refresh_from_db()
    assert (third.status, second.status) == ("offered", "waiting")
    with pytest.raises(WaitlistEntryClosed):
        waitlist_entry_set_priority(entry_id=first.pk, priority=1, actor=admin_user)


def test_event_cancel_cancels_even_without_bookings(admin_user):
    event = EventFactory()
    assert event_cancel(event_id=event.pk, actor=admin_user).status == "cancelled"
    event.refresh_from_db()
    assert event.status == "cancelled"
