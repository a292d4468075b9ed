import csv
import io
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.utils import timezone

from bookings.models import Booking
from bookings.services import booking_cancel, booking_create, waitlist_offer_accept
from bookings.tickets.codes import TicketRef
from bookings.tickets.services import ticket_check_in
from tests.conftest import client_for
from tests.factories import EventFactory, UserFactory
from tests.problems import assert_problem

pytestmark = pytest.mark.django_db


@pytest.fixture
def sales():
    """A 10-seat event at 25.00: Ann books 4, Bob 3 and Cat 2; Eve waits for 3 and Dan for 5.
    Bob cancels, his 3 seats are offered to Eve, who accepts; Dan never fits. A second event
    sells Ann one ticket at 10.00."""
    event = EventFactory(total_capacity=10, price=Decimal("25.00"), name="Gala")
    ann, bob, cat, dan, eve = (
        UserFactory(email=f"{n}@sales.example.com", name=n.title())
        for n in ("ann", "bob", "cat", "dan", "eve")
    )
    booking_create(event_id=event.pk, user=ann, quantity=4)
    bob_booking = booking_create(event_id=event.pk, user=bob, quantity=3).booking
    booking_create(event_id=event.pk, user=cat, quantity=2)
    eve_entry = booking_create(event_id=event.pk, user=eve, quantity=3).waitlist_entry
    booking_create(event_id=event.pk, user=dan, quantity=5)  # waits, never fits
    booking_cancel(booking_id=bob_booking.pk, actor=bob)  # Eve is offered 3
    waitlist_offer_accept(entry_id=eve_entry.pk, user=eve)
    other = EventFactory(total_capacity=4, price=Decimal("10.00"), name="Small")
    booking_create(event_id=other.pk, user=ann, quantity=1)
    return event, other


def test_admin_routes_need_the_admin_role(anon_api, user_api, sales):
    event, _ = sales
    for path in (
        "/api/admin/events",
        f"/api/admin/events/{event.pk}/bookings",
        f"/api/admin/events/{event.pk}/analytics",
        "/api/admin/analytics/events",
        "/api/admin/analytics/overview",
        f"/api/admin/events/{event.pk}/bookings.csv",
    ):
        assert_problem(anon_api.get(path), 401, "not_authenticated")
        assert_problem(user_api.get(path), 403, "permission_denied")


def test_admin_events_lists_every_event_with_sales(admin_api, sales):
    event, other = sales
    cancelled = EventFactory(status="cancelled", event_time=timezone.now() + timedelta(days=90))
    past = EventFactory(event_time=timezone.now() - timedelta(days=1))
    body = admin_api.get("/api/admin/events").json()
    assert body["count"] == 4
    rows = {row["id"]: row for row in body["results"]}
    assert set(rows) == {str(event.pk), str(other.pk), str(cancelled.pk), str(past.pk)}
    gala = rows[str(event.pk)]
    assert (gala["confirmed_tickets"], gala["revenue"], gala["waitlist_waiting"]) == (
        9,
        "225.00",
        1,
    )
    assert (rows[str(past.pk)]["confirmed_tickets"], rows[str(past.pk)]["revenue"]) == (0, "0.00")


def test_admin_events_query_count_is_fixed(admin_user, sales, django_assert_num_queries):
    EventFactory.create_batch(10)
    api = client_for(admin_user)
    # 1 the caller's account (its current role), 2 count, 3 page with revenue and waitlist
    # subqueries.
    with django_assert_num_queries(3):
        assert len(api.get("/api/admin/events?limit=50").json()["results"]) == 12


def test_event_bookings_paged_and_filtered(admin_api, sales):
    event, _ = sales
    body = admin_api.get(f"/api/admin/events/{event.pk}/bookings").json()
    assert body["count"] == 4
    assert body["results"][0]["user"]["email"] == "eve@sales.example.com"  # newest first
    cancelled = admin_api.get(f"/api/admin/events/{event.pk}/bookings?status=cancelled").json()
    assert [b["user"]["email"] for b in cancelled["results"]] == ["bob@sales.example.com"]
    assert admin_api.get(f"/api/admin/events/{event.pk}/bookings?limit=1").json()["next"]
    assert_problem(
        admin_api.get(f"/api/admin/events/{event.pk}/bookings?status=maybe"),
        400,
        "validation_error",
        fields={"status"},
    )
    assert_problem(admin_api.get("/api/admin/events/not-an-id/bookings"), 404, "not_found")


def test_event_analytics_figures(admin_api, sales):
    event, _ = sales
    body = admin_api.get(f"/api/admin/events/{event.pk}/analytics").json()
    assert body == {
        "event_id": str(event.pk),
        "total_capacity": 10,
        "available_seats": 1,
        "held_seats": 0,
        "confirmed_bookings": 3,
        "cancelled_bookings": 1,
        "confirmed_tickets": 9,
        "cancelled_tickets": 3,
        "revenue": "225.00",
        "utilization": 0.9,
        "cancellation_rate": 0.25,
        "checked_in_tickets": 0,
        "check_in_rate": 0.0,
        "waitlist": {"waiting": 1, "offered": 0, "accepted": 1, "expired": 0, "cancelled": 0},
        "checkout": {
            "pending_bookings": 0,
            "pending_tickets": 0,
            "expired_bookings": 0,
            "expired_tickets": 0,
            "refunded_bookings": 0,
            "refunded_amount": "0.00",
        },
        "ticket_types": [
            {
                "ticket_type_id": str(event.ticket_types.get().pk),
                "name": "General admission",
                "price": "25.00",
                "quota": 10,
                "available": 1,
                "confirmed_tickets": 9,
                "held_seats": 0,
                "revenue": "225.00",
                "is_active": True,
            }
        ],
    }


def test_event_analytics_count_the_tickets_let_in(admin_api, admin_user):
    event = EventFactory(total_capacity=20, tonight=True)
    bookings = [
        booking_create(event_id=event.pk, user=UserFactory(), quantity=q).booking for q in (4, 3, 2)
    ]
    for booking, index in ((bookings[0], 0), (bookings[0], 3), (bookings[1], 1)):
        ticket_check_in(ref=TicketRef(booking.pk, index), actor=admin_user)
    booking_cancel(booking_id=bookings[2].pk, actor=admin_user)
    other = EventFactory(tonight=True)
    ticket_check_in(
        ref=TicketRef(
            booking_create(event_id=other.pk, user=UserFactory(), quantity=1).booking.pk, 0
        ),
        actor=admin_user,
    )
    body = admin_api.get(f"/api/admin/events/{event.pk}/analytics").json()
    assert (body["confirmed_tickets"], body["checked_in_tickets"]) == (7, 3)
    assert body["check_in_rate"] == round(3 / 7, 4)


def test_event_analytics_query_count_is_fixed(admin_user, sales, django_assert_num_queries):
    event, _ = sales
    api = client_for(admin_user)
    # As before check-ins were counted: 1 the caller's account, 2 the event with its tickets
    # let in (a subquery), 3 its waitlist entries by status, 4 its checkout figures; 5 its
    # ticket types with their revenue.
    with django_assert_num_queries(5):
        assert api.get(f"/api/admin/events/{event.pk}/analytics").status_code == 200


def test_event_analytics_of_an_empty_event(admin_api):
    event = EventFactory(total_capacity=3)
    body = admin_api.get(f"/api/admin/events/{event.pk}/analytics").json()
    assert (body["revenue"], body["utilization"], body["cancellation_rate"]) == ("0.00", 0.0, 0.0)
    assert_problem(
        admin_api.get("/api/admin/events/00000000-0000-0000-0000-000000000000/analytics"),
        404,
        "not_found",
    )


def test_popular_events_in_one_query(admin_user, sales, django_assert_num_queries):
    event, other = sales
    EventFactory(status="cancelled")
    api = client_for(admin_user)
    # 1 the caller's account (its current role), 2 the ranking with revenue.
    with django_assert_num_queries(2):
        body = api.get("/api/admin/analytics/events?limit=10").json()
    assert [r["event_id"] for r in body["results"]] == [str(event.pk), str(other.pk)]
    top = body["results"][0]
    assert (top["name"], top["confirmed_tickets"], top["revenue"], top["utilization"]) == (
        "Gala",
        9,
        "225.00",
        0.9,
    )
    assert set(top) == {
        "event_id",
        "name",
        "event_time",
        "total_capacity",
        "confirmed_tickets",
        "revenue",
        "utilization",
    }
    assert len(api.get("/api/admin/analytics/events?limit=1").json()["results"]) == 1
    assert_problem(
        api.get("/api/admin/analytics/events?limit=0"), 400, "validation_error", fields={"limit"}
    )


def test_overview_totals_and_per_day_series_with_empty_days(admin_user):
    event = EventFactory(
        total_capacity=50, price=Decimal("10.00"), event_time=datetime(2031, 1, 1, tzinfo=UTC)
    )
    ann, bob = UserFactory.create_batch(2)
    with time_machine.travel(datetime(2030, 3, 1, 12, tzinfo=UTC)):
        kept = booking_create(event_id=event.pk, user=ann, quantity=2).booking
        gone = booking_create(event_id=event.pk, user=bob, quantity=3).booking
    with time_machine.travel(datetime(2030, 3, 3, 9, tzinfo=UTC)):
        booking_cancel(booking_id=gone.pk, actor=bob)
        booking_create(event_id=event.pk, user=bob, quantity=1)
    with time_machine.travel(datetime(2030, 3, 4, 9, tzinfo=UTC)):
        api = client_for(admin_user)
        body = api.get("/api/admin/analytics/overview?from=2030-03-01&to=2030-03-03").json()
    assert kept.total_amount == Decimal("20.00")
    assert {
        k: body[k]
        for k in (
            "from",
            "to",
            "bookings",
            "tickets",
            "revenue",
            "cancellations",
            "waitlist_conversions",
        )
    } == {
        "from": "2030-03-01",
        "to": "2030-03-03",
        "bookings": 3,
        "tickets": 6,
        "revenue": "30.00",
        "cancellations": 1,
        "waitlist_conversions": 0,
    }
    assert body["series"] == [
        {
            "date": "2030-03-01",
            "bookings": 2,
            "tickets": 5,
            "revenue": "20.00",
            "cancellations": 0,
            "waitlist_conversions": 0,
        },
        {
            "date": "2030-03-02",
            "bookings": 0,
            "tickets": 0,
            "revenue": "0.00",
            "cancellations": 0,
            "waitlist_conversions": 0,
        },
        {
            "date": "2030-03-03",
            "bookings": 1,
            "tickets": 1,
            "revenue": "10.00",
            "cancellations": 1,
            "waitlist_conversions": 0,
        },
    ]


def test_overview_counts_waitlist_conversions(admin_api, sales):
    today = timezone.now().date().isoformat()
    body = admin_api.get(f"/api/admin/analytics/overview?from={today}&to={today}").json()
    assert body["waitlist_conversions"] == 1
    assert (body["bookings"], body["tickets"], body["cancellations"]) == (5, 13, 1)
    assert body["revenue"] == "235.00"


def test_overview_defaults_to_the_last_30_days(admin_api):
    body = admin_api.get("/api/admin/analytics/overview").json()
    assert len(body["series"]) == 30
    assert body["to"] == timezone.now().date().isoformat()


@pytest.mark.parametrize(
    "query", ["from=2030-03-05&to=2030-03-01", "from=yesterday", "from=2020-01-01&to=2030-01-01"]
)
def test_overview_rejects_bad_periods(admin_api, query):
    assert_problem(admin_api.get(f"/api/admin/analytics/overview?{query}"), 400, "validation_error")


def test_bookings_csv_is_streamed_with_every_booking(admin_api, sales):
    event, _ = sales
    response = admin_api.get(f"/api/admin/events/{event.pk}/bookings.csv")
    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"] == "text/csv"
    assert "attachment" in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert len(rows) == Booking.objects.filter(event=event).count() == 4
    bob = next(r for r in rows if r["user_email"] == "bob@sales.example.com")
    assert (bob["status"], bob["quantity"], bob["total_amount"]) == ("cancelled", "3", "75.00")
    assert bob["cancelled_at"]
    filtered = admin_api.get(f"/api/admin/events/{event.pk}/bookings.csv?status=confirmed")
    assert len(b"".join(filtered.streaming_content).decode().strip().splitlines()) == 4


def test_day_totals_stay_equal_to_a_recount_of_the_bookings(admin_user, sales):
    """The overview reads kept totals; they must match what the bookings say."""
    from django.db.models import Count, Q, Sum
    from django.db.models.functions import TruncDate

    from bookings.models import SalesDay
    from boxoffice.services import event_cancel

    _event, other = sales
    event_cancel(event_id=other.pk, actor=admin_user)  # a mass cancellation too
    kept = SalesDay.objects.aggregate(
        bookings=Sum("bookings"),
        tickets=Sum("tickets"),
        revenue=Sum("revenue"),
        cancellations=Sum("cancellations"),
        conversions=Sum("conversions"),
    )
    recount = Booking.objects.aggregate(
        bookings=Count("id"),
        tickets=Sum("quantity"),
        revenue=Sum("total_amount", filter=Q(status="confirmed")),
        cancellations=Count("id", filter=Q(status="cancelled")),
    )
    assert {k: kept[k] for k in recount} == recount
    assert kept["conversions"] == 1
    days = set(Booking.objects.annotate(d=TruncDate("booking_time")).values_list("d", flat=True))
    assert set(SalesDay.objects.values_list("day", flat=True)) == days
