"""A checkout paid in a real browser: the buyer opens `payment_url`, django-payments' dummy
provider shows its form, the buyer pays, and the return page says the booking is confirmed.

Headless Chromium (tests/browser/chromium.py) against the live test server, whose address is
PUBLIC_URL, as a deployment's would be. Every run saves the form under pytest's temporary
directory; with EVENTLY_SCREENSHOTS=docs (`make screenshot`) it is docs/checkout-pay.png.
"""

from decimal import Decimal

import pytest

from bookings import checkout
from bookings.models import Booking
from bookings.services import booking_create
from tests.browser.chromium import (
    chromium,
    console_errors,
    require_chromium,
    save_page,
    sideways_scroll,
)
from tests.factories import EventFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)
WAIT = 15


@pytest.fixture
def browser():
    require_chromium()
    with chromium(1280, 820) as driver:
        yield driver


def test_a_buyer_pays_a_checkout_on_its_payment_page(live_server, browser, shots, settings):
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select, WebDriverWait

    settings.PAYMENT_PROVIDER = "dummy"
    settings.PUBLIC_URL = live_server.url
    event = EventFactory(
        name="Harbour Jazz", venue="Pier 4", total_capacity=50, price=Decimal("32.50")
    )
    buyer = UserFactory(name="Cleo Buyer")
    booking = booking_create(event_id=event.pk, user=buyer, quantity=2).booking
    url = checkout.payment_url(booking.payment)
    assert url.startswith(f"{live_server.url}/checkout/")

    browser.get(url)
    assert browser.find_element(By.ID, "amount").text == "65.00 EUR"
    assert "Harbour Jazz" in browser.find_element(By.ID, "pay-title").text
    Select(browser.find_element(By.NAME, "status")).select_by_value("confirmed")
    Select(browser.find_element(By.NAME, "fraud_status")).select_by_value("accept")
    Select(browser.find_element(By.NAME, "gateway_response")).select_by_value("3ds-disabled")
    save_page(browser, shots / "checkout-pay.png")
    assert sideways_scroll(browser) == []
    browser.find_element(By.ID, "submit-payment").click()

    # The form's page may still be there, or be going, when the body is read: its body is
    # then stale, and the wait reads the next page's.
    WebDriverWait(browser, WAIT, ignored_exceptions=[StaleElementReferenceException]).until(
        lambda d: "Paid: your booking is confirmed" in d.find_element(By.TAG_NAME, "body").text,
        message="the return page after paying",
    )
    assert browser.current_url == f"{live_server.url}/checkout/{booking.payment.token}/return/"
    assert Booking.objects.get(pk=booking.pk).status == "confirmed"
    assert console_errors(browser) == []
