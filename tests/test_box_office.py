"""The Django admin as a box office: every action goes through a service."""

import csv
import io
from datetime import timedelta

import pytest
from django.utils import timezone

from bookings.models import Booking
from bookings.services import booking_cancel, booking_create
from tests.factories import EventFactory, UserFactory
from tests.invariants import assert_books_balance
from waitlist.models import WaitlistEntry

pytestmark = pytest.mark.django_db


@pytest.fixture
def busy():
    """3 seats: two holders (2 + 1), a waiting queue of Wes (1) then Val (2)."""
    event = EventFactory(total_capacity=3, name="Busy Night")
    ann = UserFactory(email="ann@box.example.com")
    bob = UserFactory(email="bob@box.example.com")
    wes = UserFactory(email="wes@box.example.com")
    val = UserFactory(email="val@box.example.com")
    first = booking_create(event_id=event.pk, user=ann, quantity=2).booking
    second = booking_create(event_id=event.pk, user=bob, quantity=1).booking
    wes_entry = booking_create(event_id=event.pk, user=wes, quantity=1).waitlist_entry
    val_entry = booking_create(event_id=event.pk, user=val, quantity=2).waitlist_entry
    return event, first, second, wes_entry, val_entry


def act(staff, url, action, objects):
    return staff.post(
        url, {"action": action, "_selected_action": [str(o.pk) for o in objects]}, follow=True
    )


def test_event_pages_show_seats_utilization_inlines_and_export(staff, busy):
    event, *_ = busy
    listing = staff.get("/admin/events/event/").content.decode()
    csv_url = f"/admin/events/event/{event.pk}/bookings.csv"
    assert "Busy Night" in listing and "100%" in listing and f'href="{csv_url}"' in listing
    assert "3 of 3" in listing  # tickets of capacity
    page = staff.get(f"/admin/events/event/{event.pk}/change/").content.decode()
    assert "ann@box.example.com" in page  # bookings inline
    assert "wes@box.example.com" in page and "val@box.example.com" in page  # waitlist inline


def test_event_inlines_name_people_not_ids(staff, busy):
    event, first, second, wes_entry, val_entry = busy
    page = staff.get(f"/admin/events/event/{event.pk}/change/").content.decode()
    for record in (first, second, wes_entry, val_entry):
        assert str(record) not in page  # "2 x <event id> for <user id> (confirmed)"
        assert str(record.user_id) not in page
    for booking in (first, second):
        assert f"/admin/bookings/booking/{booking.pk}/change/" in page
    assert page.count('class="ev-badge ev-badge-ok">Confirmed<') == 2
    assert page.count('class="ev-badge ev-badge-info">Waiting<') == 2
    assert f"/admin/bookings/booking/?event__id__exact={event.pk}" in page
    assert f"/admin/waitlist/waitlistentry/?status=all&amp;event__id__exact={event.pk}" in page


def test_event_page_of_an_event_nobody_booked_says_so(staff):
    event = EventFactory()
    page = staff.get(f"/admin/events/event/{event.pk}/change/").content.decode()
    assert "No bookings yet." in page and "Nobody is waiting." in page


@pytest.mark.parametrize(
    "path",
    [
        "/admin/bookings/booking/",
        "/admin/waitlist/waitlistentry/",
        "/admin/notifications/notification/",
        "/admin/events/event/",
    ],
)
def test_lists_name_people_and_show_short_times(staff, busy, path):
    html = staff.get(path).content.decode()
    if "events" not in path:
        assert "@box.example.com" in html  # the person, not their id
    # Django's English format ("Dec. 9, 2026, 7 p.m.") is the console's shorter one.
    assert " p.m." not in html and " a.m." not in html


def test_record_pages_are_titled_by_person_and_event(staff, busy):
    _, first, _second, wes_entry, _ = busy
    page = staff.get(f"/admin/bookings/booking/{first.pk}/change/").content.decode()
    label = f"{first.user.name}, 2 seat(s) for Busy Night"
    assert label in page
    assert str(first) not in page
    page = staff.get(f"/admin/waitlist/waitlistentry/{wes_entry.pk}/change/").content.decode()
    assert f"{wes_entry.user.name}, 1 seat(s) waiting for Busy Night" in page


def test_cancel_event_action_runs_the_service(staff, busy):
    event, *_ = busy
    response = act(staff, "/admin/events/event/", "cancel_events", [event])
    assert "Events cancelled: 1." in response.content.decode()
    event.refresh_from_db()
    assert event.status == "cancelled"
    assert set(Booking.objects.values_list("status", flat=True)) == {"cancelled"}
    assert set(WaitlistEntry.objects.values_list("status", flat=True)) == {"cancelled"}
    assert_books_balance(event)
    # A cancelled event is read-only in the admin.
    page = staff.get(f"/admin/events/event/{event.pk}/change/").content.decode()
    assert 'name="total_capacity"' not in page


def test_bookings_filter_search_and_cancel_through_the_service(staff, busy):
    event, _first, second, wes_entry, _val_entry = busy
    found = staff.get("/admin/bookings/booking/?q=bob@box").content.decode()
    assert "bob@box.example.com" in found and "ann@box.example.com" not in found
    by_event = staff.get(f"/admin/bookings/booking/?event__id__exact={event.pk}&status=confirmed")
    assert by_event.status_code == 200

    response = act(staff, "/admin/bookings/booking/", "cancel_bookings", [second])
    assert "Bookings cancelled: 1." in response.content.decode()
    second.refresh_from_db()
    wes_entry.refresh_from_db()
    assert second.status == "cancelled"
    assert wes_entry.status == "offered"  # the freed seat went down the queue
    assert_books_balance(event)


def test_booking_records_cannot_be_edited_or_added(staff, busy):
    _, first, *_ = busy
    view = staff.get(f"/admin/bookings/booking/{first.pk}/change/")
    assert view.status_code == 200
    assert 'name="quantity"' not in view.content.decode()
    assert (
        staff.post(
            f"/admin/bookings/booking/{first.pk}/change/", {"status": "cancelled", "quantity": 9}
        ).status_code
        == 403
    )
    assert staff.get("/admin/bookings/booking/add/").status_code == 403
    first.refresh_from_db()
    assert (first.status, first.quantity) == ("confirmed", 2)


def test_waitlist_in_serving_order_with_positions(staff, busy):
    page = staff.get("/admin/waitlist/waitlistentry/").content.decode()
    assert page.index("wes@box.example.com") < page.index("val@box.example.com")


def test_priority_is_editable_and_nothing_else(staff, busy):
    event, first, _second, _wes_entry, val_entry = busy
    response = staff.post(
        f"/admin/waitlist/waitlistentry/{val_entry.pk}/change/",
        {"priority": "5", "status": "offered", "quantity": "1"},
    )
    assert response.status_code == 302
    val_entry.refresh_from_db()
    assert (val_entry.priority, val_entry.status, val_entry.quantity) == (5, "waiting", 2)
    booking_cancel(booking_id=first.pk, actor=first.user)  # two seats: Val now comes first
    val_entry.refresh_from_db()
    assert val_entry.status == "offered"
    assert_books_balance(event)


def test_expire_offer_and_offer_seats_now_actions(staff, busy):
    event, first, second, wes_entry, val_entry = busy
    booking_cancel(booking_id=second.pk, actor=second.user)
    wes_entry.refresh_from_db()
    assert wes_entry.status == "offered"
    response = act(staff, "/admin/waitlist/waitlistentry/", "expire_offers", [wes_entry])
    assert "Offers expired: 1." in response.content.decode()
    wes_entry.refresh_from_db()
    assert wes_entry.status == "expired"
    assert_books_balance(event)

    booking_cancel(booking_id=first.pk, actor=first.user)  # Val (2) offered, 1 seat free
    val_entry.refresh_from_db()
    WaitlistEntry.objects.filter(pk=val_entry.pk).update(
        offer_expires_at=timezone.now() - timedelta(seconds=1)
    )
    late = booking_create(event_id=event.pk, user=UserFactory(), quantity=3).waitlist_entry
    response = act(staff, "/admin/waitlist/waitlistentry/", "offer_seats_now", [val_entry])
    assert "New offers made: 1." in response.content.decode()
    late.refresh_from_db()
    val_entry.refresh_from_db()
    assert (val_entry.status, late.status) == ("expired", "offered")
    assert_books_balance(event)


def test_admin_csv_export_of_an_event(staff, busy, client):
    event, *_ = busy
    response = staff.get(f"/admin/events/event/{event.pk}/bookings.csv")
    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert sorted(r["user_email"] for r in rows) == ["ann@box.example.com", "bob@box.example.com"]


def test_admin_csv_export_needs_staff(client, user, busy):
    event, *_ = busy
    client.force_login(user)
    response = client.get(f"/admin/events/event/{event.pk}/bookings.csv")
    assert response.status_code == 302


@pytest.mark.parametrize(
    "path",
    ["/admin/notifications/notification/", "/admin/accounts/user/?q=box.example&role__exact=user"],
)
def test_other_staff_pages_render(staff, busy, path):
    assert staff.get(path).status_code == 200
