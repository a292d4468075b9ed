"""The demo data a first `make run` shows, held to the bookings it made.

`load_demo_data` (evently/demo.py) books, cancels, serves waitlists, cancels an event and sends
messages over the past 30 days, through the services at their times; the overview and the
dashboard must then show, day by day, what the Booking rows say, and the story must have what
a newcomer is meant to see.
"""

import io
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core.management import call_command
from django.utils import timezone

from accounts.models import User
from bookings.models import Booking
from events.models import Event
from notifications.models import Notification
from tests.conftest import client_for
from tests.invariants import assert_books_balance
from waitlist.models import WaitlistEntry

pytestmark = pytest.mark.django_db

# Noon UTC: the activity and the figures read after it end on the same day.
NOW = datetime(2030, 3, 15, 12, 0, tzinfo=UTC)
TODAY = NOW.date()
ZERO = Decimal("0.00")


@pytest.fixture
def demo():
    """The demo data as `make run` loads it, at NOW; the test reads the figures at NOW too.
    The demo admin."""
    with time_machine.travel(NOW):
        call_command("load_demo_data", "--force", stdout=io.StringIO())
        yield User.objects.get(email="admin@evently.local")


def recount() -> dict[date, dict]:
    """Each UTC day's figures counted one booking at a time from the rows, as the overview
    defines them: bookings and tickets made that day, the revenue of those still confirmed,
    cancellations made that day, and offers accepted (by the day of their booking)."""
    days: dict[date, dict] = defaultdict(
        lambda: {
            "bookings": 0,
            "tickets": 0,
            "revenue": ZERO,
            "cancellations": 0,
            "waitlist_conversions": 0,
        }
    )
    for booking in Booking.objects.all():
        made = days[booking.booking_time.astimezone(UTC).date()]
        made["bookings"] += 1
        made["tickets"] += booking.quantity
        if booking.status == Booking.Status.CONFIRMED:
            made["revenue"] += booking.total_amount
        else:
            days[booking.cancelled_at.astimezone(UTC).date()]["cancellations"] += 1
    accepted = WaitlistEntry.objects.filter(status=WaitlistEntry.Status.ACCEPTED)
    for entry in accepted.select_related("booking"):
        days[entry.booking.booking_time.astimezone(UTC).date()]["waitlist_conversions"] += 1
    return dict(days)


def expected_series(days: dict[date, dict], first: date, last: date) -> list[dict]:
    empty = {"bookings": 0, "tickets": 0, "revenue": ZERO, "cancellations": 0}
    return [
        {"date": day, **empty, "waitlist_conversions": 0, **days.get(day, {})}
        for day in (first + timedelta(days=i) for i in range((last - first).days + 1))
    ]


def as_json(series: list[dict]) -> list[dict]:
    return [
        {**row, "date": row["date"].isoformat(), "revenue": f"{row['revenue']:.2f}"}
        for row in series
    ]


def assert_revenue_never_below_zero(revenues) -> None:
    running = ZERO
    for day, revenue in revenues:
        running += Decimal(revenue)
        assert Decimal(revenue) >= 0, f"{day}: revenue {revenue}"
        assert running >= 0, f"{day}: cumulative revenue {running}"


# Each load tells a month of story (several seconds), so each test checks several things.


def test_overview_and_dashboard_of_the_demo_month_equal_a_recount_of_its_bookings(client, demo):
    days = recount()
    first = min(days)
    # The whole month is inside the dashboard's default 30 days, and spread over it.
    assert TODAY - timedelta(days=29) <= first and max(days) <= TODAY
    assert sum(1 for figures in days.values() if figures["bookings"]) >= 20
    expected = as_json(expected_series(days, first, TODAY))

    response = client_for(demo).get(f"/api/admin/analytics/overview?from={first}&to={TODAY}")
    assert response.status_code == 200
    body = response.json()
    assert body["series"] == expected
    for key in ("bookings", "tickets", "cancellations", "waitlist_conversions"):
        assert body[key] == sum(row[key] for row in expected), key
    assert Decimal(body["revenue"]) == sum(Decimal(row["revenue"]) for row in expected)
    assert_revenue_never_below_zero((row["date"], row["revenue"]) for row in body["series"])
    for event in Event.objects.all():
        assert_books_balance(event)
    # Waitlists were served over the month, and an offer still open is within its time.
    assert body["waitlist_conversions"] > 0
    offered = WaitlistEntry.objects.filter(status=WaitlistEntry.Status.OFFERED)
    assert offered.exists()
    assert not offered.filter(offer_expires_at__lte=timezone.now()).exists()

    # The dashboard draws the same days.
    expected = expected_series(days, TODAY - timedelta(days=29), TODAY)
    client.force_login(demo)
    response = client.get("/admin/dashboard/?days=30")
    assert response.status_code == 200
    assert response.context["overview"]["series"] == expected
    assert [bar.value for bar in response.context["bookings_chart"].bars] == [
        row["bookings"] for row in expected
    ]
    revenue_bars = response.context["revenue_chart"].bars
    assert [bar.value for bar in revenue_bars] == [row["revenue"] for row in expected]
    assert_revenue_never_below_zero((bar.label, bar.value) for bar in revenue_bars)


def test_the_story_has_what_a_newcomer_should_see_and_loads_once(demo):
    now = timezone.now()
    events = Event.objects.all()
    for event in events:
        assert_books_balance(event)
    # Sold out, with people waiting and offers open within their time.
    workshop = Event.objects.get(name="Python Workshop: Async in Practice")
    assert workshop.available_seats == 0
    entries = WaitlistEntry.objects.filter(event=workshop)
    assert entries.filter(status="waiting").exists()
    assert entries.filter(status="offered", offer_expires_at__gt=now).exists()
    # Events that took place, with the tickets they sold.
    past = events.filter(event_time__lt=now, status="scheduled")
    assert past.count() == 2 and all(event.booked_seats > 0 for event in past)
    # Most of their tickets were let in at the door, some were not (the no-shows), and none of
    # another event's.
    from bookings.models import TicketCheckIn

    for event in past:
        inside = TicketCheckIn.objects.filter(booking__event=event).count()
        assert 0.6 * event.booked_seats <= inside < event.booked_seats, (inside, event)
    # Tonight's event is on the desk with its door open, people booked, the first few in.
    from bookings.tickets.selectors import checkin_window, desk_events

    [tonight] = desk_events()
    assert tonight.name == "Late Show: Open Mic Night"
    assert checkin_window(tonight).state() == "open"
    assert timedelta(hours=1) <= tonight.event_time - now <= timedelta(hours=2)
    assert tonight.booked_seats > 20 and tonight.checked_in == 5
    assert not TicketCheckIn.objects.exclude(booking__event__in=[*past, tonight]).exists()
    assert User.objects.get(email="door@evently.local").role == "scanner"
    # One called off: its bookings cancelled and everyone told.
    rooftop = Event.objects.get(status="cancelled")
    assert rooftop.cancelled_bookings > 0 and rooftop.booked_seats == 0
    assert Notification.objects.filter(event=rooftop, type="event_cancelled").exists()
    # Messages to ticket holders, and every e-mail recorded as sent, at its time.
    messages = Notification.objects.filter(type="event_message")
    assert messages.values("title").distinct().count() == 2
    assert not Notification.objects.exclude(email_status="sent").exists()
    # The story's mailer runs hourly.
    delays = [n.email_sent_at - n.created_at for n in Notification.objects.all()]
    assert timedelta(0) < min(delays) and max(delays) < timedelta(hours=1, minutes=1)
    # Bookings on most days of the month, and cancellations among them.
    days = {b.booking_time.date() for b in Booking.objects.all()}
    assert len(days) >= 25
    assert Booking.objects.filter(status="cancelled").count() >= 20
    # The demo user has a booking and a place in a queue.
    demo_user = User.objects.get(email="user@evently.local")
    assert Booking.objects.filter(user=demo_user, status="confirmed").exists()
    assert WaitlistEntry.objects.filter(user=demo_user, status__in=["waiting", "offered"]).exists()

    # Run again (as every `make run` does), it changes nothing and prints the logins.
    counts = (User.objects.count(), Booking.objects.count(), Notification.objects.count())
    out = io.StringIO()
    call_command("load_demo_data", "--force", stdout=out)
    assert (User.objects.count(), Booking.objects.count(), Notification.objects.count()) == counts
    text = out.getvalue()
    assert "already loaded" in text
    assert (
        "admin@evently.local / evently-admin" in text
        and "user@evently.local / evently-user" in text
    )
