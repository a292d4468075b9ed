from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from analytics import charts, selectors
from bookings.services import booking_cancel, booking_create, waitlist_offer_accept
from bookings.tickets.codes import TicketRef
from bookings.tickets.services import ticket_check_in
from boxoffice.services import event_cancel
from events.models import Event
from tests.factories import AdminFactory, EventFactory, TicketTypeFactory, UserFactory
from waitlist.services import (
    waitlist_entry_leave,
    waitlist_offer_expire,
)

URL = "/admin/dashboard/"


@pytest.fixture
def staff(client, admin_user):
    client.force_login(admin_user)
    return client


def people(*names):
    return [UserFactory(email=f"{n}@dash.example.com", name=n.title()) for n in names]


@pytest.fixture
def sales(db):
    """ "Gala", 10 seats at 25.00: Ann books 4, Bob 3 and Cat 2; Eve waits for 3, Dan for 5.
    Bob cancels, Eve is offered his 3 seats and accepts; Dan never fits. "Small" sells Ann
    one ticket at 10.00. Confirmed revenue: 9 x 25.00 + 10.00 = 235.00."""
    gala = EventFactory(name="Gala", total_capacity=10, price=Decimal("25.00"))
    ann, bob, cat, dan, eve = people("ann", "bob", "cat", "dan", "eve")
    booking_create(event_id=gala.pk, user=ann, quantity=4)
    bob_booking = booking_create(event_id=gala.pk, user=bob, quantity=3).booking
    booking_create(event_id=gala.pk, user=cat, quantity=2)
    eve_entry = booking_create(event_id=gala.pk, user=eve, quantity=3).waitlist_entry
    booking_create(event_id=gala.pk, user=dan, quantity=5)
    booking_cancel(booking_id=bob_booking.pk, actor=bob)
    waitlist_offer_accept(entry_id=eve_entry.pk, user=eve)
    small = EventFactory(
        name="Small",
        total_capacity=4,
        price=Decimal("10.00"),
        event_time=timezone.now() + timedelta(days=60),
    )
    booking_create(event_id=small.pk, user=ann, quantity=1)
    return gala, small


@pytest.fixture
def offers(db):
    """Every outcome of a waitlist offer on a 2-seat event: one accepted, one expired, one
    declined, one still open; one entry still waiting and one that left before any offer."""
    event = EventFactory(name="Tiny", total_capacity=2, price=Decimal("5.00"))
    owner, *waiters = people("owner", "w1", "w2", "w3", "w4", "w5", "w6")
    booking = booking_create(event_id=event.pk, user=owner, quantity=2).booking
    entries = [
        booking_create(event_id=event.pk, user=w, quantity=1).waitlist_entry for w in waiters
    ]
    waitlist_entry_leave(entry_id=entries[5].pk, user=waiters[5])  # left while waiting
    booking_cancel(booking_id=booking.pk, actor=owner)  # w1 and w2 are offered a seat each
    waitlist_offer_accept(entry_id=entries[0].pk, user=waiters[0])
    waitlist_offer_expire(entry_id=entries[1].pk, actor=AdminFactory())  # w3 is offered
    waitlist_entry_leave(entry_id=entries[2].pk, user=waiters[2])  # w4 is offered, keeps it
    return event


# --- The page ---------------------------------------------------------------------------------


def test_dashboard_shows_the_period_figures_for_staff(staff, sales):
    gala, _ = sales
    response = staff.get(URL)
    assert response.status_code == 200
    overview = response.context["overview"]
    assert (overview["bookings"], overview["tickets"], overview["revenue"]) == (
        5,
        13,
        Decimal("235.00"),
    )
    assert (overview["cancellations"], overview["waitlist_conversions"]) == (1, 1)
    html = response.content.decode()
    assert "235.00" in html
    assert "Gala" in html and "Small" in html
    assert reverse("admin:events_event_change", args=[gala.pk]) in html
    # Every card has figures but attendance: none of these events is over yet.
    assert html.count("No data yet") == 1 and "no past event sold tickets" in html
    # The admin chrome is there: the page is part of the admin site.
    assert "Evently" in html and "Analytics dashboard" in html
    # Top events, most tickets first; Gala is 9 of 10 sold.
    assert [row["name"] for row in response.context["top_events"]] == ["Gala", "Small"]
    assert response.context["upcoming"][0]["sold_percent"] == 90


def test_dashboard_draws_one_bar_per_day_of_the_period(staff, sales):
    response = staff.get(URL + "?days=7")
    assert response.context["days"] == 7
    bars = response.context["bookings_chart"].bars
    assert len(bars) == 7
    assert [bar.value for bar in bars] == [0, 0, 0, 0, 0, 0, 5]  # every booking is today
    assert response.content.decode().count('class="ad-bar"') == 7


def test_empty_database_shows_no_data_yet_instead_of_charts(staff):
    response = staff.get(URL)
    assert response.status_code == 200
    html = response.content.decode()
    # Daily bookings, daily revenue, utilization, waitlist conversion, top events and the
    # attendance of past events.
    assert html.count("No data yet") == 6
    for chart in ('class="ad-chart"', 'class="ad-meter"', 'class="ad-stack"'):
        assert chart not in html


@pytest.mark.parametrize(
    ("query", "days"),
    [
        ("", 30),
        ("?days=abc", 30),
        ("?days=", 30),
        ("?days=6", 30),
        ("?days=367", 30),
        ("?days=-7", 30),
        ("?days=7", 7),
        ("?days=90", 90),
        ("?days=366", 366),
    ],
)
def test_days_outside_7_to_366_fall_back_to_30(staff, query, days):
    response = staff.get(URL + query)
    assert response.status_code == 200
    assert response.context["days"] == days
    assert len(response.context["bookings_chart"].bars) == days


def test_plain_users_and_visitors_are_sent_to_the_admin_login(client, user):
    response = client.get(URL)
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")
    client.force_login(user)
    response = client.get(URL)
    assert response.status_code == 302
    assert response["Location"] == f"/admin/login/?next={URL}"


def test_admin_index_links_to_the_dashboard(staff):
    html = staff.get("/admin/").content.decode()
    assert reverse("admin-dashboard") == URL
    assert f'href="{URL}"' in html
    assert "Analytics dashboard" in html


@pytest.mark.parametrize("extra_events", [0, 20])
def test_dashboard_query_count_is_fixed(
    staff, sales, offers, extra_events, django_assert_num_queries
):
    EventFactory.create_batch(extra_events)
    # 1 session, 2 user; 3 the period's day totals (sales_overview); 4 upcoming events with
    # their counters; 5 popular events; 6 past events with their check-ins (attendance);
    # 7 waitlist offers by outcome; 8 the ticket types of upcoming events selling several.
    with django_assert_num_queries(8):
        assert staff.get(URL).status_code == 200


# --- Selectors --------------------------------------------------------------------------------


def test_waitlist_conversion_counts_every_entry_ever_offered_by_outcome(offers):
    assert selectors.waitlist_conversion() == {
        "offered": 4,
        "accepted": 1,
        "expired": 1,
        "still_offered": 1,
        "cancelled": 1,
    }


def test_waitlist_conversion_is_all_zero_without_offers(db):
    assert set(selectors.waitlist_conversion().values()) == {0}


def test_upcoming_utilization_lists_scheduled_future_events_soonest_first(offers):
    now = timezone.now()
    later = EventFactory(name="Later", event_time=now + timedelta(days=40))
    EventFactory(name="Past", event_time=now - timedelta(days=1))
    EventFactory(name="Off", status=Event.Status.CANCELLED, event_time=now + timedelta(days=2))
    rows = selectors.upcoming_utilization(limit=15)
    assert [row["name"] for row in rows] == ["Tiny", "Later"]
    tiny = rows[0]
    # w1 holds a confirmed ticket, w4 an open offer for the other seat.
    assert (tiny["total_capacity"], tiny["confirmed_tickets"], tiny["held_seats"]) == (2, 1, 1)
    assert tiny["utilization"] == 0.5
    assert rows[1]["event_id"] == later.pk
    assert len(selectors.upcoming_utilization(limit=1)) == 1


def test_dashboard_shows_held_seats_in_their_own_shade(staff, offers):
    html = staff.get(URL).content.decode()
    assert "<title>1 held</title>" in html
    row = staff.get(URL).context["upcoming"][0]
    assert [(s.x, s.width) for s in row["meter"]] == [(0, 90), (90, 90)]


# --- Chart geometry ---------------------------------------------------------------------------

# A 100 x 100 plot area with 20px margins at the sides and 10px above and below.
FRAME = charts.Frame(width=140, height=120, left=20, right=20, top=10, bottom=10)


def test_series_chart_places_bars_ticks_and_labels_exactly():
    chart = charts.series_chart([0, 3, 8, 5], ["a", "b", "c", "d"], frame=FRAME, max_labels=2)
    # Largest value 8 over 4 ticks: a step of 2, so the axis tops out at 8.
    assert [(t.y, t.label) for t in chart.ticks] == [
        (110, "0"),
        (85, "2"),
        (60, "4"),
        (35, "6"),
        (10, "8"),
    ]
    # Slots of 25px, bars 70% of that (17.5px) centred in them.
    assert [(b.x, b.y, b.width, b.height) for b in chart.bars] == [
        (23.75, 110, 17.5, 0),
        (48.75, 72.5, 17.5, 37.5),
        (73.75, 10, 17.5, 100),
        (98.75, 47.5, 17.5, 62.5),
    ]
    # Every second day is labelled, counting back from the last.
    assert [(x.x, x.text) for x in chart.x_labels] == [(57.5, "b"), (107.5, "d")]
    assert chart.points == "32.5,110 57.5,72.5 82.5,10 107.5,47.5"
    assert chart.area == "32.5,110 32.5,110 57.5,72.5 82.5,10 107.5,47.5 107.5,110"


def test_series_chart_takes_money_and_all_zero_series():
    money = charts.series_chart([Decimal("10.00"), Decimal("50.00")], ["x", "y"], frame=FRAME)
    assert [t.label for t in money.ticks] == ["0", "20", "40", "60", "80"]
    assert [b.y for b in money.bars] == [97.5, 47.5]
    zeros = charts.series_chart([0, 0], ["x", "y"], frame=FRAME)
    assert [t.label for t in zeros.ticks] == ["0", "1", "2", "3", "4"]
    assert {b.height for b in zeros.bars} == {0}


def test_series_chart_of_nothing_is_empty():
    chart = charts.series_chart([], [], frame=FRAME)
    assert (chart.bars, chart.x_labels, chart.points, chart.area) == ([], [], "", "")


@pytest.mark.parametrize(
    ("largest", "step"),
    [(0, 1), (4, 1), (7, 2), (8, 2), (9, 5), (15, 5), (100, 25), (101, 50), (2000, 500)],
)
def test_nice_step_is_a_round_whole_number(largest, step):
    assert charts.nice_step(largest) == step


@pytest.mark.parametrize(
    ("value", "label"),
    [(0, "0"), (950, "950"), (1000, "1k"), (2500, "2.5k"), (12000, "12k"), (1_200_000, "1.2M")],
)
def test_compact_axis_labels(value, label):
    assert charts.compact(value) == label


def test_stacked_bar_lays_shares_end_to_end():
    assert charts.stacked_bar([30, 10], total=100, width=200) == [
        charts.Segment(x=0, width=60, value=30),
        charts.Segment(x=60, width=20, value=10),
    ]
    # Without a total the parts fill the bar.
    assert [(s.x, s.width) for s in charts.stacked_bar([3, 1], width=100)] == [(0, 75), (75, 25)]
    # Nothing to divide by: no width; more than the total: clipped at the end of the bar.
    assert [s.width for s in charts.stacked_bar([0, 0], width=100)] == [0, 0]
    assert [(s.x, s.width) for s in charts.stacked_bar([8, 5], total=10, width=100)] == [
        (0, 80),
        (80, 20),
    ]


def test_percent_rounds_and_survives_zero():
    assert (charts.percent(1, 3), charts.percent(2, 3), charts.percent(5, 0)) == (33, 67, 0)


# --- Attendance ---------------------------------------------------------------------------------


@pytest.fixture
def past_nights(db):
    """Two past events: "Last Week" sold 4 tickets and 3 were let in; "Yesterday" sold 5 and 1
    came. A past event with no sale and a cancelled one are left out; a future one too."""
    admin = AdminFactory()
    figures = {}
    for name, days, sold, came in (("Last Week", 7, 4, 3), ("Yesterday", 1, 5, 1)):
        event = EventFactory(name=name, total_capacity=10, tonight=True)  # its door open
        booking = booking_create(event_id=event.pk, user=UserFactory(), quantity=sold).booking
        for index in range(came):
            ticket_check_in(ref=TicketRef(booking.pk, index), actor=admin)
        Event.objects.filter(pk=event.pk).update(event_time=timezone.now() - timedelta(days=days))
        figures[name] = event
    EventFactory(name="Nobody Came", event_time=timezone.now() - timedelta(days=2))
    called_off = EventFactory(name="Called Off", total_capacity=5)
    booking_create(event_id=called_off.pk, user=UserFactory(), quantity=2)
    event_cancel(event_id=called_off.pk, actor=admin)
    Event.objects.filter(pk=called_off.pk).update(event_time=timezone.now() - timedelta(days=3))
    booking_create(event_id=EventFactory(name="Upcoming").pk, user=UserFactory(), quantity=2)
    return figures


def test_past_attendance_counts_the_no_shows_newest_first(past_nights):
    attendance = selectors.past_attendance()
    rows = [
        (e["name"], e["confirmed_tickets"], e["checked_in"], e["no_shows"], e["no_show_rate"])
        for e in attendance["events"]
    ]
    assert rows == [("Yesterday", 5, 1, 4, 0.8), ("Last Week", 4, 3, 1, 0.25)]
    assert {k: v for k, v in attendance.items() if k != "events"} == {
        "tickets": 9,
        "checked_in": 4,
        "no_shows": 5,
        "no_show_rate": round(5 / 9, 4),
    }
    assert len(selectors.past_attendance(limit=1)["events"]) == 1


def test_the_dashboard_shows_the_no_shows_of_past_events(staff, past_nights):
    html = staff.get(URL).content.decode()
    assert "Attendance at the last 2 past events" in html
    assert "<strong>56%</strong> no-shows" in html  # 5 of 9
    assert "80% no-shows" in html and "25% no-shows" in html
    assert "Called Off" not in html and "Nobody Came" not in html


def test_the_dashboard_says_when_no_past_event_sold_tickets(staff):
    assert "no past event sold tickets" in staff.get(URL).content.decode()


def test_the_dashboard_shows_the_types_of_events_that_sell_several(staff):
    event = EventFactory(name="Types Gala", total_capacity=50, price=Decimal("30.00"))
    vip = TicketTypeFactory(event=event, name="Balcony", price=Decimal("75.00"), quota=10)
    booking_create(
        event_id=event.pk, user=UserFactory(), items=[{"ticket_type_id": vip.pk, "quantity": 2}]
    )
    EventFactory(name="Plain Night")
    [general, balcony] = selectors.upcoming_ticket_types()
    assert (general["name"], general["confirmed_tickets"]) == ("General admission", 0)
    assert (balcony["name"], balcony["confirmed_tickets"], balcony["revenue"]) == (
        "Balcony",
        2,
        Decimal("150.00"),
    )
    assert balcony["sold_percent"] == 20
    html = staff.get(URL).content.decode()
    assert "Balcony" in html and "Types Gala" in html
