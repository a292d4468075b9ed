from datetime import timedelta

import pytest
from django.utils import timezone

from bookings.models import Booking
from bookings.services import booking_cancel, booking_create
from boxoffice.services import event_delete, event_update
from core.exceptions import CapacityBelowTaken
from events.models import Event
from notifications.models import Notification
from tests.factories import EventFactory, UserFactory
from tests.invariants import assert_books_balance
from waitlist.models import WaitlistEntry

pytestmark = pytest.mark.django_db


def test_raising_capacity_offers_the_new_seats_to_the_waitlist(admin_user):
    event = EventFactory(total_capacity=2)
    booking_create(event_id=event.pk, user=UserFactory(), quantity=2)
    first = booking_create(event_id=event.pk, user=UserFactory(), quantity=2).waitlist_entry
    second = booking_create(event_id=event.pk, user=UserFactory(), quantity=1).waitlist_entry
    event = event_update(event_id=event.pk, actor=admin_user, changes={"total_capacity": 4})
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, second.status) == ("offered", "waiting")
    assert (event.total_capacity, event.available_seats, event.held_seats) == (4, 0, 2)
    assert_books_balance(event)


def test_capacity_cannot_drop_below_booked_plus_held(admin_user):
    event = EventFactory(total_capacity=3)
    holder = UserFactory()
    booking = booking_create(event_id=event.pk, user=holder, quantity=2).booking
    booking_create(event_id=event.pk, user=UserFactory(), quantity=1)
    booking_create(event_id=event.pk, user=UserFactory(), quantity=2)
    booking_cancel(booking_id=booking.pk, actor=holder)  # 2 held by an offer, 1 booked
    with pytest.raises(CapacityBelowTaken):
        event_update(event_id=event.pk, actor=admin_user, changes={"total_capacity": 2})
    event = event_update(event_id=event.pk, actor=admin_user, changes={"total_capacity": 3})
    assert_books_balance(event)


def test_moving_an_event_notifies_every_ticket_holder_once(admin_user):
    event = EventFactory()
    ann, bob, gone = UserFactory.create_batch(3)
    booking_create(event_id=event.pk, user=ann, quantity=1)
    booking_create(event_id=event.pk, user=ann, quantity=2)
    booking_create(event_id=event.pk, user=bob, quantity=1)
    cancelled = booking_create(event_id=event.pk, user=gone, quantity=1).booking
    booking_cancel(booking_id=cancelled.pk, actor=gone)

    event_update(event_id=event.pk, actor=admin_user, changes={"venue": "New Hall"})
    updated = Notification.objects.filter(type="event_updated")
    assert sorted(updated.values_list("user_id", flat=True)) == sorted([ann.pk, bob.pk])
    assert "New Hall" in updated.first().message

    event_update(event_id=event.pk, actor=admin_user, changes={"name": "Renamed"})
    assert Notification.objects.filter(type="event_updated").count() == 2  # name: no notice
    new_time = timezone.now() + timedelta(days=60)
    event_update(event_id=event.pk, actor=admin_user, changes={"event_time": new_time})
    assert Notification.objects.filter(type="event_updated").count() == 4


def test_deleting_an_event_with_people_cancels_it_and_keeps_everything(admin_user):
    event = EventFactory(total_capacity=3)
    ann, bob, cat = UserFactory.create_batch(3)
    booking_create(event_id=event.pk, user=ann, quantity=2)
    booking_create(event_id=event.pk, user=bob, quantity=1)
    booking_create(event_id=event.pk, user=cat, quantity=2)  # waitlisted

    assert event_delete(event_id=event.pk, actor=admin_user) == "cancelled"
    event.refresh_from_db()
    assert event.status == "cancelled"
    assert (event.available_seats, event.booked_seats, event.held_seats) == (3, 0, 0)
    assert set(Booking.objects.values_list("status", flat=True)) == {"cancelled"}
    assert Booking.objects.filter(cancelled_at__isnull=True).count() == 0
    assert set(WaitlistEntry.objects.values_list("status", flat=True)) == {"cancelled"}
    notified = Notification.objects.filter(type="event_cancelled").values_list("user_id", flat=True)
    assert sorted(notified) == sorted([ann.pk, bob.pk, cat.pk])
    assert_books_balance(event)
    # Again: still there, still cancelled, nobody notified twice.
    assert event_delete(event_id=event.pk, actor=admin_user) == "cancelled"
    assert Notification.objects.filter(type="event_cancelled").count() == 3


def test_deleting_an_event_nobody_touched_removes_it(admin_user):
    event = EventFactory()
    assert event_delete(event_id=event.pk, actor=admin_user) == "deleted"
    assert not Event.objects.filter(pk=event.pk).exists()


def test_every_notice_fits_an_event_name_of_the_longest_length(admin_user):
    # Each title wraps the event's name in words: with a name of 200 characters, the longest
    # allowed, moving and then cancelling the event must still write every notice.
    event = EventFactory(name="N" * 200, total_capacity=2)
    ann, waiting = UserFactory.create_batch(2)
    booking_create(event_id=event.pk, user=ann, quantity=2)
    booking_create(event_id=event.pk, user=waiting, quantity=1)  # sold out: waitlisted

    event_update(event_id=event.pk, actor=admin_user, changes={"venue": "New Hall"})
    event_delete(event_id=event.pk, actor=admin_user)

    titles = dict(Notification.objects.values_list("type", "title"))
    assert titles["event_updated"] == f"{'N' * 200} has changed"
    assert titles["event_cancelled"] == f"{'N' * 200} is cancelled"
    assert titles["waitlist_joined"] == f"You're on the waitlist for {'N' * 200}"
    event.refresh_from_db()
    assert event.status == Event.Status.CANCELLED
