from datetime import timedelta

import pytest
from django.utils import timezone

from bookings.services import booking_create
from events.models import Event
from tests.factories import PASSWORD, EventFactory, UserFactory

pytestmark = pytest.mark.django_db


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
    # The read-only inlines (bookings, waitlist) still post their management forms, and so
    # does the ticket types' (none added or changed).
    for prefix in ("ticket_types", "bookings", "waitlist_entries"):
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


# --- The console: sections by task, today's figures ---------------------------------------


def test_header_says_evently_not_django(staff):
    html = staff.get("/admin/").content.decode()
    assert "Evently" in html and "Django administration" not in html
    assert "evently/console.css" in html and "evently/favicon.svg" in html


def test_index_groups_the_console_by_task(staff):
    response = staff.get("/admin/")
    sections = {
        app["name"]: [m["name"] for m in app["models"]] for app in response.context["app_list"]
    }
    assert sections == {
        "Box office": ["Events", "Bookings", "Payments", "Vouchers", "Waitlist entries"],
        "Door": ["Check-ins", "Check-in desk"],
        "People": ["Users and roles"],
        "Messages": ["Notifications and e-mail"],
        "Integrations": ["Webhook endpoints", "Webhook deliveries"],
        "Analytics": ["Analytics dashboard"],
        "Security": ["Refresh tokens", "Revoked refresh tokens"],
    }
    # The navigation beside every other page has the same sections.
    nav = staff.get("/admin/events/event/").context["available_apps"]
    assert [app["name"] for app in nav] == list(sections)


def test_token_tables_are_read_only_records_under_security(staff):
    html = staff.get("/admin/").content.decode()
    assert "/admin/token_blacklist/blacklistedtoken/add/" not in html
    assert staff.get("/admin/token_blacklist/blacklistedtoken/").status_code == 200
    assert staff.get("/admin/token_blacklist/outstandingtoken/").status_code == 200
    assert staff.get("/admin/token_blacklist/blacklistedtoken/add/").status_code == 403


def test_a_model_no_section_names_still_shows_under_other(staff, monkeypatch):
    from evently import admin_site

    sections = tuple(s for s in admin_site.SECTIONS if s.slug != "security")
    monkeypatch.setattr(admin_site, "SECTIONS", sections)
    apps = staff.get("/admin/").context["app_list"]
    assert apps[-1]["name"] == "Other"
    assert [m["object_name"] for m in apps[-1]["models"]] == [
        "BlacklistedToken",
        "OutstandingToken",
    ]


def test_an_app_page_still_lists_its_own_models(staff):
    response = staff.get("/admin/events/")
    assert response.status_code == 200
    assert [app["app_label"] for app in response.context["app_list"]] == ["events"]


def test_index_shows_todays_figures(staff):
    from bookings.services import booking_cancel, booking_create
    from tests.factories import UserFactory

    soon = EventFactory(
        name="Soon", total_capacity=4, price="10.00", event_time=timezone.now() + timedelta(days=1)
    )
    EventFactory(name="Later", event_time=timezone.now() + timedelta(days=9))
    ann, bob, cat = UserFactory.create_batch(3)
    booking_create(event_id=soon.pk, user=ann, quantity=3)
    bobs = booking_create(event_id=soon.pk, user=bob, quantity=1).booking
    booking_create(event_id=soon.pk, user=cat, quantity=2)  # waits for 2
    booking_cancel(booking_id=bobs.pk, actor=bob)  # one seat free: Cat still waits

    response = staff.get("/admin/")
    today = response.context["today"]
    assert (today["bookings"], today["tickets"], today["cancellations"]) == (2, 4, 1)
    assert str(today["revenue"]) == "30.00"
    assert (today["offers_waiting"], today["people_waiting"]) == (0, 1)
    assert today["next_event"]["name"] == "Soon"
    html = response.content.decode()
    assert "Bookings today" in html and "Revenue today" in html and "Offers waiting" in html
    assert "75%" in html  # Soon: 3 of 4 seats
    assert [row["name"] for row in response.context["upcoming"]] == ["Soon", "Later"]


def test_index_of_an_empty_console_says_so(staff):
    html = staff.get("/admin/").content.decode()
    assert "No scheduled event to come." in html


def test_the_booking_list_shows_50_rows_a_page(staff):
    event = EventFactory(total_capacity=100)
    for _ in range(51):
        booking_create(event_id=event.pk, user=UserFactory(), quantity=1)
    first = staff.get("/admin/bookings/booking/").content.decode()
    second = staff.get("/admin/bookings/booking/?p=2").content.decode()
    assert first.count('name="_selected_action"') == 50
    assert second.count('name="_selected_action"') == 1
    assert "51 bookings" in first


def test_a_failed_console_login_says_only_the_password_is_case_sensitive(client, admin_user):
    response = client.post(
        "/admin/login/", {"username": admin_user.email.upper(), "password": "WRONG"}
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "both fields may be case-sensitive" not in html
    assert "The password is case-sensitive; the e-mail address is not." in html
    # What it says holds: the address in capitals with the right password signs in.
    response = client.post(
        "/admin/login/", {"username": f" {admin_user.email.upper()}", "password": PASSWORD}
    )
    assert response.status_code == 302
