"""A write is answered from what its transaction wrote: nothing is read after the commit.

So a database that goes away just after a commit cannot turn a change that happened into a
5xx, which a client would retry. Each test lets the write commit for real, then makes every
later statement fail as a lost connection does, and expects the write's normal answer.
"""

from contextlib import contextmanager
from unittest import mock

import pytest
from django.db import OperationalError, connections

from bookings import statements
from bookings.models import Booking
from bookings.services import booking_cancel, booking_create
from events.models import Event
from tests.conftest import client_for
from tests.factories import EventFactory, UserFactory
from waitlist.models import WaitlistEntry

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@contextmanager
def database_gone_after_commit():
    """Every statement after the first real COMMIT fails as if the server had gone away."""
    connection = connections["default"]
    real_commit = connection.commit
    state = {"committed": False}

    def commit():
        real_commit()
        state["committed"] = True

    # The common booking commits inside its one round trip (a psycopg pipeline), not
    # through Django's commit; one that wrote nothing is followed by the locked path's write.
    real_round_trip = statements._in_one_round_trip

    def one_round_trip(*args, **kwargs):
        written = real_round_trip(*args, **kwargs)
        state["committed"] = state["committed"] or written
        return written

    def refuse_after_commit(execute, sql, params, many, context):
        if state["committed"]:
            raise OperationalError("server closed the connection unexpectedly")
        return execute(sql, params, many, context)

    with (
        mock.patch.object(connection, "commit", commit),
        mock.patch.object(statements, "_in_one_round_trip", one_round_trip),
        connection.execute_wrapper(refuse_after_commit),
    ):
        yield state
    assert state["committed"], "the write never committed"


@pytest.fixture
def ann():
    return UserFactory(email="ann@example.com")


@pytest.mark.parametrize("method", ["post", "put"])
def test_a_cancel_that_committed_is_answered_200(ann, method):
    booking = booking_create(event_id=EventFactory().pk, user=ann, quantity=2).booking
    api = client_for(ann)
    with database_gone_after_commit():
        response = getattr(api, method)(f"/api/bookings/{booking.pk}/cancel")
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "cancelled"
    assert response.json()["event"]["id"] == str(booking.event_id)
    assert Booking.objects.get(pk=booking.pk).status == "cancelled"


def test_a_booking_that_committed_is_answered_201(ann):
    event = EventFactory(total_capacity=5)
    api = client_for(ann)
    with database_gone_after_commit():
        response = api.post(
            "/api/bookings", {"event_id": str(event.pk), "quantity": 2}, format="json"
        )
    assert response.status_code == 201, response.content
    assert response.json()["booking"]["event"]["name"] == event.name
    assert Event.objects.get(pk=event.pk).available_seats == 3


@pytest.mark.parametrize("idempotency_key", [None, "key-1"])
def test_a_waitlisting_that_committed_is_answered_202_with_its_position(ann, idempotency_key):
    event = EventFactory(total_capacity=1)
    booking_create(event_id=event.pk, user=UserFactory(), quantity=1)
    booking_create(event_id=event.pk, user=UserFactory(), quantity=1)  # first in the queue
    api = client_for(ann)
    headers = {"HTTP_IDEMPOTENCY_KEY": idempotency_key} if idempotency_key else {}
    with database_gone_after_commit():
        response = api.post(
            "/api/bookings", {"event_id": str(event.pk), "quantity": 1}, format="json", **headers
        )
    assert response.status_code == 202, response.content
    entry = response.json()["waitlist_entry"]
    assert (entry["status"], entry["position"]) == ("waiting", 2)
    assert entry["event"]["id"] == str(event.pk)


@pytest.fixture
def offer(ann):
    event = EventFactory(total_capacity=1)
    holder = UserFactory()
    booking = booking_create(event_id=event.pk, user=holder, quantity=1).booking
    entry = booking_create(event_id=event.pk, user=ann, quantity=1).waitlist_entry
    booking_cancel(booking_id=booking.pk, actor=holder)  # ann is offered the seat
    assert WaitlistEntry.objects.get(pk=entry.pk).status == "offered"
    return entry


def test_an_accepted_offer_is_answered_201(ann, offer):
    with database_gone_after_commit():
        response = client_for(ann).post(f"/api/waitlist/{offer.pk}/accept")
    assert response.status_code == 201, response.content
    assert response.json()["booking"]["event"]["id"] == str(offer.event_id)


def test_a_declined_offer_is_answered_200(ann, offer):
    with database_gone_after_commit():
        response = client_for(ann).post(f"/api/waitlist/{offer.pk}/decline")
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "cancelled"
    assert response.json()["event"]["id"] == str(offer.event_id)


def test_event_writes_that_committed_are_answered(admin_user):
    api = client_for(admin_user)
    with database_gone_after_commit():
        created = api.post(
            "/api/events",
            {
                "name": "Gala",
                "venue": "Hall",
                "event_time": "2099-01-01T19:00:00Z",
                "total_capacity": 10,
                "price": "10.00",
            },
            format="json",
        )
    assert created.status_code == 201, created.content
    event_id = created.json()["id"]
    with database_gone_after_commit():
        updated = api.patch(f"/api/events/{event_id}", {"total_capacity": 20}, format="json")
    assert updated.status_code == 200, updated.content
    assert updated.json()["available_seats"] == 20
    with database_gone_after_commit():
        deleted = api.delete(f"/api/events/{event_id}")
    assert deleted.status_code == 204
    assert not Event.objects.filter(pk=event_id).exists()


def test_read_all_that_committed_is_answered(ann):
    booking_create(event_id=EventFactory().pk, user=ann, quantity=1)
    with database_gone_after_commit():
        response = client_for(ann).post("/api/notifications/read-all")
    assert response.status_code == 200
    assert response.json() == {"updated": 1}
