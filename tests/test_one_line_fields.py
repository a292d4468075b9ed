"""Names, venues and titles are one line: a control character in them is a 400 naming the
field (a form error in the admin site), and nothing is written."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import User
from bookings.models import TicketAttendee
from bookings.services import booking_create
from events.models import Event
from notifications.models import Notification
from tests.factories import EventFactory, UserFactory
from tests.problems import assert_problem
from tests.test_admin_site import event_form

pytestmark = pytest.mark.django_db

# Inside the text, and at its end (trimming must not quietly take it off).
CONTROLS = [
    "Gala\r\nBcc: everyone@example.com",
    "Gala\n",
    "Ga\x00la",
    "Ga\tla",
    "Ga\x1bla",
    "Ga\x7fla",
    "Ga\x85la",
    "Ga\u2028la",
]
MESSAGE = "Must be one line: no line breaks, tabs or other control characters."


def assert_refused(response, field: str) -> None:
    body = assert_problem(response, 400, "validation_error")
    assert field in body["errors"], body
    assert any("one line" in m or "Null characters" in m for m in body["errors"][field]), body


def event_body(**overrides) -> dict:
    when = (timezone.now() + timedelta(days=9)).isoformat()
    return {
        "name": "Gala",
        "venue": "Hall",
        "event_time": when,
        "total_capacity": 10,
        "price": "5.00",
        **overrides,
    }


@pytest.mark.parametrize("text", CONTROLS)
def test_register_refuses_a_name_of_more_than_one_line(anon_api, text):
    body = {"name": text, "email": "ann@example.com", "password": "a-long-password-1"}
    assert_refused(anon_api.post("/api/auth/register", body, format="json"), "name")
    assert not User.objects.exists()


@pytest.mark.parametrize("field", ["name", "venue"])
@pytest.mark.parametrize("text", CONTROLS)
def test_an_event_name_or_venue_of_more_than_one_line_is_refused(admin_api, field, text):
    response = admin_api.post("/api/events", event_body(**{field: text}), format="json")
    assert_refused(response, field)
    assert not Event.objects.exists()


@pytest.mark.parametrize("field", ["name", "venue"])
def test_changing_an_event_to_more_than_one_line_is_refused(admin_api, field):
    event = EventFactory(name="Gala", venue="Hall")
    response = admin_api.patch(f"/api/events/{event.pk}", {field: "New\r\nline"}, format="json")
    assert_refused(response, field)
    event.refresh_from_db()
    assert (event.name, event.venue) == ("Gala", "Hall")


@pytest.mark.parametrize("text", CONTROLS)
def test_a_message_title_of_more_than_one_line_is_refused_and_nobody_is_notified(
    admin_api, user, text
):
    event = EventFactory()
    booking_create(event_id=event.pk, user=user, quantity=1)
    before = Notification.objects.count()
    response = admin_api.post(
        f"/api/admin/events/{event.pk}/messages", {"title": text, "message": "Hi"}, format="json"
    )
    assert_refused(response, "title")
    assert Notification.objects.count() == before


def test_a_ticket_holders_name_of_more_than_one_line_is_refused(user, user_api):
    event = EventFactory()
    booking = booking_create(event_id=event.pk, user=user, quantity=1).booking
    [ticket] = user_api.get(f"/api/bookings/{booking.pk}/tickets").json()["results"]
    response = user_api.patch(
        f"/api/tickets/{ticket['id']}", {"attendee_name": "Bo\nb"}, format="json"
    )
    assert_refused(response, "attendee_name")
    assert not TicketAttendee.objects.exists()


def test_one_line_text_with_any_script_is_still_welcome(admin_api):
    response = admin_api.post(
        "/api/events",
        event_body(name="Café Noël · 東京 - Ünïcode", venue="Salle « A »"),
        format="json",
    )
    assert response.status_code == 201, response.content


# --- The admin site ---------------------------------------------------------------------------


def test_the_admin_refuses_an_event_name_of_more_than_one_line(staff):
    response = staff.post("/admin/events/event/add/", event_form(name="Gala\r\nX", venue="H\x00"))
    assert response.status_code == 200  # the form again, with its errors
    errors = response.context["adminform"].form.errors
    assert MESSAGE in errors["name"]
    assert "venue" in errors
    assert not Event.objects.exists()


def test_the_admin_refuses_a_message_title_of_more_than_one_line(staff, user):
    event = EventFactory()
    booking_create(event_id=event.pk, user=user, quantity=1)
    before = Notification.objects.count()
    response = staff.post(
        f"/admin/events/event/{event.pk}/message/", {"title": "Hi\r\nBcc: x", "message": "Hi"}
    )
    assert response.status_code == 200
    assert MESSAGE in response.context["form"].errors["title"]
    assert Notification.objects.count() == before


def test_the_admin_refuses_a_user_name_of_more_than_one_line(staff):
    ann = UserFactory(email="ann@example.com", name="Ann")
    response = staff.post(
        f"/admin/accounts/user/{ann.pk}/change/",
        {"email": ann.email, "name": "Ann\nBcc", "role": "user", "is_active": "on"},
    )
    assert response.status_code == 200
    assert MESSAGE in response.context["adminform"].form.errors["name"]
    ann.refresh_from_db()
    assert ann.name == "Ann"
