"""No way past the queue: POST /bookings for a queued event needs its person's admission."""

import time

import pytest
from django.test import override_settings

from core.models import IdempotencyKey
from tests.conftest import client_for
from tests.factories import EventFactory
from tests.waitingroom.conftest import rewind
from waitingroom.tokens import admission_token

pytestmark = pytest.mark.django_db


def open_queue(admin_api, event):
    body = {"queue_enabled": True, "queue_rate": 6}
    assert (
        admin_api.patch(f"/api/admin/events/{event.pk}/queue", body, format="json").status_code
        == 200
    )


def book(user, event, admission=None, **headers):
    if admission is not None:
        headers["HTTP_EVENTLY_ADMISSION"] = admission
    return client_for(user).post(
        "/api/bookings", {"event_id": str(event.pk), "quantity": 1}, format="json", **headers
    )


def admitted(user, event) -> str:
    token = client_for(user).post(f"/api/events/{event.pk}/queue").json()["token"]
    rewind(event.pk, 15)
    body = client_for(user).get(f"/api/queue/{token}").json()
    assert body["status"] == "admitted"
    return body["admission_token"]


def assert_queue_required(response, event):
    assert response.status_code == 409
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "queue_required"
    event.refresh_from_db()
    assert event.booked_seats == 0 and event.available_seats == event.total_capacity


def test_a_booking_of_a_queued_event_needs_an_admission(queue_store, admin_api, user):
    event = EventFactory()
    open_queue(admin_api, event)
    assert_queue_required(book(user, event), event)
    assert book(user, event, admitted(user, event)).status_code == 201


def test_a_forged_admission_is_refused(queue_store, admin_api, user):
    event = EventFactory()
    open_queue(admin_api, event)
    genuine = admitted(user, event)
    flipped = genuine[:10] + ("A" if genuine[10] != "A" else "B") + genuine[11:]
    assert_queue_required(book(user, event, flipped), event)
    assert_queue_required(book(user, event, "not-a-token"), event)
    # Signed with another key: the token's layout alone admits nobody.
    forged = admission_token(
        event_id=event.pk, number=1, expires_at=int(time.time()) + 600, user_id=user.pk
    )
    with override_settings(SECRET_KEY="another key that is long enough to be a key 0123456789"):
        other_key = admission_token(
            event_id=event.pk, number=1, expires_at=int(time.time()) + 600, user_id=user.pk
        )
    assert forged != other_key
    assert_queue_required(book(user, event, other_key), event)


def test_an_expired_admission_is_refused(queue_store, admin_api, user):
    event = EventFactory()
    open_queue(admin_api, event)
    expired = admission_token(
        event_id=event.pk, number=1, expires_at=int(time.time()) - 1, user_id=user.pk
    )
    assert_queue_required(book(user, event, expired), event)


def test_a_borrowed_admission_is_refused(queue_store, admin_api, user, other_user):
    event = EventFactory()
    open_queue(admin_api, event)
    assert_queue_required(book(other_user, event, admitted(user, event)), event)


def test_an_admission_for_another_event_is_refused(queue_store, admin_api, user):
    event, other = EventFactory(), EventFactory()
    open_queue(admin_api, event)
    open_queue(admin_api, other)
    assert_queue_required(book(user, event, admitted(user, other)), event)


def test_an_idempotent_replay_from_before_the_queue_is_refused(queue_store, admin_api, user):
    event = EventFactory()
    first = book(user, event, HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.status_code == 201
    open_queue(admin_api, event)
    replay = book(user, event, HTTP_IDEMPOTENCY_KEY="k-1")
    assert replay.status_code == 409
    assert replay.json()["code"] == "queue_required"
    assert "Idempotent-Replayed" not in replay
    assert IdempotencyKey.objects.filter(user=user, key="k-1").count() == 1


def test_events_without_a_queue_book_as_before(queue_store, admin_api, user):
    event = EventFactory()
    assert book(user, event).status_code == 201
    open_queue(admin_api, event)
    body = {"queue_enabled": False}
    assert (
        admin_api.patch(f"/api/admin/events/{event.pk}/queue", body, format="json").status_code
        == 200
    )
    assert book(user, event).status_code == 201


def test_a_closed_account_is_401_before_queue_required(queue_store, admin_api, user):
    event = EventFactory()
    open_queue(admin_api, event)
    api = client_for(user)
    user.is_active = False
    user.save(update_fields=["is_active"])
    answer = api.post("/api/bookings", {"event_id": str(event.pk), "quantity": 1}, format="json")
    assert answer.status_code == 401
    assert answer.json()["code"] == "token_not_valid"
