"""A deleted or deactivated account's token on POST /bookings is a 401 before anything else
answers: an unknown event, an Idempotency-Key replay or reuse, a malformed body."""

import uuid

import pytest

from accounts.models import User
from bookings.models import Booking
from bookings.services import booking_create
from core.exceptions import AccountClosed
from core.models import IdempotencyKey
from tests.conftest import client_for
from tests.factories import EventFactory
from tests.problems import assert_problem

pytestmark = pytest.mark.django_db


def close(user, how: str) -> None:
    if how == "deactivated":
        User.objects.filter(pk=user.pk).update(is_active=False)
    else:
        User.objects.filter(pk=user.pk).delete()


@pytest.mark.parametrize("how", ["deactivated", "deleted"])
def test_an_unknown_event_does_not_answer_before_the_account(user, how):
    api = client_for(user)
    close(user, how)
    response = api.post(
        "/api/bookings", {"event_id": str(uuid.uuid4()), "quantity": 1}, format="json"
    )
    assert_problem(response, 401, "token_not_valid")


def test_the_service_refuses_a_closed_account_before_an_unknown_event(user):
    User.objects.filter(pk=user.pk).update(is_active=False)
    with pytest.raises(AccountClosed):
        booking_create(event_id=uuid.uuid4(), user=user, quantity=1)


def test_an_idempotency_key_replay_does_not_answer_before_the_account(user):
    event = EventFactory(total_capacity=5)
    api = client_for(user)
    body = {"event_id": str(event.pk), "quantity": 1}
    first = api.post("/api/bookings", body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.status_code == 201
    close(user, "deactivated")

    again = api.post("/api/bookings", body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert_problem(again, 401, "token_not_valid")
    assert "Idempotent-Replayed" not in again
    reused = api.post(
        "/api/bookings", {**body, "quantity": 2}, format="json", HTTP_IDEMPOTENCY_KEY="k-1"
    )
    assert_problem(reused, 401, "token_not_valid")
    assert Booking.objects.count() == 1 and IdempotencyKey.objects.count() == 1
    event.refresh_from_db()
    assert event.available_seats == 4


@pytest.mark.parametrize(
    "body", [{"event_id": "not-a-uuid", "quantity": 1}, {"quantity": 99}, "not json"]
)
def test_a_malformed_request_does_not_answer_before_the_account(user, body):
    api = client_for(user)
    close(user, "deactivated")
    response = api.post("/api/bookings", body, format="json")
    assert_problem(response, 401, "token_not_valid")


def test_a_live_account_still_gets_the_404_and_the_400(user):
    api = client_for(user)
    unknown = api.post(
        "/api/bookings", {"event_id": str(uuid.uuid4()), "quantity": 1}, format="json"
    )
    assert_problem(unknown, 404, "not_found")
    assert_problem(
        api.post("/api/bookings", {"quantity": 99}, format="json"), 400, "validation_error"
    )
