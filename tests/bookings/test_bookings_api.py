from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from bookings.models import Booking
from bookings.services import booking_create
from events.models import Event
from tests.conftest import client_for
from tests.factories import EventFactory, UserFactory
from tests.invariants import assert_books_balance
from tests.problems import assert_problem
from waitlist.models import WaitlistEntry

pytestmark = pytest.mark.django_db

BOOKING_KEYS = {
    "id",
    "event_id",
    "event",
    "user_id",
    "quantity",
    "items",
    "total_amount",
    "discount_amount",
    "voucher_code",
    "status",
    "expires_at",
    "refunded_amount",
    "booking_time",
    "cancelled_at",
    "created_at",
    "updated_at",
}
ENTRY_KEYS = {
    "id",
    "event_id",
    "event",
    "user_id",
    "ticket_type_id",
    "quantity",
    "priority",
    "status",
    "position",
    "joined_at",
    "offered_at",
    "offer_expires_at",
}


def test_booking_with_free_seats_is_201_booked(user_api, user):
    event = EventFactory(total_capacity=10, price=Decimal("20.00"))
    response = user_api.post(
        "/api/bookings", {"event_id": str(event.pk), "quantity": 3}, format="json"
    )
    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"result", "booking"}
    assert body["result"] == "booked"
    booking = body["booking"]
    assert set(booking) == BOOKING_KEYS
    assert booking["event"] == {
        "id": str(event.pk),
        "name": event.name,
        "venue": event.venue,
        "event_time": event.event_time.isoformat().replace("+00:00", "Z"),
    }
    assert (booking["event_id"], booking["user_id"]) == (str(event.pk), str(user.pk))
    assert (booking["quantity"], booking["total_amount"], booking["status"]) == (
        3,
        "60.00",
        "confirmed",
    )
    assert (booking["discount_amount"], booking["voucher_code"]) == ("0.00", "")
    assert booking["cancelled_at"] is None
    event.refresh_from_db()
    assert event.available_seats == 7


def test_sold_out_with_waitlist_is_202_waitlisted(user_api, user):
    event = EventFactory(total_capacity=1)
    booking_create(event_id=event.pk, user=UserFactory(), quantity=1)
    booking_create(event_id=event.pk, user=UserFactory(), quantity=1)
    response = user_api.post(
        "/api/bookings", {"event_id": str(event.pk), "quantity": 2}, format="json"
    )
    assert response.status_code == 202
    body = response.json()
    assert set(body) == {"result", "waitlist_entry"}
    assert body["result"] == "waitlisted"
    entry = body["waitlist_entry"]
    assert set(entry) == ENTRY_KEYS
    assert (entry["status"], entry["quantity"], entry["position"], entry["priority"]) == (
        "waiting",
        2,
        2,
        0,
    )
    assert entry["offered_at"] is None and entry["offer_expires_at"] is None


def test_sold_out_without_waitlist_is_409_with_available_seats(user_api):
    event = EventFactory(total_capacity=2)
    response = user_api.post(
        "/api/bookings",
        {"event_id": str(event.pk), "quantity": 3, "join_waitlist": False},
        format="json",
    )
    body = assert_problem(response, 409, "sold_out")
    assert body["available_seats"] == 2
    assert not WaitlistEntry.objects.exists()


@pytest.mark.parametrize(
    ("payload", "fields"),
    [
        ({}, {"event_id", "quantity"}),
        ({"event_id": "nope", "quantity": 1}, {"event_id"}),
        ({"quantity": 0}, {"event_id", "quantity"}),
        ({"quantity": 11}, {"event_id", "quantity"}),
        ({"quantity": "two"}, {"event_id", "quantity"}),
        ({"quantity": 1, "join_waitlist": "perhaps"}, {"event_id", "join_waitlist"}),
        # JSON types as the schema gives them; DRF alone coerced these.
        ({"event_id": 5, "quantity": 1}, {"event_id"}),
        ({"quantity": "2"}, {"event_id", "quantity"}),
        ({"quantity": 1, "join_waitlist": "no"}, {"event_id", "join_waitlist"}),
        ({"quantity": 1, "join_waitlist": 0}, {"event_id", "join_waitlist"}),
    ],
)
def test_booking_rejects_invalid_input(user_api, payload, fields):
    response = user_api.post("/api/bookings", payload, format="json")
    assert_problem(response, 400, "validation_error", fields=fields)
    assert not Booking.objects.exists()


def test_booking_unknown_event_is_404(user_api):
    response = user_api.post(
        "/api/bookings",
        {"event_id": "00000000-0000-0000-0000-000000000000", "quantity": 1},
        format="json",
    )
    assert_problem(response, 404, "not_found")


@pytest.mark.parametrize(
    "event_kwargs",
    [{"status": Event.Status.CANCELLED}, {"event_time": timezone.now() - timedelta(hours=1)}],
)
def test_booking_closed_event_is_409_event_closed(user_api, event_kwargs):
    event = EventFactory(**event_kwargs)
    response = user_api.post(
        "/api/bookings", {"event_id": str(event.pk), "quantity": 1}, format="json"
    )
    assert_problem(response, 409, "event_closed")


def test_booking_ticket_limit_and_already_waitlisted(user_api):
    event = EventFactory(total_capacity=12)
    assert (
        user_api.post(
            "/api/bookings", {"event_id": str(event.pk), "quantity": 8}, format="json"
        ).status_code
        == 201
    )
    assert_problem(
        user_api.post("/api/bookings", {"event_id": str(event.pk), "quantity": 3}, format="json"),
        409,
        "ticket_limit",
    )
    sold = EventFactory(total_capacity=1, available_seats=0, booked_seats=1)
    assert (
        user_api.post(
            "/api/bookings", {"event_id": str(sold.pk), "quantity": 1}, format="json"
        ).status_code
        == 202
    )
    assert_problem(
        user_api.post("/api/bookings", {"event_id": str(sold.pk), "quantity": 1}, format="json"),
        409,
        "already_waitlisted",
    )


def test_booking_needs_authentication(anon_api):
    event = EventFactory()
    assert_problem(
        anon_api.post("/api/bookings", {"event_id": str(event.pk), "quantity": 1}, format="json"),
        401,
        "not_authenticated",
    )


def test_get_booking_owner_or_admin_else_404(user_api, other_api, admin_api, anon_api, user):
    booking = booking_create(event_id=EventFactory().pk, user=user, quantity=1).booking
    assert user_api.get(f"/api/bookings/{booking.pk}").json()["id"] == str(booking.pk)
    assert admin_api.get(f"/api/bookings/{booking.pk}").status_code == 200
    assert_problem(other_api.get(f"/api/bookings/{booking.pk}"), 404, "not_found")
    assert_problem(anon_api.get(f"/api/bookings/{booking.pk}"), 401, "not_authenticated")
    assert_problem(user_api.get("/api/bookings/not-a-uuid"), 404, "not_found")


@pytest.mark.parametrize("method", ["post", "put"])
def test_cancel_booking_with_post_or_put(user_api, user, method):
    event = EventFactory(total_capacity=5)
    booking = booking_create(event_id=event.pk, user=user, quantity=2).booking
    response = getattr(user_api, method)(f"/api/bookings/{booking.pk}/cancel")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == BOOKING_KEYS
    assert body["status"] == "cancelled" and body["cancelled_at"] is not None
    assert_problem(
        getattr(user_api, method)(f"/api/bookings/{booking.pk}/cancel/"), 409, "already_cancelled"
    )
    assert_books_balance(event)


def test_cancel_booking_of_started_event_is_409(user_api, user):
    event = EventFactory()
    booking = booking_create(event_id=event.pk, user=user, quantity=1).booking
    Event.objects.filter(pk=event.pk).update(event_time=timezone.now() - timedelta(minutes=5))
    assert_problem(user_api.post(f"/api/bookings/{booking.pk}/cancel"), 409, "event_started")


def test_cancel_someone_elses_booking_is_404_but_admin_may(other_api, admin_api, user):
    booking = booking_create(event_id=EventFactory().pk, user=user, quantity=1).booking
    assert_problem(other_api.post(f"/api/bookings/{booking.pk}/cancel"), 404, "not_found")
    assert admin_api.post(f"/api/bookings/{booking.pk}/cancel").json()["status"] == "cancelled"


def test_my_bookings_newest_first_with_active_waitlist(user_api, user, other_user):
    first = booking_create(event_id=EventFactory().pk, user=user, quantity=1).booking
    second = booking_create(event_id=EventFactory().pk, user=user, quantity=2).booking
    booking_create(event_id=EventFactory().pk, user=other_user, quantity=1)
    sold = EventFactory(total_capacity=1, available_seats=0, booked_seats=1)
    entry = booking_create(event_id=sold.pk, user=user, quantity=1).waitlist_entry
    left = EventFactory(total_capacity=1, available_seats=0, booked_seats=1)
    gone = booking_create(event_id=left.pk, user=user, quantity=1).waitlist_entry
    WaitlistEntry.objects.filter(pk=gone.pk).update(status="cancelled")

    body = user_api.get("/api/bookings/my").json()
    assert set(body) == {"count", "next", "previous", "results", "waitlist"}
    assert body["count"] == 2
    assert [b["id"] for b in body["results"]] == [str(second.pk), str(first.pk)]
    assert [w["id"] for w in body["waitlist"]] == [str(entry.pk)]
    assert body["waitlist"][0]["position"] == 1
    paged = user_api.get("/api/bookings/my?limit=1&offset=1").json()
    assert [b["id"] for b in paged["results"]] == [str(first.pk)]


def test_my_bookings_filter_by_status(user_api, user):
    from bookings.services import booking_cancel

    kept = booking_create(event_id=EventFactory().pk, user=user, quantity=1).booking
    dropped = booking_create(event_id=EventFactory().pk, user=user, quantity=1).booking
    booking_cancel(booking_id=dropped.pk, actor=user)
    confirmed = user_api.get("/api/bookings/my?status=confirmed").json()
    assert (confirmed["count"], confirmed["results"][0]["id"]) == (1, str(kept.pk))
    cancelled = user_api.get("/api/bookings/my?status=cancelled").json()
    assert (cancelled["count"], cancelled["results"][0]["id"]) == (1, str(dropped.pk))
    assert user_api.get("/api/bookings/my").json()["count"] == 2
    # An empty value reads as absent, as in every list's filters.
    assert user_api.get("/api/bookings/my?status=").json()["count"] == 2


@pytest.mark.parametrize("value", ["bogus", "CONFIRMED", "confirmed,cancelled"])
def test_my_bookings_refuse_an_unknown_status(user_api, user, value):
    booking_create(event_id=EventFactory().pk, user=user, quantity=1)
    assert_problem(
        user_api.get(f"/api/bookings/my?status={value}"), 400, "validation_error", fields={"status"}
    )


def test_my_bookings_query_count_is_fixed(user, django_assert_num_queries):
    for _ in range(3):
        booking_create(event_id=EventFactory().pk, user=user, quantity=1)
    for _ in range(2):
        sold = EventFactory(total_capacity=1, available_seats=0, booked_seats=1)
        booking_create(event_id=sold.pk, user=user, quantity=1)
    api = client_for(user)
    # 1 the caller's account, 2 count, 3 page of bookings with events, 4 their items with
    # their types, 5 active waitlist entries with events and positions.
    with django_assert_num_queries(5):
        body = api.get("/api/bookings/my").json()
    assert (len(body["results"]), len(body["waitlist"])) == (3, 2)
