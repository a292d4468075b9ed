"""Analytics with checkouts: revenue counts paid bookings only; pending, expired and refunded
checkouts have figures of their own."""

import io
from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core.management import call_command
from django.utils import timezone

from tests.checkout.test_checkout import checkout, pay
from tests.conftest import client_for
from tests.factories import EventFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_event_analytics_count_checkouts_and_revenue_only_what_was_paid(admin_api, settings):
    event = EventFactory(total_capacity=20, price=Decimal("10.00"))
    buyers = [client_for(UserFactory()) for _ in range(4)]
    paid = checkout(buyers[0], event, 2)
    pay(paid)
    refunded = checkout(buyers[1], event, 3)
    pay(refunded)
    buyers[1].post(f"/api/bookings/{refunded['booking']['id']}/cancel")
    settings.CHECKOUT_HOLD_SECONDS = 60
    checkout(buyers[2], event, 1)  # will expire
    with time_machine.travel(timezone.now() + timedelta(seconds=61)):
        call_command("expire_waitlist_offers", stdout=io.StringIO())
    settings.CHECKOUT_HOLD_SECONDS = 900
    checkout(buyers[3], event, 4)  # still pending

    body = admin_api.get(f"/api/admin/events/{event.pk}/analytics").json()

    assert body["revenue"] == "20.00"
    assert (body["confirmed_bookings"], body["confirmed_tickets"]) == (1, 2)
    assert body["held_seats"] == 4
    assert body["checkout"] == {
        "pending_bookings": 1,
        "pending_tickets": 4,
        "expired_bookings": 1,
        "expired_tickets": 1,
        "refunded_bookings": 1,
        "refunded_amount": "30.00",
    }
