"""The staff console's side of checkout: pending and expired bookings, payments with their
status and provider reference, and the refund action."""

from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.utils import timezone

from bookings.models import Booking, Payment
from tests.checkout.test_checkout import checkout, pay
from tests.conftest import client_for
from tests.factories import EventFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_the_console_lists_pending_and_expired_bookings(staff):
    event = EventFactory(total_capacity=10, price=Decimal("10.00"), name="Harbour Jazz")
    buyer = client_for(UserFactory(name="Cleo Buyer"))
    body = checkout(buyer, event, 2)

    page = staff.get("/admin/bookings/booking/?status__exact=pending_payment")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Cleo Buyer" in html and "Pending payment" in html and "hold until" in html

    with time_machine.travel(timezone.now() + timedelta(seconds=901)):
        page = staff.get("/admin/bookings/booking/")
    assert "Expired" in page.content.decode()
    change = staff.get(f"/admin/bookings/booking/{body['booking']['id']}/change/")
    assert change.status_code == 200 and "Refunded amount" in change.content.decode()


def test_the_console_lists_payments_and_refunds_one(staff, dummy_payments):
    event = EventFactory(total_capacity=10, price=Decimal("10.00"), name="Harbour Jazz")
    buyer = client_for(UserFactory(name="Cleo Buyer"))
    body = checkout(buyer, event, 2)
    pay(body)
    payment = Payment.objects.get(pk=body["payment"]["id"])
    Payment.objects.filter(pk=payment.pk).update(transaction_id="pi_test_123")

    page = staff.get("/admin/bookings/payment/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Cleo Buyer" in html and "20.00 EUR" in html and "pi_test_123" in html
    assert "Confirmed" in html
    assert staff.get(f"/admin/bookings/payment/{payment.pk}/change/").status_code == 200

    response = staff.post(
        "/admin/bookings/payment/",
        {"action": "refund_payments", "_selected_action": [str(payment.pk)]},
        follow=True,
    )

    assert response.status_code == 200
    assert "Payments refunded: 1." in response.content.decode()
    payment.refresh_from_db()
    assert payment.status == "refunded"
    booking = Booking.objects.get(pk=body["booking"]["id"])
    assert (booking.status, booking.refunded_amount) == ("cancelled", Decimal("20.00"))
    assert dummy_payments.refunded == [payment.pk]


def test_a_refused_refund_in_the_console_says_so_and_changes_nothing(staff, dummy_payments):
    event = EventFactory(total_capacity=10, price=Decimal("10.00"))
    body = checkout(client_for(UserFactory()), event, 1)
    pay(body)
    dummy_payments.refusals = 1

    response = staff.post(
        "/admin/bookings/payment/",
        {"action": "refund_payments", "_selected_action": [body["payment"]["id"]]},
        follow=True,
    )

    assert "did not refund" in response.content.decode()
    assert Payment.objects.get(pk=body["payment"]["id"]).status == "confirmed"
    assert Booking.objects.get(pk=body["booking"]["id"]).status == "confirmed"
