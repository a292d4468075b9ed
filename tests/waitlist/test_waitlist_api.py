from datetime import timedelta

import pytest
import time_machine

from bookings.services import booking_cancel, booking_create
from tests.conftest import client_for
from tests.factories import EventFactory, UserFactory
from tests.invariants import assert_books_balance
from tests.problems import assert_problem
from waitlist.models import WaitlistEntry

pytestmark = pytest.mark.django_db


@pytest.fixture
def offer(user):
    event = EventFactory(total_capacity=2)
    holder = UserFactory()
    booking = booking_create(event_id=event.pk, user=holder, quantity=2).booking
    entry = booking_create(event_id=event.pk, user=user, quantity=2).waitlist_entry
    booking_cancel(booking_id=booking.pk, actor=holder)
    entry.refresh_from_db()
    return entry


def test_my_waitlist_lists_entries_with_positions(user_api, user):
    event = EventFactory(total_capacity=1, available_seats=0, booked_seats=1)
    ahead = booking_create(event_id=event.pk, user=UserFactory(), quantity=1).waitlist_entry
    mine = booking_create(event_id=event.pk, user=user, quantity=1).waitlist_entry
    body = user_api.get("/api/waitlist/my").json()
    assert body["count"] == 1
    assert body["results"][0]["id"] == str(mine.pk)
    assert body["results"][0]["position"] == 2
    WaitlistEntry.objects.filter(pk=ahead.pk).update(status="cancelled")
    assert user_api.get("/api/waitlist/my").json()["results"][0]["position"] == 1
    WaitlistEntry.objects.filter(pk=mine.pk).update(priority=3)
    assert user_api.get(f"/api/waitlist/{mine.pk}").json()["position"] == 1


def test_position_is_null_unless_waiting(user_api, offer):
    body = user_api.get(f"/api/waitlist/{offer.pk}").json()
    assert body["status"] == "offered"
    assert body["position"] is None
    assert body["offer_expires_at"] is not None


def test_get_entry_owner_or_admin_else_404(user_api, other_api, admin_api, offer):
    assert user_api.get(f"/api/waitlist/{offer.pk}").status_code == 200
    assert admin_api.get(f"/api/waitlist/{offer.pk}").status_code == 200
    assert_problem(other_api.get(f"/api/waitlist/{offer.pk}"), 404, "not_found")


def test_accept_offer_is_201_with_booking(user_api, offer):
    response = user_api.post(f"/api/waitlist/{offer.pk}/accept")
    assert response.status_code == 201
    booking = response.json()["booking"]
    assert (booking["status"], booking["quantity"]) == ("confirmed", 2)
    offer.refresh_from_db()
    assert offer.status == "accepted"
    assert_problem(user_api.post(f"/api/waitlist/{offer.pk}/accept"), 409, "not_offered")
    assert_books_balance(offer.event)


def test_late_accept_is_409_offer_expired_and_expires_the_offer(user, offer):
    with time_machine.travel(offer.offer_expires_at + timedelta(seconds=1)):
        assert_problem(
            client_for(user).post(f"/api/waitlist/{offer.pk}/accept"), 409, "offer_expired"
        )
    offer.refresh_from_db()
    assert offer.status == "expired"
    assert_books_balance(offer.event)


def test_only_the_owner_accepts(other_api, admin_api, offer):
    assert_problem(other_api.post(f"/api/waitlist/{offer.pk}/accept"), 404, "not_found")
    assert_problem(admin_api.post(f"/api/waitlist/{offer.pk}/accept"), 404, "not_found")


def test_decline_is_200_and_delete_is_204(user, offer):
    api = client_for(user)
    response = api.post(f"/api/waitlist/{offer.pk}/decline")
    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    assert_problem(api.delete(f"/api/waitlist/{offer.pk}"), 409, "already_cancelled")

    event = EventFactory(total_capacity=1, available_seats=0, booked_seats=1)
    entry = booking_create(event_id=event.pk, user=user, quantity=1).waitlist_entry
    response = api.delete(f"/api/waitlist/{entry.pk}/")
    assert response.status_code == 204
    entry.refresh_from_db()
    assert entry.status == "cancelled"


def test_waitlist_routes_need_authentication(anon_api, offer):
    assert_problem(anon_api.get("/api/waitlist/my"), 401, "not_authenticated")
    assert_problem(anon_api.post(f"/api/waitlist/{offer.pk}/accept"), 401, "not_authenticated")


def test_my_waitlist_query_count_is_fixed(user, django_assert_num_queries):
    for _ in range(4):
        sold = EventFactory(total_capacity=1, available_seats=0, booked_seats=1)
        booking_create(event_id=sold.pk, user=user, quantity=1)
    api = client_for(user)
    # 1 the caller's account, 2 count, 3 the page with events and positions.
    with django_assert_num_queries(3):
        assert len(api.get("/api/waitlist/my").json()["results"]) == 4
