"""Many due checkouts of one event expire in chunks (`EXPIRE_CHUNK` a transaction), so the
event's bookings wait for one chunk at a time instead of all of them, and one run of
`expire_waitlist_offers` still expires every one. Real rows and commits on PostgreSQL."""

import io
from collections import Counter
from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from bookings import checkout
from bookings.models import Booking, Payment
from bookings.services import booking_create
from tests.factories import EventFactory, UserFactory
from tests.invariants import assert_books_balance
from waitlist.models import WaitlistEntry

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_more_holds_than_one_chunk_all_expire_in_one_run_of_the_command(monkeypatch):
    holds = 2 * checkout.EXPIRE_CHUNK + 1
    event = EventFactory(total_capacity=holds, price=Decimal("10.00"))
    for user in UserFactory.create_batch(holds):
        outcome = booking_create(event_id=event.pk, user=user, quantity=1, join_waitlist=False)
        assert outcome.result == "pending_payment"
    waiting = booking_create(event_id=event.pk, user=UserFactory(), quantity=2)
    assert waiting.result == "waitlisted"
    # The PostgreSQL transaction each hold is expired in.
    transactions = []
    expire = checkout._expire

    def expire_recording_its_transaction(event, booking):
        with connection.cursor() as cursor:
            cursor.execute("SELECT txid_current()")
            transactions.append(cursor.fetchone()[0])
        expire(event, booking)

    monkeypatch.setattr(checkout, "_expire", expire_recording_its_transaction)
    out = io.StringIO()

    with time_machine.travel(timezone.now() + timedelta(seconds=901)):
        call_command("expire_waitlist_offers", stdout=out)

    assert f"expired {holds} checkout(s)" in out.getvalue()
    chunks = sorted(Counter(transactions).values(), reverse=True)
    assert chunks == [checkout.EXPIRE_CHUNK, checkout.EXPIRE_CHUNK, 1]
    assert Booking.objects.filter(event=event, status="expired").count() == holds
    assert set(Payment.objects.filter(booking__event=event).values_list("status", flat=True)) == {
        "cancelled"
    }
    # The seats went back, and the waiting entry was offered two of them.
    assert WaitlistEntry.objects.get(pk=waiting.waitlist_entry.pk).status == "offered"
    event.refresh_from_db()
    assert (event.available_seats, event.held_seats, event.booked_seats) == (holds - 2, 2, 0)
    assert_books_balance(event)
