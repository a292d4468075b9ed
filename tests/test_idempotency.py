from datetime import timedelta

import pytest
import time_machine
from django.core.management import call_command
from django.utils import timezone

from bookings import services as booking_services
from bookings.models import Booking
from bookings.services import booking_cancel, booking_create
from core.models import IdempotencyKey
from tests.concurrency import run_concurrently, with_slow_lock
from tests.conftest import client_for
from tests.factories import EventFactory, UserFactory
from tests.invariants import assert_books_balance
from tests.problems import assert_problem

pytestmark = pytest.mark.django_db


def post_booking(api, event, key, quantity=1):
    return api.post(
        "/api/bookings",
        {"event_id": str(event.pk), "quantity": quantity},
        format="json",
        HTTP_IDEMPOTENCY_KEY=key,
    )


def test_retry_with_the_same_key_replays_the_first_response_byte_for_byte(user_api, user):
    event = EventFactory(total_capacity=5)
    first = post_booking(user_api, event, "order-1")
    assert first.status_code == 201
    assert "Idempotent-Replayed" not in first
    again = post_booking(user_api, event, "order-1")
    assert again.status_code == 201
    assert again["Idempotent-Replayed"] == "true"
    assert again.content == first.content
    assert again["Content-Type"] == first["Content-Type"]
    assert Booking.objects.filter(user=user).count() == 1
    event.refresh_from_db()
    assert event.available_seats == 4


def test_same_key_with_another_body_is_422_and_changes_nothing(user_api, user):
    event = EventFactory(total_capacity=5)
    post_booking(user_api, event, "order-1", quantity=1)
    assert_problem(
        post_booking(user_api, event, "order-1", quantity=2), 422, "idempotency_key_reused"
    )
    assert Booking.objects.filter(user=user).count() == 1


def test_keys_are_scoped_to_the_caller(user_api, other_api):
    event = EventFactory(total_capacity=5)
    assert post_booking(user_api, event, "shared").status_code == 201
    assert "Idempotent-Replayed" not in post_booking(other_api, event, "shared")
    assert Booking.objects.count() == 2


def test_without_a_key_each_request_books(user_api):
    event = EventFactory(total_capacity=5)
    user_api.post("/api/bookings", {"event_id": str(event.pk), "quantity": 1}, format="json")
    user_api.post("/api/bookings", {"event_id": str(event.pk), "quantity": 1}, format="json")
    assert Booking.objects.count() == 2


@pytest.mark.parametrize("key", ["", "x" * 256, "tab\there", "é"])
def test_malformed_keys_are_400(user_api, key):
    event = EventFactory()
    assert_problem(
        post_booking(user_api, event, key), 400, "validation_error", fields={"Idempotency-Key"}
    )
    assert not Booking.objects.exists()


def test_a_refused_request_is_not_remembered(user_api, user):
    event = EventFactory(total_capacity=1)
    booking_create(event_id=event.pk, user=UserFactory(), quantity=1)
    response = user_api.post(
        "/api/bookings",
        {"event_id": str(event.pk), "quantity": 1, "join_waitlist": False},
        format="json",
        HTTP_IDEMPOTENCY_KEY="try-1",
    )
    assert_problem(response, 409, "sold_out")
    assert not IdempotencyKey.objects.exists()


def test_keys_expire_after_24_hours_and_are_pruned(user, capsys):
    event = EventFactory(total_capacity=5)
    post_booking(client_for(user), event, "old")
    with time_machine.travel(timezone.now() + timedelta(hours=25)):
        later = post_booking(client_for(user), event, "old")
        assert later.status_code == 201 and "Idempotent-Replayed" not in later
        assert Booking.objects.count() == 2
        IdempotencyKey.objects.update(created_at=timezone.now() - timedelta(hours=25))
        call_command("prune_idempotency_keys")
    assert "deleted 1 key(s)" in capsys.readouterr().out
    assert not IdempotencyKey.objects.exists()


def test_accept_honors_the_key_and_a_late_accept_still_expires(user):
    event = EventFactory(total_capacity=1)
    holder = UserFactory()
    booking = booking_create(event_id=event.pk, user=holder, quantity=1).booking
    entry = booking_create(event_id=event.pk, user=user, quantity=1).waitlist_entry
    booking_cancel(booking_id=booking.pk, actor=holder)
    api = client_for(user)
    first = api.post(f"/api/waitlist/{entry.pk}/accept", HTTP_IDEMPOTENCY_KEY="accept-1")
    again = api.post(f"/api/waitlist/{entry.pk}/accept", HTTP_IDEMPOTENCY_KEY="accept-1")
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.content == first.content and again["Idempotent-Replayed"] == "true"
    assert Booking.objects.filter(user=user).count() == 1

    # A late accept sent with a key still expires the offer on the spot.
    other = UserFactory()
    entry2 = booking_create(event_id=event.pk, user=other, quantity=1).waitlist_entry
    booking_cancel(booking_id=Booking.objects.get(user=user).pk, actor=user)
    entry2.refresh_from_db()
    with time_machine.travel(entry2.offer_expires_at + timedelta(seconds=1)):
        late = client_for(other).post(
            f"/api/waitlist/{entry2.pk}/accept", HTTP_IDEMPOTENCY_KEY="accept-2"
        )
    assert_problem(late, 409, "offer_expired")
    entry2.refresh_from_db()
    assert entry2.status == "expired"
    assert_books_balance(event)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_retries_make_one_booking(monkeypatch):
    with_slow_lock(monkeypatch, booking_services, 0.05)
    event = EventFactory(total_capacity=50)
    user = UserFactory()

    def attempt():
        return post_booking(client_for(user), event, "flaky-network")

    responses = run_concurrently([attempt] * 20)
    statuses = sorted(r.status_code for r in responses)
    assert Booking.objects.filter(user=user).count() == 1
    assert statuses.count(201) >= 1
    assert set(statuses) <= {201, 409}
    busy = [r for r in responses if r.status_code == 409]
    assert busy, "the retries should have met the first request in flight"
    for response in busy:
        assert response.json()["code"] == "idempotency_key_in_use"
        assert response["Retry-After"] == "1"
    # Once the first has finished, every retry replays it.
    replay = post_booking(client_for(user), event, "flaky-network")
    assert replay["Idempotent-Replayed"] == "true"
    assert_books_balance(event)
