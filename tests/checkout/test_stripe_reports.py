"""Checkout through django-payments' Stripe provider, offline: Stripe's webhook reports signed
as Stripe signs them (docs/operations.md, "Taking payments with Stripe"), the Checkout
session the payment page asks Stripe for, and the refund of a paid booking.

What runs for real: our views and settle code, the provider, and the stripe library down to
its HTTP client, signature checks included. That client is replaced by `StripeHTTP`, which
answers the calls a test expects with canned JSON and records them; any other call fails the
test, so nothing leaves the machine."""

import hashlib
import hmac
import json
import time
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest
import stripe
from django.test import Client
from payments import core as payments_core

from bookings.models import Booking, Payment
from events.models import Event
from notifications.models import Notification
from tests.checkout.conftest import page_path
from tests.checkout.test_checkout import checkout
from tests.factories import EventFactory
from tests.invariants import assert_books_balance

pytestmark = pytest.mark.django_db

SECRET_KEY = "sk_test_evently_offline"
WEBHOOK_SECRET = "whsec_evently_offline"
# The address docs/operations.md has operators give Stripe's dashboard.
WEBHOOK_URL = "/payments/process/stripe/"
SESSION_URL = "https://checkout.stripe.com/c/pay/cs_test_evently"


class StripeHTTP(stripe.HTTPClient):
    """stripe's HTTP client for tests: answers (method, url) from `answers`, records every
    request, and fails the test on any request it has no answer for."""

    name = "test"

    def __init__(self):
        super().__init__()
        self.answers: dict[tuple[str, str], tuple[int, dict]] = {}
        self.requests: list[dict] = []

    def request(self, method, url, headers, post_data=None, *, _usage=None):
        self.requests.append(
            {
                "method": method.upper(),
                "url": url,
                "headers": dict(headers or {}),
                "form": {k: v[0] for k, v in parse_qs(post_data or "").items()},
            }
        )
        answer = self.answers.get((method.upper(), urlsplit(url)._replace(query="").geturl()))
        if answer is None:
            raise AssertionError(f"Unexpected call to Stripe's API: {method.upper()} {url}")
        status, body = answer
        return json.dumps(body), status, {"Request-Id": "req_test"}

    def close(self):
        pass


@pytest.fixture(autouse=True)
def stripe_http(settings, monkeypatch, dummy_payments):
    """The stripe variant with test keys, as PAYMENT_PROVIDER=stripe configures it, and
    stripe's HTTP client replaced by a StripeHTTP with no answers yet."""
    settings.PAYMENT_PROVIDER = "stripe"
    settings.PAYMENT_VARIANTS = {
        **settings.PAYMENT_VARIANTS,
        "stripe": (
            "payments.stripe.StripeProviderV3",
            {
                "api_key": SECRET_KEY,
                "endpoint_secret": WEBHOOK_SECRET,
                "use_token": True,
                "secure_endpoint": True,
            },
        ),
    }
    # django-payments keeps one provider per variant for the process's life.
    monkeypatch.setattr(payments_core, "PROVIDER_CACHE", {})
    client = StripeHTTP()
    monkeypatch.setattr(stripe, "default_http_client", client)
    monkeypatch.setattr(stripe, "api_key", None)
    return client


def signed(payload: str, *, secret: str = WEBHOOK_SECRET, at: int | None = None) -> str:
    """A Stripe-Signature header as Stripe computes it: HMAC-SHA256 of `{t}.{payload}`."""
    t = int(time.time()) if at is None else at
    v1 = hmac.new(secret.encode(), f"{t}.{payload}".encode(), hashlib.sha256).hexdigest()
    return f"t={t},v1={v1}"


def session_event(
    payment: Payment,
    kind: str = "checkout.session.completed",
    *,
    status: str = "complete",
    payment_status: str = "paid",
) -> str:
    """The body of a Stripe event about the payment's Checkout session."""
    amount = int(payment.total * 100)
    return json.dumps(
        {
            "id": "evt_test_evently",
            "object": "event",
            "api_version": "2025-03-31.basil",
            "created": int(time.time()),
            "livemode": False,
            "type": kind,
            "data": {
                "object": {
                    "id": "cs_test_evently",
                    "object": "checkout.session",
                    "client_reference_id": payment.token,
                    "amount_total": amount,
                    "currency": payment.currency.lower(),
                    "mode": "payment",
                    "status": status,
                    "payment_status": payment_status,
                    "payment_intent": "pi_test_evently",
                }
            },
        }
    )


def report(payload: str, signature: str | None, url: str = WEBHOOK_URL):
    headers = {} if signature is None else {"Stripe-Signature": signature}
    return Client().post(url, data=payload, content_type="application/json", headers=headers)


def pending(api, event, quantity=2) -> tuple[Booking, Payment]:
    body = checkout(api, event, quantity)
    assert body["payment"]["provider"] == "stripe"
    return Booking.objects.get(pk=body["booking"]["id"]), Payment.objects.get(
        pk=body["payment"]["id"]
    )


def valid_tickets(api, booking) -> list:
    tickets = api.get(f"/api/bookings/{booking.pk}/tickets").json()["results"]
    return [t for t in tickets if t["status"] == "valid"]


def snapshot(event: Event) -> tuple:
    """Every row a report could change, as stored."""
    return (
        list(Booking.objects.filter(event=event).values().order_by("pk")),
        list(Payment.objects.filter(booking__event=event).values().order_by("pk")),
        list(Event.objects.filter(pk=event.pk).values()),
        list(Notification.objects.values("pk", "type").order_by("pk")),
    )


@pytest.mark.parametrize(
    "kind", ["checkout.session.completed", "checkout.session.async_payment_succeeded"]
)
def test_a_signed_paid_session_event_confirms_the_booking_with_its_tickets(
    kind, user_api, user, stripe_http
):
    event = EventFactory(total_capacity=10, price=Decimal("25.00"))
    booking, payment = pending(user_api, event, 2)
    assert valid_tickets(user_api, booking) == []
    payload = session_event(payment, kind)

    response = report(payload, signed(payload))

    assert response.status_code == 200
    assert response.json() == {"status": "OK"}
    booking.refresh_from_db()
    payment.refresh_from_db()
    assert booking.status == "confirmed"
    assert (payment.status, payment.captured_amount) == ("confirmed", Decimal("50.00"))
    # Kept for the refund, which names Stripe's payment intent.
    assert payment.attrs.session["payment_intent"] == "pi_test_evently"
    assert len(valid_tickets(user_api, booking)) == 2
    event.refresh_from_db()
    assert (event.available_seats, event.held_seats, event.booked_seats) == (8, 0, 2)
    assert event.revenue == Decimal("50.00")
    assert Notification.objects.filter(user=user, type="booking_confirmed").count() == 1
    assert_books_balance(event)
    # Verifying and handling a report is local: Stripe's API was not called.
    assert stripe_http.requests == []


def test_the_same_event_delivered_twice_confirms_once(user_api, user, stripe_http):
    event = EventFactory(total_capacity=10, price=Decimal("25.00"))
    booking, payment = pending(user_api, event, 2)
    payload = session_event(payment)
    assert report(payload, signed(payload)).status_code == 200
    tickets = valid_tickets(user_api, booking)

    again = report(payload, signed(payload))

    assert again.status_code == 200
    assert again.json() == {"status": "OK"}
    booking.refresh_from_db()
    assert booking.status == "confirmed"
    assert valid_tickets(user_api, booking) == tickets
    event.refresh_from_db()
    assert (event.booked_seats, event.held_seats, event.confirmed_bookings) == (2, 0, 1)
    assert event.revenue == Decimal("50.00")
    assert Notification.objects.filter(user=user, type="booking_confirmed").count() == 1
    assert Notification.objects.filter(user=user, type="booking_refunded").count() == 0
    assert_books_balance(event)
    assert stripe_http.requests == []


@pytest.mark.parametrize(
    "forge",
    [
        pytest.param(lambda p: signed(p, secret="whsec_someone_else"), id="wrong-secret"),
        pytest.param(lambda p: signed(p.replace("25", "26")), id="other-payload"),
        pytest.param(lambda p: signed(p, at=int(time.time()) - 600), id="stale-timestamp"),
        pytest.param(lambda p: signed(p).split(",")[0], id="no-v1"),
        pytest.param(lambda p: None, id="no-header"),
    ],
)
def test_a_report_whose_signature_fails_answers_400_and_changes_nothing(
    forge, user_api, stripe_http
):
    event = EventFactory(total_capacity=10, price=Decimal("25.00"))
    booking, payment = pending(user_api, event, 2)
    payload = session_event(payment)
    before = snapshot(event)

    response = report(payload, forge(payload))

    assert response.status_code == 400
    assert snapshot(event) == before
    assert valid_tickets(user_api, booking) == []
    assert stripe_http.requests == []


def test_a_report_at_the_payments_own_address_is_checked_too(user_api, stripe_http):
    """Stripe reports to one address, but the payment's own (django-payments'
    process_payment) takes the same reports: a forged one is refused there as well."""
    event = EventFactory(total_capacity=10, price=Decimal("25.00"))
    booking, payment = pending(user_api, event, 2)
    payload = session_event(payment)
    own = f"/payments/process/{payment.token}/"
    before = snapshot(event)

    forged = report(payload, signed(payload, secret="whsec_someone_else"), url=own)

    assert forged.status_code == 400
    assert snapshot(event) == before

    genuine = report(payload, signed(payload), url=own)

    assert genuine.status_code == 200
    booking.refresh_from_db()
    assert booking.status == "confirmed"


def test_an_expired_session_fails_the_payment_and_keeps_the_hold(user_api, user, stripe_http):
    event = EventFactory(total_capacity=10, price=Decimal("25.00"))
    booking, payment = pending(user_api, event, 2)
    payload = session_event(
        payment, "checkout.session.expired", status="expired", payment_status="unpaid"
    )

    response = report(payload, signed(payload))

    assert response.status_code == 200
    payment.refresh_from_db()
    booking.refresh_from_db()
    assert (payment.status, booking.status) == ("rejected", "pending_payment")
    assert Notification.objects.filter(user=user, type="payment_failed").count() == 1
    event.refresh_from_db()
    assert (event.available_seats, event.held_seats, event.booked_seats) == (8, 2, 0)


def test_a_failed_asynchronous_payment_is_recorded_and_the_hold_goes_on(user_api, stripe_http):
    event = EventFactory(total_capacity=10, price=Decimal("25.00"))
    booking, payment = pending(user_api, event, 2)
    payload = session_event(
        payment, "checkout.session.async_payment_failed", payment_status="unpaid"
    )

    response = report(payload, signed(payload))

    assert response.status_code == 200
    payment.refresh_from_db()
    booking.refresh_from_db()
    assert (payment.status, booking.status) == ("waiting", "pending_payment")
    assert payment.attrs.session["payment_status"] == "unpaid"
    event.refresh_from_db()
    assert (event.available_seats, event.held_seats, event.booked_seats) == (8, 2, 0)


def test_an_event_of_another_kind_is_refused_and_changes_nothing(user_api, stripe_http):
    """Only the checkout session's events name the payment (client_reference_id): any other
    is answered 400, which is why docs/operations.md subscribes the endpoint to those alone."""
    event = EventFactory(total_capacity=10, price=Decimal("25.00"))
    pending(user_api, event, 2)
    payload = json.dumps(
        {
            "id": "evt_test_other",
            "object": "event",
            "type": "payment_intent.succeeded",
            "data": {"object": {"id": "pi_test_evently", "object": "payment_intent"}},
        }
    )
    before = snapshot(event)

    response = report(payload, signed(payload))

    assert response.status_code == 400
    assert snapshot(event) == before


def test_opening_the_payment_page_creates_a_checkout_session_and_redirects_to_it(
    user_api, user, stripe_http
):
    stripe_http.answers[("POST", "https://api.stripe.com/v1/checkout/sessions")] = (
        200,
        {
            "id": "cs_test_evently",
            "object": "checkout.session",
            "url": SESSION_URL,
            "status": "open",
            "payment_status": "unpaid",
            "amount_total": 5000,
            "currency": "eur",
        },
    )
    event = EventFactory(total_capacity=10, price=Decimal("25.00"))
    body = checkout(user_api, event, 2)
    payment = Payment.objects.get(pk=body["payment"]["id"])

    page = Client().get(page_path(body["payment"]["payment_url"]))

    assert page.status_code == 302
    assert page["Location"] == SESSION_URL
    (sent,) = stripe_http.requests
    assert (sent["method"], sent["url"]) == (
        "POST",
        "https://api.stripe.com/v1/checkout/sessions",
    )
    assert sent["headers"]["Authorization"] == f"Bearer {SECRET_KEY}"
    back = f"https://tickets.example.com/checkout/{payment.token}/return/"
    assert sent["form"] == {
        "mode": "payment",
        "line_items[0][quantity]": "1",
        "line_items[0][price_data][currency]": "eur",
        "line_items[0][price_data][unit_amount]": "5000",
        "line_items[0][price_data][product_data][name]": f"Order #{payment.token}",
        "success_url": back,
        "cancel_url": back,
        "client_reference_id": payment.token,
        "customer_email": user.email,
    }
    payment.refresh_from_db()
    assert (payment.status, payment.transaction_id) == ("waiting", "cs_test_evently")
    assert payment.attrs.session["url"] == SESSION_URL

    # Opened again, the page sends the buyer to the same session without asking Stripe.
    again = Client().get(page_path(body["payment"]["payment_url"]))

    assert again.status_code == 302 and again["Location"] == SESSION_URL
    assert len(stripe_http.requests) == 1


def test_a_session_stripe_refuses_fails_the_payment_page_with_502(user_api, user, stripe_http):
    stripe_http.answers[("POST", "https://api.stripe.com/v1/checkout/sessions")] = (
        400,
        {"error": {"type": "invalid_request_error", "message": "Invalid currency: xyz"}},
    )
    event = EventFactory(total_capacity=10, price=Decimal("25.00"))
    booking, payment = pending(user_api, event, 2)

    page = Client().get(f"/checkout/{payment.token}/")

    assert page.status_code == 502
    assert b"Invalid currency: xyz" in page.content
    payment.refresh_from_db()
    booking.refresh_from_db()
    assert (payment.status, booking.status) == ("error", "pending_payment")
    assert Notification.objects.filter(user=user, type="payment_failed").count() == 1


def test_cancelling_a_booking_paid_through_stripe_refunds_its_payment_intent(
    user_api, user, stripe_http
):
    event = EventFactory(total_capacity=10, price=Decimal("12.50"))
    booking, payment = pending(user_api, event, 2)
    payload = session_event(payment)
    assert report(payload, signed(payload)).status_code == 200
    stripe_http.answers[("POST", "https://api.stripe.com/v1/refunds")] = (
        200,
        {
            "id": "re_test_evently",
            "object": "refund",
            "amount": 2500,
            "currency": "eur",
            "payment_intent": "pi_test_evently",
            "status": "succeeded",
        },
    )

    response = user_api.post(f"/api/bookings/{booking.pk}/cancel")

    assert response.status_code == 200
    assert (response.json()["status"], response.json()["refunded_amount"]) == (
        "cancelled",
        "25.00",
    )
    (sent,) = stripe_http.requests
    assert (sent["method"], sent["url"]) == ("POST", "https://api.stripe.com/v1/refunds")
    assert sent["form"] == {
        "payment_intent": "pi_test_evently",
        "amount": "2500",
        "reason": "requested_by_customer",
    }
    payment.refresh_from_db()
    assert payment.status == "refunded"
    assert json.loads(payment.attrs.refund)["id"] == "re_test_evently"
    event.refresh_from_db()
    assert (event.available_seats, event.booked_seats, event.revenue) == (10, 0, 0)
    assert_books_balance(event)
