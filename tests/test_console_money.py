"""Money in the staff console names its currency, as the CURRENCY setting does: beside each
figure standing alone ("GBP 25.00"), in the heading of a column of them ("Amount (GBP)")."""

from decimal import Decimal

import pytest
from django.conf import settings as django_settings

from bookings.services import booking_create
from boxoffice.services import event_cancel
from tests.factories import EventFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def pounds(settings):
    settings.CURRENCY = "GBP"


@pytest.fixture
def sold():
    """An event at 12.50 a seat, with one booking of two seats (25.00)."""
    event = EventFactory(name="Priced Night", price=Decimal("12.50"), total_capacity=10)
    booking = booking_create(event_id=event.pk, user=UserFactory(), quantity=2).booking
    return event, booking


def html(staff, path: str) -> str:
    response = staff.get(path)
    assert response.status_code == 200, path
    return response.content.decode()


def test_the_currency_is_eur_unless_set():
    assert django_settings.CURRENCY == "EUR"


def test_the_booking_list_and_page_name_the_currency(staff, pounds, sold):
    _, booking = sold
    listing = html(staff, "/admin/bookings/booking/")
    assert "Amount (GBP)" in listing and '<td class="field-amount">25.00</td>' in listing
    record = html(staff, f"/admin/bookings/booking/{booking.pk}/change/")
    assert "Amount (GBP):" in record and '<div class="readonly">25.00</div>' in record


def test_the_event_list_form_and_figures_name_the_currency(staff, pounds, sold):
    event, _ = sold
    assert "Price (GBP)" in html(staff, "/admin/events/event/")
    page = html(staff, f"/admin/events/event/{event.pk}/change/")
    assert '<label class="required" for="id_price">Price (GBP):</label>' in page
    assert "<span>Revenue</span><strong>GBP 25.00</strong>" in page
    assert "Amount (GBP)" in page  # the bookings under the form
    assert "GBP 25.00 in sales" in html(staff, f"/admin/events/event/{event.pk}/cancel/")
    assert "Price (GBP)" in html(staff, "/admin/events/event/add/")


def test_a_cancelled_events_read_only_price_names_the_currency(staff, pounds, sold, admin_user):
    event, _ = sold
    event_cancel(event_id=event.pk, actor=admin_user)
    page = html(staff, f"/admin/events/event/{event.pk}/change/")
    assert "<label>Price (GBP):</label>" in page
    assert '<div class="readonly">12.50</div>' in page


def test_the_front_page_and_dashboard_name_the_currency(staff, pounds, sold):
    assert "<strong>GBP 25.00</strong>" in html(staff, "/admin/")  # revenue today
    dashboard = html(staff, "/admin/dashboard/")
    # Its figures share a row of narrow cards: the currency goes in the label, as over a column.
    assert "<span>Revenue (GBP)</span><strong>25.00</strong>" in dashboard
    assert "Revenue per day (GBP)" in dashboard and "Revenue (GBP)</th>" in dashboard
