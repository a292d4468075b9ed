from datetime import timedelta

import pytest
import time_machine
from django.core.management import call_command
from django.utils import timezone

from bookings.models import Booking
from bookings.services import booking_cancel, booking_create, waitlist_offer_accept
from core.exceptions import (
    AlreadyCancelled,
    EventClosed,
    NotFound,
    NotOffered,
    OfferExpired,
    TicketLimit,
    WaitlistEntryClosed,
)
from events.models import Event
from notifications.models import Notification
from tests.factories import EventFactory, UserFactory
from tests.invariants import assert_books_balance
from waitlist.models import WaitlistEntry
from waitlist.services import waitlist_entry_leave, waitlist_expire_due

pytestmark = pytest.mark.django_db


@pytest.fixture
def offered(user):
    """An event of 2 seats; `user` has an open offer for 2 after the holder cancelled."""
    event = EventFactory(total_capacity=2)
    holder = UserFactory()
    booking = booking_create(event_id=event.pk, user=holder, quantity=2).booking
    entry = booking_create(event_id=event.pk, user=user, quantity=2).waitlist_entry
    booking_cancel(booking_id=booking.pk, actor=holder)
    entry.refresh_from_db()
    assert entry.status == "offered"
    return entry


def test_accept_turns_held_seats_into_a_booking(user, offered):
    booking = waitlist_offer_accept(entry_id=offered.pk, user=user)
    assert (booking.status, booking.quantity, booking.user) == ("confirmed", 2, user)
    assert booking.total_amount == offered.event.price * 2
    offered.refresh_from_db()
    assert (offered.status, offered.booking) == ("accepted", booking)
    event = offered.event
    event.refresh_from_db()
    assert (event.available_seats, event.booked_seats, event.held_seats) == (0, 2, 0)
    assert_books_balance(event)


def test_accept_after_deadline_expires_on_the_spot_and_passes_seats_on(user, offered):
    nxt = booking_create(event_id=offered.event_id, user=UserFactory(), quantity=1).waitlist_entry
    with (
        time_machine.travel(offered.offer_expires_at + timedelta(seconds=1)),
        pytest.raises(OfferExpired),
    ):
        waitlist_offer_accept(entry_id=offered.pk, user=user)
    offered.refresh_from_db()
    nxt.refresh_from_db()
    assert offered.status == "expired"  # committed although the call was refused
    assert nxt.status == "offered"
    assert Notification.objects.filter(user=user, type="waitlist_offer_expired").count() == 1
    assert not Booking.objects.filter(user=user).exists()
    assert_books_balance(offered.event)


def test_accept_needs_an_open_offer(user, offered):
    waitlist_offer_accept(entry_id=offered.pk, user=user)
    with pytest.raises(NotOffered):
        waitlist_offer_accept(entry_id=offered.pk, user=user)
    waiting = booking_create(event_id=offered.event_id, user=UserFactory(), quantity=1)
    with pytest.raises(NotOffered):
        waitlist_offer_accept(entry_id=waiting.waitlist_entry.pk, user=waiting.waitlist_entry.user)


def test_only_the_owner_may_accept(offered, other_user):
    with pytest.raises(NotFound):
        waitlist_offer_accept(entry_id=offered.pk, user=other_user)


def test_accept_respects_the_ticket_limit(user, offered):
    booking_create(event_id=EventFactory().pk, user=user, quantity=10)  # another event: fine
    Event.objects.filter(pk=offered.event_id).update(
        total_capacity=12, available_seats=0, booked_seats=10
    )
    Booking.objects.create(event=offered.event, user=user, quantity=9, total_amount=0)
    Booking.objects.create(event=offered.event, user=UserFactory(), quantity=1, total_amount=0)
    with pytest.raises(TicketLimit):
        waitlist_offer_accept(entry_id=offered.pk, user=user)
    offered.refresh_from_db()
    assert offered.status == "offered"


def test_accept_after_event_started_is_refused_and_releases_the_seats(user, offered):
    Event.objects.filter(pk=offered.event_id).update(
        event_time=timezone.now() - timedelta(minutes=1)
    )
    with pytest.raises(EventClosed):
        waitlist_offer_accept(entry_id=offered.pk, user=user)
    offered.refresh_from_db()
    assert offered.status == "expired"
    event = offered.event
    event.refresh_from_db()
    assert (event.available_seats, event.held_seats) == (2, 0)
    assert_books_balance(event)


def test_seats_waited_for_count_against_the_ticket_limit(user):
    event = EventFactory(total_capacity=5)
    holder = UserFactory()
    booking = booking_create(event_id=event.pk, user=holder, quantity=5).booking
    booking_create(event_id=event.pk, user=user, quantity=6)  # waits for 6
    booking_cancel(booking_id=booking.pk, actor=holder)  # 5 free; 6 does not fit
    with pytest.raises(TicketLimit) as exc:
        booking_create(event_id=event.pk, user=user, quantity=5)  # 6 + 5 > 10
    assert "wait for 6 more" in exc.value.detail
    assert booking_create(event_id=event.pk, user=user, quantity=4).result == "booked"
    assert_books_balance(event)


def test_decline_passes_held_seats_to_the_next_entry(user, offered):
    nxt = booking_create(event_id=offered.event_id, user=UserFactory(), quantity=2).waitlist_entry
    left = waitlist_entry_leave(entry_id=offered.pk, user=user)
    assert left.status == "cancelled"
    nxt.refresh_from_db()
    assert nxt.status == "offered"
    assert_books_balance(offered.event)
    with pytest.raises(AlreadyCancelled):
        waitlist_entry_leave(entry_id=offered.pk, user=user)


def test_leaving_while_waiting_frees_nothing(user):
    event = EventFactory(total_capacity=1, available_seats=0, booked_seats=1)
    entry = booking_create(event_id=event.pk, user=user, quantity=1).waitlist_entry
    assert waitlist_entry_leave(entry_id=entry.pk, user=user).status == "cancelled"
    event.refresh_from_db()
    assert event.available_seats == 0
    # Leaving ends the entry, so the person may join again.
    assert booking_create(event_id=event.pk, user=user, quantity=1).result == "waitlisted"


def test_accepted_entry_cannot_be_left(user, offered):
    waitlist_offer_accept(entry_id=offered.pk, user=user)
    with pytest.raises(WaitlistEntryClosed):
        waitlist_entry_leave(entry_id=offered.pk, user=user)


def test_expiry_expires_due_offers_and_offers_the_seats_again(user, offered):
    nxt = booking_create(event_id=offered.event_id, user=UserFactory(), quantity=2).waitlist_entry
    assert str(waitlist_expire_due()).startswith("expired 0 offer(s)")  # not due yet
    with time_machine.travel(offered.offer_expires_at + timedelta(seconds=1)):
        summary = waitlist_expire_due()
    assert (summary.offers_expired, summary.offers_made) == (1, 1)
    offered.refresh_from_db()
    nxt.refresh_from_db()
    assert (offered.status, nxt.status) == ("expired", "offered")
    assert_books_balance(offered.event)


def test_expiry_closes_the_waitlist_of_started_events(user, offered):
    waiting = booking_create(event_id=offered.event_id, user=UserFactory(), quantity=1)
    event = offered.event
    with time_machine.travel(event.event_time + timedelta(minutes=1)):
        summary = waitlist_expire_due()
        # Nothing new is offered once the event has started.
        assert WaitlistEntry.objects.filter(status__in=["waiting", "offered"]).count() == 0
    assert (summary.offers_expired, summary.entries_closed, summary.offers_made) == (1, 1, 0)
    assert WaitlistEntry.objects.get(pk=waiting.waitlist_entry.pk).status == "expired"
    event.refresh_from_db()
    assert (event.available_seats, event.held_seats) == (2, 0)
    assert Notification.objects.filter(type="waitlist_offer_expired").count() == 2


def test_expire_command_prints_a_summary(user, offered, capsys):
    with time_machine.travel(offered.offer_expires_at + timedelta(seconds=1)):
        call_command("expire_waitlist_offers")
    out = capsys.readouterr().out
    assert "expired 1 offer(s), made 0 new offer(s)" in out


def test_no_offer_is_made_for_a_cancelled_event(admin_user):
    event = EventFactory(total_capacity=1)
    holder = UserFactory()
    booking_create(event_id=event.pk, user=holder, quantity=1)
    booking_create(event_id=event.pk, user=UserFactory(), quantity=1)
    from boxoffice.services import event_delete

    assert event_delete(event_id=event.pk, actor=admin_user) == "cancelled"
    assert not WaitlistEntry.objects.filter(status="offered").exists()
    assert_books_balance(event)
