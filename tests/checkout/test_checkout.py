"""Checkout with a payment provider (the contract's "Checkout and payments"): seats held while
the buyer pays on payment_url, confirmed when paid, expired when not, refunded when cancelled.
Driven over HTTP as a client and a browser would, with django-payments' DummyProvider."""

import io
from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from bookings.models import Booking, Payment
from notifications.models import Notification
from tests.checkout.conftest import PAID, REJECTED, page_path
from tests.factories import EventFactory
from tests.invariants import assert_books_balance
from tests.problems import assert_problem
from waitlist.models import WaitlistEntry

pytestmark = pytest.mark.django_db

PAYMENT_KEYS = {"id", "status", "amount", "currency", "provider", "payment_url", "expires_at"}


def checkout(api, event, quantity=2):
    response = api.post(
        "/api/bookings", {"event_id": str(event.pk), "quantity": quantity}, format="json"
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["result"] == "pending_payment", body
    return body


def pay(body, data=PAID):
    """Submit the dummy provider's form on the payment's page, as a browser does."""
    return Client().post(page_path(body["payment"]["payment_url"]), data)


def notices(user, kind):
    return list(Notification.objects.filter(user=user, type=kind))


def test_a_priced_booking_holds_its_seats_until_paid(user_api, user):
    event = EventFactory(total_capacity=10, price=Decimal("25.00"))
    before = timezone.now()
    body = checkout(user_api, event, 3)

    assert set(body) == {"result", "booking", "payment"}
    booking, payment = body["booking"], body["payment"]
    assert booking["status"] == "pending_payment"
    assert booking["total_amount"] == "75.00"
    assert set(payment) == PAYMENT_KEYS
    assert payment["status"] == "waiting"
    assert (payment["amount"], payment["currency"], payment["provider"]) == ("75.00", "EUR", "test")
    assert payment["expires_at"] == booking["expires_at"]
    row = Booking.objects.get(pk=booking["id"])
    # The provider is given the buyer's address (Stripe sends its receipt there), though the
    # request's user came from the access token's claims, which carry none.
    assert Payment.objects.get(pk=payment["id"]).billing_email == user.email
    hold = (row.expires_at - before).total_seconds()
    assert 899 <= hold <= 901
    event.refresh_from_db()
    assert (event.available_seats, event.held_seats, event.booked_seats) == (7, 3, 0)
    assert event.revenue == 0
    assert notices(user, "booking_confirmed") == []
    assert_books_balance(event)
    # No ticket is valid yet.
    tickets = user_api.get(f"/api/bookings/{booking['id']}/tickets").json()["results"]
    assert {t["status"] for t in tickets} == {"void"}


def test_paying_on_payment_url_confirms_the_booking_with_its_tickets(user_api, user):
    event = EventFactory(total_capacity=10, price=Decimal("25.00"))
    body = checkout(user_api, event, 2)
    page = Client().get(page_path(body["payment"]["payment_url"]))
    assert page.status_code == 200
    assert b'name="status"' in page.content and b"50.00 EUR" in page.content

    response = pay(body)

    token = Payment.objects.get(pk=body["payment"]["id"]).token
    assert response.status_code == 302
    assert response["Location"] == f"https://tickets.example.com/checkout/{token}/return/"
    booking = Booking.objects.get(pk=body["booking"]["id"])
    assert booking.status == "confirmed"
    event.refresh_from_db()
    assert (event.available_seats, event.held_seats, event.booked_seats) == (8, 0, 2)
    assert event.revenue == Decimal("50.00")
    assert_books_balance(event)
    (confirmed,) = notices(user, "booking_confirmed")
    assert confirmed.message.endswith(
        f"Your tickets: https://tickets.example.com/api/bookings/{booking.pk}/tickets"
    )
    shown = user_api.get(f"/api/bookings/{booking.pk}/payment").json()
    assert (shown["status"], shown["amount"]) == ("confirmed", "50.00")
    assert user_api.get(f"/api/bookings/{booking.pk}").json()["status"] == "confirmed"
    tickets = user_api.get(f"/api/bookings/{booking.pk}/tickets").json()["results"]
    assert [t["status"] for t in tickets] == ["valid", "valid"]
    done = Client().get(response["Location"])
    assert done.status_code == 200 and b"Paid: your booking is confirmed" in done.content


def test_a_second_report_of_the_same_payment_confirms_once(user_api, user):
    event = EventFactory(total_capacity=10, price=Decimal("10.00"))
    body = checkout(user_api, event, 2)
    assert pay(body).status_code == 302
    token = Payment.objects.get(pk=body["payment"]["id"]).token

    again = pay(body)  # the page of a paid payment takes nothing more
    callback = Client().post(f"/payments/process/{token}/")

    assert again.status_code == 302 and callback.status_code == 302
    event.refresh_from_db()
    assert (event.booked_seats, event.held_seats, event.confirmed_bookings) == (2, 0, 1)
    assert len(notices(user, "booking_confirmed")) == 1
    assert_books_balance(event)


def test_a_rejected_payment_keeps_the_hold_and_a_new_payment_pays_it(user_api, user):
    event = EventFactory(total_capacity=10, price=Decimal("10.00"))
    body = checkout(user_api, event, 1)
    booking_id = body["booking"]["id"]

    assert pay(body, REJECTED).status_code == 302

    assert Booking.objects.get(pk=booking_id).status == "pending_payment"
    (failed,) = notices(user, "payment_failed")
    assert "did not go through" in failed.message
    assert user_api.get(f"/api/bookings/{booking_id}/payment").json()["status"] == "rejected"
    retry = user_api.post(f"/api/bookings/{booking_id}/payment")
    assert retry.status_code == 201
    assert set(retry.json()) == PAYMENT_KEYS
    assert retry.json()["status"] == "waiting"
    assert retry.json()["id"] != body["payment"]["id"]
    assert retry.json()["expires_at"] == body["booking"]["expires_at"]
    assert pay({"payment": retry.json()}).status_code == 302
    assert Booking.objects.get(pk=booking_id).status == "confirmed"
    assert Payment.objects.filter(booking_id=booking_id).count() == 2
    assert_books_balance(event)


def test_paying_again_is_refused_once_confirmed_or_for_someone_else(user_api, other_api):
    event = EventFactory(total_capacity=10, price=Decimal("10.00"))
    body = checkout(user_api, event, 1)
    booking_id = body["booking"]["id"]
    assert_problem(other_api.post(f"/api/bookings/{booking_id}/payment"), 404, "not_found")
    assert_problem(other_api.get(f"/api/bookings/{booking_id}/payment"), 404, "not_found")
    pay(body)
    assert_problem(user_api.post(f"/api/bookings/{booking_id}/payment"), 409, "already_confirmed")
    assert Payment.objects.filter(booking_id=booking_id).count() == 1


def test_a_free_booking_confirms_at_once_even_with_a_provider(user_api):
    event = EventFactory(total_capacity=10, price=Decimal("0.00"))
    response = user_api.post(
        "/api/bookings", {"event_id": str(event.pk), "quantity": 2}, format="json"
    )
    assert response.status_code == 201
    assert response.json()["result"] == "booked"
    assert response.json()["booking"]["status"] == "confirmed"
    assert Payment.objects.count() == 0
    assert_problem(
        user_api.get(f"/api/bookings/{response.json()['booking']['id']}/payment"), 404, "not_found"
    )


def test_an_unpaid_hold_expires_and_its_seats_go_to_the_waitlist(user_api, user, other_api):
    event = EventFactory(total_capacity=2, price=Decimal("10.00"))
    body = checkout(user_api, event, 2)
    waiting = other_api.post(
        "/api/bookings", {"event_id": str(event.pk), "quantity": 2}, format="json"
    )
    assert waiting.status_code == 202

    with time_machine.travel(timezone.now() + timedelta(seconds=901)):
        call_command("expire_waitlist_offers", stdout=io.StringIO())

    booking = Booking.objects.get(pk=body["booking"]["id"])
    assert booking.status == "expired"
    entry = WaitlistEntry.objects.get(pk=waiting.json()["waitlist_entry"]["id"])
    assert entry.status == "offered"
    event.refresh_from_db()
    assert (event.available_seats, event.held_seats, event.booked_seats) == (0, 2, 0)
    assert Payment.objects.get(pk=body["payment"]["id"]).status == "cancelled"
    (expired,) = notices(user, "booking_expired")
    assert "released" in expired.message
    assert_books_balance(event)
    # Its page no longer takes money.
    page = Client().post(page_path(body["payment"]["payment_url"]), PAID)
    assert page.status_code == 302
    assert Booking.objects.get(pk=booking.pk).status == "expired"


def test_a_pending_booking_read_after_its_time_is_expired(user_api, settings):
    settings.CHECKOUT_HOLD_SECONDS = 60
    event = EventFactory(total_capacity=5, price=Decimal("10.00"))
    body = checkout(user_api, event, 2)
    booking_id = body["booking"]["id"]

    with time_machine.travel(timezone.now() + timedelta(seconds=61)):
        listed = user_api.get("/api/bookings/my?status=expired").json()["results"]
        assert [b["id"] for b in listed] == [booking_id]
        assert listed[0]["status"] == "expired"
        assert user_api.get("/api/bookings/my?status=pending_payment").json()["count"] == 0
        shown = user_api.get(f"/api/bookings/{booking_id}")
        assert shown.status_code == 200 and shown.json()["status"] == "expired"
        assert_problem(user_api.post(f"/api/bookings/{booking_id}/payment"), 409, "booking_expired")

    assert Booking.objects.get(pk=booking_id).status == "expired"
    event.refresh_from_db()
    assert (event.available_seats, event.held_seats) == (5, 0)
    assert_books_balance(event)


def late_report(body):
    """The provider reports the payment made after all (django-payments' process_payment: the
    dummy's report of a 3-D Secure check that passed)."""
    token = Payment.objects.get(pk=body["payment"]["id"]).token
    return Client().get(f"/payments/process/{token}/?verification_result=confirmed")


def expire_all():
    with time_machine.travel(timezone.now() + timedelta(seconds=901)):
        call_command("expire_waitlist_offers", stdout=io.StringIO())


def test_a_payment_after_the_hold_ended_confirms_when_the_seats_are_free(user_api, user):
    event = EventFactory(total_capacity=5, price=Decimal("10.00"))
    body = checkout(user_api, event, 2)
    expire_all()

    response = late_report(body)

    assert response.status_code == 302
    booking = Booking.objects.get(pk=body["booking"]["id"])
    assert (booking.status, booking.refunded_amount) == ("confirmed", 0)
    event.refresh_from_db()
    assert (event.available_seats, event.held_seats, event.booked_seats) == (3, 0, 2)
    assert len(notices(user, "booking_confirmed")) == 1
    assert Payment.objects.get(pk=body["payment"]["id"]).status == "confirmed"
    assert_books_balance(event)


def test_a_payment_after_the_seats_were_sold_is_refunded_in_full(
    user_api, user, other_api, dummy_payments
):
    event = EventFactory(total_capacity=2, price=Decimal("10.00"))
    body = checkout(user_api, event, 2)
    expire_all()
    other_api.post(
        "/api/bookings", {"event_id": str(event.pk), "quantity": 2}, format="json"
    )  # the seats, sold again (held for someone else's checkout)

    response = late_report(body)

    assert response.status_code == 302
    booking = Booking.objects.get(pk=body["booking"]["id"])
    assert (booking.status, booking.refunded_amount) == ("expired", Decimal("20.00"))
    payment = Payment.objects.get(pk=body["payment"]["id"])
    assert payment.status == "refunded"
    assert dummy_payments.refunded == [payment.pk]
    (refunded,) = notices(user, "booking_refunded")
    assert "20.00 EUR" in refunded.message
    assert notices(user, "booking_confirmed") == []
    event.refresh_from_db()
    assert (event.available_seats, event.held_seats, event.booked_seats) == (0, 2, 0)
    assert_books_balance(event)
    shown = user_api.get(f"/api/bookings/{booking.pk}").json()
    assert (shown["status"], shown["refunded_amount"]) == ("expired", "20.00")


def test_accepting_an_offer_on_a_priced_event_is_a_checkout_of_the_held_seats(
    user_api, other_api, other_user
):
    event = EventFactory(total_capacity=2, price=Decimal("15.00"))
    first = checkout(user_api, event, 2)
    entry = other_api.post(
        "/api/bookings", {"event_id": str(event.pk), "quantity": 2}, format="json"
    ).json()["waitlist_entry"]
    user_api.post(f"/api/bookings/{first['booking']['id']}/cancel")  # seats offered to other
    assert WaitlistEntry.objects.get(pk=entry["id"]).status == "offered"
    event.refresh_from_db()
    assert (event.available_seats, event.held_seats) == (0, 2)

    response = other_api.post(f"/api/waitlist/{entry['id']}/accept")

    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"result", "booking", "payment"}
    assert body["result"] == "pending_payment"
    assert body["booking"]["status"] == "pending_payment"
    assert body["payment"]["amount"] == "30.00"
    assert Payment.objects.get(pk=body["payment"]["id"]).billing_email == other_user.email
    event.refresh_from_db()
    # The offer's seats were carried into the hold, never free in between.
    assert (event.available_seats, event.held_seats, event.booked_seats) == (0, 2, 0)
    assert_books_balance(event)
    assert pay(body).status_code == 302
    event.refresh_from_db()
    assert (event.available_seats, event.held_seats, event.booked_seats) == (0, 0, 2)
    assert Notification.objects.filter(user=other_user, type="booking_confirmed").count() == 1
    assert_books_balance(event)


def test_seats_held_for_payment_count_in_the_ten_ticket_limit(user_api):
    event = EventFactory(total_capacity=50, price=Decimal("5.00"))
    checkout(user_api, event, 8)
    response = user_api.post(
        "/api/bookings", {"event_id": str(event.pk), "quantity": 3}, format="json"
    )
    body = assert_problem(response, 409, "ticket_limit")
    assert body["tickets_held"] == 8
    assert Booking.objects.filter(event=event).count() == 1


def test_a_form_sent_incomplete_is_shown_again_and_changes_nothing(user_api):
    event = EventFactory(total_capacity=5, price=Decimal("10.00"))
    body = checkout(user_api, event, 1)

    response = Client().post(page_path(body["payment"]["payment_url"]), {"status": "confirmed"})

    assert response.status_code == 400
    assert b"This field is required." in response.content
    assert Booking.objects.get(pk=body["booking"]["id"]).status == "pending_payment"
    assert Payment.objects.get(pk=body["payment"]["id"]).status == "input"


def test_try_again_on_the_return_page_starts_a_new_payment_for_the_hold(user_api):
    event = EventFactory(total_capacity=5, price=Decimal("10.00"))
    body = checkout(user_api, event, 1)
    returned = pay(body, REJECTED)
    page = Client().get(returned["Location"])
    assert page.status_code == 200 and b"did not go through" in page.content
    token = Payment.objects.get(pk=body["payment"]["id"]).token

    again = Client().post(f"/checkout/{token}/retry/")

    assert again.status_code == 302
    fresh = Payment.objects.filter(booking_id=body["booking"]["id"]).exclude(token=token).get()
    assert again["Location"] == f"/checkout/{fresh.token}/"
    assert Client().post(again["Location"], PAID).status_code == 302
    assert Booking.objects.get(pk=body["booking"]["id"]).status == "confirmed"
    assert_books_balance(event)


def test_an_unknown_payment_page_is_the_sites_404():
    response = Client().get("/checkout/00000000-0000-0000-0000-000000000000/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")
