"""Dates in the staff console: one form everywhere ("11 Dec 2030, 19:00", evently/formats),
in titles, breadcrumbs, filters and the date hierarchy as in the lists; date inputs name the
time zone they are read in."""

import re
from datetime import UTC, datetime

import pytest
from django.utils.html import strip_tags

from bookings.models import Booking, TicketCheckIn
from bookings.services import booking_cancel, booking_create
from boxoffice.services import event_cancel
from tests.factories import EventFactory, UserFactory
from waitlist.models import WaitlistEntry

pytestmark = pytest.mark.django_db

ISO_DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")
JAZZ_TIME = datetime(2030, 12, 11, 19, 0, tzinfo=UTC)


@pytest.fixture
def jazz():
    event = EventFactory(name="Evening Jazz", event_time=JAZZ_TIME, total_capacity=5)
    booking_create(event_id=event.pk, user=UserFactory(), quantity=2)
    return event


def page(staff, path: str) -> str:
    response = staff.get(path)
    assert response.status_code == 200, path
    return response.content.decode()


def text(html: str) -> str:
    """What a person reads: no tags, no attributes, no scripts."""
    html = re.sub(r"<(script|style)\b.*?</\1>", "", html, flags=re.S)
    return strip_tags(html)


def test_an_events_title_and_breadcrumbs_give_its_date_as_the_lists_do(staff, jazz):
    html = page(staff, f"/admin/events/event/{jazz.pk}/change/")
    assert "<title>Evening Jazz (11 Dec 2030, 19:00) | Change event |" in html
    breadcrumbs = re.search(r'<div class="breadcrumbs">(.*?)</div>', html, re.S).group(1)
    assert "Evening Jazz (11 Dec 2030, 19:00)" in breadcrumbs
    assert "11 Dec 2030, 19:00" in page(staff, "/admin/events/event/")  # the list's column
    assert not ISO_DATE.search(text(html))


def test_the_filters_name_events_with_the_same_date(staff, jazz):
    other = EventFactory(name="Other Night")  # a filter of one choice is not shown
    booking_create(event_id=other.pk, user=UserFactory(), quantity=1)
    html = page(staff, "/admin/bookings/booking/")
    filters = re.search(r'<nav id="changelist-filter".*?</nav>', html, re.S).group(0)
    assert "Evening Jazz (11 Dec 2030, 19:00)" in filters
    assert not ISO_DATE.search(text(filters))


def test_the_date_hierarchy_speaks_as_the_lists_do(staff, jazz):
    years = page(staff, "/admin/events/event/?event_time__year=2030")
    assert ">Dec 2030</a>" in years
    days = page(staff, "/admin/events/event/?event_time__year=2030&event_time__month=12")
    assert "&lsaquo; 2030</a>" in days and ">11 Dec</a>" in days
    day = page(
        staff, "/admin/events/event/?event_time__year=2030&event_time__month=12&event_time__day=11"
    )
    assert "&lsaquo; Dec 2030</a>" in day


def test_the_front_page_and_dashboard_give_dates_as_the_lists_do(staff, jazz):
    front = page(staff, "/admin/")
    assert '<td class="ev-nowrap">11 Dec 2030, 19:00</td>' in front  # coming up
    assert re.search(r'<span class="ev-date">\d{1,2} [A-Z][a-z]{2} \d{4} \(UTC\)</span>', front)
    dashboard = page(staff, "/admin/dashboard/")
    assert '<td class="ad-nowrap">11 Dec 2030, 19:00</td>' in dashboard  # next events


def test_the_cancel_and_message_pages_give_the_date_and_its_time_zone(staff, jazz):
    for action in ("cancel", "message"):
        html = page(staff, f"/admin/events/event/{jazz.pk}/{action}/")
        assert "11 Dec 2030, 19:00 (UTC) at Main Hall" in html


def test_no_console_page_shows_an_iso_date(staff, jazz, admin_user):
    # Every kind of record: bookings (one cancelled), an open offer, notifications, a check-in.
    first = Booking.objects.get(event=jazz)
    booking_create(event_id=jazz.pk, user=UserFactory(), quantity=3)
    booking_create(event_id=jazz.pk, user=UserFactory(), quantity=2)  # waits
    booking_cancel(booking_id=first.pk, actor=first.user)  # the waiting one is offered
    later = Booking.objects.filter(event=jazz, status="confirmed").first()
    check_in = TicketCheckIn.objects.create(
        booking=later, index=0, checked_in_at=JAZZ_TIME, checked_in_by=admin_user
    )
    assert WaitlistEntry.objects.filter(event=jazz, status="offered").exists()
    paths = [
        "/admin/",
        "/admin/events/event/",
        f"/admin/events/event/{jazz.pk}/change/",
        f"/admin/events/event/{jazz.pk}/cancel/",
        f"/admin/events/event/{jazz.pk}/message/",
        "/admin/bookings/booking/",
        f"/admin/bookings/booking/{first.pk}/change/",
        "/admin/bookings/ticketcheckin/",
        f"/admin/bookings/ticketcheckin/{check_in.pk}/change/",
        "/admin/waitlist/waitlistentry/?status=all",
        f"/admin/waitlist/waitlistentry/{WaitlistEntry.objects.get().pk}/change/",
        "/admin/notifications/notification/",
        "/admin/accounts/user/",
        "/admin/dashboard/",
    ]
    for path in paths:
        found = ISO_DATE.findall(text(page(staff, path)))
        assert not found, (path, found)


def test_a_check_ins_page_names_its_moment_in_the_console_format(staff, jazz, admin_user):
    booking = Booking.objects.get(event=jazz)
    check_in = TicketCheckIn.objects.create(
        booking=booking, index=0, checked_in_at=JAZZ_TIME, checked_in_by=admin_user
    )
    html = page(staff, f"/admin/bookings/ticketcheckin/{check_in.pk}/change/")
    assert f"ticket 1 of {booking.pk} in at 11 Dec 2030, 19:00" in html
    assert not ISO_DATE.search(text(html))


# --- The time zone beside date inputs -------------------------------------------------------


def test_the_event_forms_date_inputs_name_the_time_zone(staff, jazz, settings):
    for path in ("/admin/events/event/add/", f"/admin/events/event/{jazz.pk}/change/"):
        html = page(staff, path)
        widget = re.search(r'<p class="datetime">.*?</p>', html, re.S).group(0)
        assert 'name="event_time_0"' in widget and 'name="event_time_1"' in widget
        assert '<span class="ev-tz">Time zone: UTC</span>' in widget


def test_the_time_zone_named_is_the_sites(staff, jazz, settings):
    settings.TIME_ZONE = "Europe/Amsterdam"
    html = page(staff, f"/admin/events/event/{jazz.pk}/change/")
    assert '<span class="ev-tz">Time zone: Europe/Amsterdam</span>' in html
    assert 'value="20:00:00"' in html  # 19:00 UTC, shown in Amsterdam's winter time
    assert "Evening Jazz (11 Dec 2030, 20:00)" in html


def test_a_cancelled_events_page_has_no_inputs_to_name_a_zone_for(staff, jazz, admin_user):
    event_cancel(event_id=jazz.pk, actor=admin_user)
    html = page(staff, f"/admin/events/event/{jazz.pk}/change/")
    assert "ev-tz" not in html and "11 Dec 2030, 19:00" in html
