"""Refunds through the provider: a paid booking cancelled by its owner, an admin, or its
event's cancellation. A refused refund changes nothing; an event's refunds resume after a
failure part-way, none twice."""

import io
from decimal import Decimal

import pytest
from django.core.management import call_command

from bookings.models import Booking, Payment
from events.models import Event
from notifications.models import Notification
from tests.checkout.test_checkout import checkout, pay
from tests.conftest import client_for
from tests.factories import EventFactory, UserFactory
from tests.invariants import assert_books_balance
from tests.problems import assert_problem

pytestmark = pytest.mark.django_db


def paid_booking(api, event, quantity=2):
    body = checkout(api, event, quantity)
    assert pay(body).status_code == 302
    return Booking.objects.get(pk=body["booking"]["id"])


@pytest.mark.parametrize("who", ["owner", "admin"])
def test_cancelling_a_paid_booking_refunds_it_in_full(
    who, user_api, admin_api, user, dummy_payments
):
    event = EventFactory(total_capacity=10, price=Decimal("12.50"))
    booking = paid_booking(user_api, event, 2)
    api = user_api if who == "owner" else admin_api

    response = api.post(f"/api/bookings/{booking.pk}/cancel")

    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["refunded_amount"]) == ("cancelled", "25.00")
    payment = Payment.objects.get(booking=booking)
    assert payment.status == "refunded"
    assert dummy_payments.refunded == [payment.pk]
    assert Notification.objects.filter(user=user, type="booking_refunded").count() == 1
    event.refresh_from_db()
    assert (event.available_seats, event.booked_seats, event.revenue) == (10, 0, 0)
    assert_books_balance(event)


def test_a_refused_refund_changes_nothing_and_answers_502(user_api, user, dummy_payments):
    event = EventFactory(total_capacity=10, price=Decimal("12.50"))
    booking = paid_booking(user_api, event, 2)
    dummy_payments.refusals = 1

    response = user_api.post(f"/api/bookings/{booking.pk}/cancel")

    assert_problem(response, 502, "refund_failed")
    booking.refresh_from_db()
    assert (booking.status, booking.refunded_amount, booking.cancelled_at) == ("confirmed", 0, None)
    assert Payment.objects.get(booking=booking).status == "confirmed"
    assert not Notification.objects.filter(
        user=user, type__in=["booking_refunded", "booking_cancelled"]
    ).exists()
    event.refresh_from_db()
    assert (event.available_seats, event.booked_seats, event.revenue) == (8, 2, Decimal("25.00"))
    assert_books_balance(event)
    # Once the provider takes it, the same cancel goes through.
    assert user_api.post(f"/api/bookings/{booking.pk}/cancel").status_code == 200
    assert Payment.objects.get(booking=booking).status == "refunded"


def test_cancelling_a_pending_checkout_releases_its_hold_without_a_refund(user_api, dummy_payments):
    event = EventFactory(total_capacity=10, price=Decimal("10.00"))
    body = checkout(user_api, event, 3)

    response = user_api.post(f"/api/bookings/{body['booking']['id']}/cancel")

    assert response.status_code == 200
    assert (response.json()["status"], response.json()["refunded_amount"]) == ("cancelled", "0.00")
    assert Payment.objects.get(pk=body["payment"]["id"]).status == "cancelled"
    assert dummy_payments.refunded == []
    event.refresh_from_db()
    assert (event.available_seats, event.held_seats, event.cancelled_bookings) == (10, 0, 1)
    assert_books_balance(event)
    assert_problem(
        user_api.post(f"/api/bookings/{body['booking']['id']}/cancel"), 409, "already_cancelled"
    )


def test_an_event_cancellation_refunds_every_paid_booking_and_resumes_after_a_failure(
    admin_api, dummy_payments
):
    event = EventFactory(total_capacity=20, price=Decimal("10.00"))
    buyers = [client_for(UserFactory()) for _ in range(4)]
    paid = [paid_booking(api, event, 2) for api in buyers[:3]]
    pending = checkout(buyers[3], event, 1)
    dummy_payments.refusals = 2  # the provider fails part-way: two of three refunds refused

    assert admin_api.delete(f"/api/events/{event.pk}").status_code == 204

    event.refresh_from_db()
    assert event.status == Event.Status.CANCELLED
    statuses = dict(Payment.objects.filter(booking__in=paid).values_list("booking_id", "status"))
    assert sorted(statuses.values()) == ["confirmed", "confirmed", "refunded"]
    assert all(b.status == "cancelled" for b in Booking.objects.filter(pk__in=[b.pk for b in paid]))
    assert Booking.objects.get(pk=pending["booking"]["id"]).status == "cancelled"
    assert Payment.objects.get(pk=pending["payment"]["id"]).status == "cancelled"
    assert (event.available_seats, event.booked_seats, event.held_seats) == (20, 0, 0)
    assert_books_balance(event)

    # The next round of the expiry loop refunds what is still due, and a round after that
    # finds nothing: no payment is refunded twice.
    out = io.StringIO()
    call_command("expire_waitlist_offers", stdout=out)
    assert "refunded 2 booking(s)" in out.getvalue()
    out = io.StringIO()
    call_command("expire_waitlist_offers", stdout=out)
    assert "refunded 0 booking(s)" in out.getvalue()
    payments = Payment.objects.filter(booking__in=paid)
    assert {p.status for p in payments} == {"refunded"}
    assert sorted(dummy_payments.refunded) == sorted(p.pk for p in payments)
    assert {b.refunded_amount for b in Booking.objects.filter(pk__in=[b.pk for b in paid])} == {
        Decimal("20.00")
    }
