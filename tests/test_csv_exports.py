"""Every CSV staff download escapes cells a spreadsheet would run as a formula."""

import csv
import io

import pytest

from bookings.services import booking_create
from core.csv import csv_lines, safe_cell
from tests.factories import EventFactory, UserFactory

pytestmark = pytest.mark.django_db

HOSTILE_NAME = '=HYPERLINK("http://evil.example/","x")'
HOSTILE_EMAIL = "=1+1@x.com"


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ("=1+1", "'=1+1"),
        ("+41 22 000", "'+41 22 000"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("Ann = Bob", "Ann = Bob"),
        ("49.99", "49.99"),
        (None, ""),
        (3, "3"),
    ],
)
def test_formula_leading_cells_are_prefixed_with_a_quote(value, written):
    assert safe_cell(value) == written


def test_the_header_row_is_escaped_too():
    assert list(csv_lines(["=a", "b"], [])) == ["'=a,b\r\n"]


@pytest.fixture
def hostile_booking():
    event = EventFactory(name="Gala")
    mallory = UserFactory(name=HOSTILE_NAME, email=HOSTILE_EMAIL)
    booking_create(event_id=event.pk, user=mallory, quantity=1)
    return event


def _rows(response) -> list[dict]:
    return list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))


def test_the_api_export_escapes_a_hostile_name_and_email(admin_api, hostile_booking):
    response = admin_api.get(f"/api/admin/events/{hostile_booking.pk}/bookings.csv")
    assert response.status_code == 200
    [row] = _rows(response)
    assert row["user_name"] == "'" + HOSTILE_NAME
    assert row["user_email"] == "'" + HOSTILE_EMAIL


def test_the_admin_site_export_escapes_a_hostile_name_and_email(
    client, admin_user, hostile_booking
):
    client.force_login(admin_user)
    response = client.get(f"/admin/events/event/{hostile_booking.pk}/bookings.csv")
    assert response.status_code == 200
    [row] = _rows(response)
    assert (row["user_name"], row["user_email"]) == ("'" + HOSTILE_NAME, "'" + HOSTILE_EMAIL)


def test_the_admin_site_export_of_an_unknown_event_is_404(client, admin_user):
    client.force_login(admin_user)
    response = client.get("/admin/events/event/3f1c6a9e-0000-4000-8000-000000000000/bookings.csv")
    assert response.status_code == 404
