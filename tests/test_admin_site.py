from datetime import timedelta

import pytest
from django.utils import timezone

from events.models import Event
from tests.factories import EventFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(client, admin_user):
    client.force_login(admin_user)
    return client


@pytest.mark.parametrize(
    "path",
    [
        "/admin/",
        "/admin/accounts/user/",
        "/admin/accounts/user/add/",
        "/admin/events/event/",
        "/admin/events/event/add/",
        "/admin/events/event/?status__exact=scheduled&q=hall",
    ],
)
def test_admin_pages_render_for_staff(staff, path):
    EventFactory()
    assert staff.get(path).status_code == 200


def test_change_pages_render(staff, admin_user):
    event = EventFactory()
    assert staff.get(f"/admin/events/event/{event.pk}/change/").status_code == 200
    assert staff.get(f"/admin/accounts/user/{admin_user.pk}/change/").status_code == 200


def test_plain_users_cannot_enter_the_admin(client, user):
    client.force_login(user)
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def event_form(**overrides):
    when = timezone.now() + timedelta(days=5)
    data = {
        "name": "Admin Gala",
        "description": "",
        "venue": "Hall",
        "event_time_0": when.strftime("%Y-%m-%d"),
        "event_time_1": when.strftime("%H:%M:%S"),
        "price": "12.50",
        "total_capacity": "40",
    }
    # The read-only inlines (bookings, waitlist) still post their management forms.
    for prefix in ("bookings", "waitlist_entries"):
        data.update({f"{prefix}-TOTAL_FORMS": "0", f"{prefix}-INITIAL_FORMS": "0"})
    data.update(overrides)
    return data


def test_admin_add_event_goes_through_the_service(staff, admin_user):
    response = staff.post("/admin/events/event/add/", event_form())
    assert response.status_code == 302, response.content
    event = Event.objects.get(name="Admin Gala")
    assert (event.total_capacity, event.available_seats, event.created_by) == (40, 40, admin_user)


def test_admin_cannot_edit_seat_counters_or_status(staff):
    event = EventFactory(total_capacity=10)
    form = event_form(
        name=event.name,
        total_capacity="12",
        available_seats="999",
        booked_seats="5",
        status="cancelled",
    )
    response = staff.post(f"/admin/events/event/{event.pk}/change/", form)
    assert response.status_code == 302
    event.refresh_from_db()
    assert (event.total_capacity, event.available_seats, event.booked_seats, event.status) == (
        12,
        12,
        0,
        "scheduled",
    )


def test_admin_capacity_below_taken_is_a_form_error(staff):
    event = EventFactory(total_capacity=10, available_seats=2, booked_seats=8)
    response = staff.post(
        f"/admin/events/event/{event.pk}/change/", event_form(name=event.name, total_capacity="5")
    )
    assert response.status_code == 200
    assert "Cannot drop below 8" in response.content.decode()
    event.refresh_from_db()
    assert event.total_capacity == 10


def test_admin_add_user_normalizes_email(staff):
    response = staff.post(
        "/admin/accounts/user/add/",
        {
            "email": "New@Example.com",
            "name": "New",
            "role": "admin",
            "usable_password": "true",
            "password1": "a-long-staff-password",
            "password2": "a-long-staff-password",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    from accounts.models import User

    created = User.objects.get(email="new@example.com")
    assert created.is_staff and created.check_password("a-long-staff-password")
