"""Vouchers in a checkout: the use is counted while the seats are held, given back when the
hold expires or is cancelled, and counted again when a late payment brings the booking back."""

import io
from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from bookings import checkout
from bookings.models import Booking, Payment
from tests.checkout.conftest import PAID
from tests.checkout.test_checkout import pay
from tests.factories import EventFactory, VoucherFactory
from tests.invariants import assert_books_balance, assert_vouchers_balance

pytestmark = pytest.mark.django_db


def checkout_with(api, event, code, quantity=2):
    response = api.post(
        "/api/bookings",
        {"event_id": str(event.pk), "quantity": quantity, "voucher": code},
        format="json",
    )
    assert response.status_code == 201, response.content
    return response.json()


def used(voucher) -> int:
    voucher.refresh_from_db()
    return voucher.used


def test_a_checkout_pays_the_discounted_total_and_counts_the_use(user_api):
    event = EventFactory(total_capacity=10, price=Decimal("40.00"))
    voucher = VoucherFactory(event=event, code="HALF", value=Decimal("50"), max_uses=1)

    body = checkout_with(user_api, event, "HALF")

    assert body["result"] == "pending_payment"
    assert (body["booking"]["total_amount"], body["booking"]["discount_amount"]) == (
        "40.00",
        "40.00",
    )
    assert body["payment"]["amount"] == "40.00"
    assert used(voucher) == 1
    payment = Payment.objects.get(pk=body["payment"]["id"])
    # What the provider is told it sells adds up to what it charges.
    lines = list(payment.get_purchased_items())
    assert sum(line.price * line.quantity for line in lines) == payment.total == Decimal("40.00")

    assert pay(body).status_code == 302

    booking = Booking.objects.get(pk=body["booking"]["id"])
    assert (booking.status, booking.total_amount) == ("confirmed", Decimal("40.00"))
    assert used(voucher) == 1
    event.refresh_from_db()
    assert event.revenue == Decimal("40.00")
    assert_books_balance(event)
    assert_vouchers_balance(event)


def test_a_voucher_that_makes_the_total_zero_confirms_at_once(user_api):
    event = EventFactory(total_capacity=10, price=Decimal("40.00"))
    VoucherFactory(event=event, code="FREE", value=Decimal("100"))

    body = checkout_with(user_api, event, "FREE")

    assert body["result"] == "booked"
    assert (body["booking"]["status"], body["booking"]["total_amount"]) == ("confirmed", "0.00")
    assert not Payment.objects.exists()


def test_an_expired_hold_gives_the_use_back(user_api):
    event = EventFactory(total_capacity=10, price=Decimal("40.00"))
    voucher = VoucherFactory(event=event, code="ONCE", max_uses=1)
    body = checkout_with(user_api, event, "ONCE")
    assert used(voucher) == 1

    with time_machine.travel(timezone.now() + timedelta(seconds=901)):
        call_command("expire_waitlist_offers", stdout=io.StringIO())

    assert Booking.objects.get(pk=body["booking"]["id"]).status == "expired"
    assert used(voucher) == 0
    assert_books_balance(event)
    assert_vouchers_balance(event)


def test_a_hold_read_after_its_time_gives_the_use_back(user_api, user):
    event = EventFactory(total_capacity=10, price=Decimal("40.00"))
    voucher = VoucherFactory(event=event, code="ONCE", max_uses=1)
    body = checkout_with(user_api, event, "ONCE")

    with time_machine.travel(timezone.now() + timedelta(seconds=901)):
        payment = checkout.latest_payment(booking_id=body["booking"]["id"], user=user)

    assert payment.status == "cancelled"
    assert Booking.objects.get(pk=body["booking"]["id"]).status == "expired"
    assert used(voucher) == 0
    assert_vouchers_balance(event)


def test_cancelling_a_pending_checkout_gives_the_use_back(user_api):
    event = EventFactory(total_capacity=10, price=Decimal("40.00"))
    voucher = VoucherFactory(event=event, code="ONCE", max_uses=1)
    body = checkout_with(user_api, event, "ONCE")

    response = user_api.post(f"/api/bookings/{body['booking']['id']}/cancel")

    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    assert used(voucher) == 0
    assert_books_balance(event)
    assert_vouchers_balance(event)


def expired_checkout(api):
    """A checkout with a one-use voucher, expired by the expiry command (its use given back):
    the event, the voucher, the 201's body and the payment's token."""
    event = EventFactory(total_capacity=10, price=Decimal("40.00"))
    voucher = VoucherFactory(event=event, code="ONCE", max_uses=1)
    body = checkout_with(api, event, "ONCE")
    token = Payment.objects.get(pk=body["payment"]["id"]).token
    with time_machine.travel(timezone.now() + timedelta(seconds=901)):
        call_command("expire_waitlist_offers", stdout=io.StringIO())
    return event, voucher, body, token


def test_a_late_payment_counts_the_use_again_when_one_is_left(user_api):
    event, voucher, body, token = expired_checkout(user_api)
    assert used(voucher) == 0

    response = Client().get(f"/payments/process/{token}/?verification_result=confirmed")

    assert response.status_code == 302
    assert Booking.objects.get(pk=body["booking"]["id"]).status == "confirmed"
    assert used(voucher) == 1
    assert_books_balance(event)
    assert_vouchers_balance(event)


def test_a_late_payment_whose_voucher_was_used_up_meanwhile_is_refunded(
    user_api, other_api, dummy_payments
):
    event, voucher, body, token = expired_checkout(user_api)
    # Someone else takes the use the expiry gave back, and pays at once.
    rival = checkout_with(other_api, event, "ONCE")
    assert pay(rival, PAID).status_code == 302

    response = Client().get(f"/payments/process/{token}/?verification_result=confirmed")

    assert response.status_code == 302
    booking = Booking.objects.get(pk=body["booking"]["id"])
    assert (booking.status, booking.refunded_amount) == ("expired", Decimal("72.00"))
    assert Payment.objects.get(token=token).status == "refunded"
    assert used(voucher) == 1
    assert_books_balance(event)
    assert_vouchers_balance(event)
