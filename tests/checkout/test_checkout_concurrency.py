"""Checkout under real concurrency on PostgreSQL: threads with their own connections.

A payment reported twice at once confirms once; an expiry racing a payment either confirms
the booking or expires it (and then the payment confirms it from free seats or is refunded),
and the seat counters balance after every race."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from bookings import checkout as checkout_service
from bookings.models import Booking, Payment
from bookings.services import booking_create
from core.exceptions import SoldOut
from notifications.models import Notification
from tests.checkout.conftest import PAID
from tests.checkout.test_checkout import checkout, page_path
from tests.concurrency import run_concurrently
from tests.conftest import client_for
from tests.factories import EventFactory, UserFactory
from tests.invariants import assert_books_balance

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_one_payment_reported_by_many_processes_at_once_confirms_once():
    event = EventFactory(total_capacity=10, price=Decimal("10.00"))
    user = UserFactory()
    body = checkout(client_for(user), event, 3)
    token = Payment.objects.get(pk=body["payment"]["id"]).token
    path = page_path(body["payment"]["payment_url"])

    def form():
        return Client().post(path, PAID).status_code

    def callback():
        return Client().get(f"/payments/process/{token}/?verification_result=confirmed").status_code

    results = run_concurrently([form, callback] * 4)

    assert results == [302] * 8, results
    assert Booking.objects.get(pk=body["booking"]["id"]).status == "confirmed"
    assert Notification.objects.filter(user=user, type="booking_confirmed").count() == 1
    event.refresh_from_db()
    assert (event.booked_seats, event.held_seats, event.confirmed_bookings) == (3, 0, 1)
    assert event.revenue == Decimal("30.00")
    assert_books_balance(event)


@pytest.mark.parametrize("round_", range(5))
def test_an_expiry_racing_a_payment_and_another_buyer_never_oversells(round_):
    event = EventFactory(total_capacity=4, price=Decimal("10.00"))
    buyer, rival = UserFactory(), UserFactory()
    first = checkout(client_for(buyer), event, 4)
    token = Payment.objects.get(pk=first["payment"]["id"]).token
    later = timezone.now() + timedelta(seconds=901)

    def expire():
        return checkout_service.expire_due(now=later)

    def report():
        return Client().get(f"/payments/process/{token}/?verification_result=confirmed").status_code

    def rival_books():
        return booking_create(event_id=event.pk, user=rival, quantity=4, join_waitlist=False)

    expired, reported, rivalled = run_concurrently([expire, report, rival_books])

    assert reported == 302
    booking = Booking.objects.get(pk=first["booking"]["id"])
    payment = Payment.objects.get(token=token)
    if isinstance(rivalled, SoldOut):
        # The payment came first, or right after the expiry: the buyer has the seats.
        assert booking.status == "confirmed" and payment.status == "confirmed"
        assert booking.refunded_amount == 0
    else:
        # Expired, and the rival's checkout took the freed seats before the payment came:
        # the payment is refunded in full.
        assert expired == 1
        assert rivalled.booking.status == "pending_payment"
        assert (booking.status, booking.refunded_amount) == ("expired", Decimal("40.00"))
        assert payment.status == "refunded"
    event.refresh_from_db()
    assert event.booked_seats + event.held_seats == 4
    assert_books_balance(event)
