"""The waiting room's API on both stores: joining, polling, admission in arrival order at the
rate, lapsed admissions, pause, and staff's view."""

import pytest

from tests.conftest import client_for
from tests.factories import EventFactory, UserFactory
from tests.waitingroom.conftest import lapse_admission, rewind
from waitingroom.models import Queue

pytestmark = pytest.mark.django_db


def open_queue(admin_api, event, **values):
    # One person every ten seconds: tests move time on with `rewind`, never by waiting.
    body = {"queue_enabled": True, "queue_rate": 6, **values}
    response = admin_api.patch(f"/api/admin/events/{event.pk}/queue", body, format="json")
    assert response.status_code == 200, response.content
    return response.json()


def join(user, event):
    return client_for(user).post(f"/api/events/{event.pk}/queue")


def poll(user, token):
    return client_for(user).get(f"/api/queue/{token}")


def test_joining_gives_a_place_and_joining_again_the_same_one(queue_store, admin_api):
    event = EventFactory()
    open_queue(admin_api, event)
    first, second = UserFactory(), UserFactory()
    answer = join(first, event)
    assert answer.status_code == 201
    body = answer.json()
    assert set(body) == {
        "token",
        "status",
        "position",
        "estimated_wait_seconds",
        "admission_token",
        "admission_expires_at",
    }
    assert body["status"] == "waiting"
    assert body["position"] == 1
    assert body["admission_token"] is None and body["admission_expires_at"] is None
    assert 1 <= int(answer["Retry-After"]) <= 30
    again = join(first, event)
    assert again.status_code == 200
    assert again.json()["token"] == body["token"]
    assert again.json()["position"] == 1
    assert join(second, event).json()["position"] == 2


def test_people_are_admitted_in_arrival_order_at_the_rate(queue_store, admin_api):
    event = EventFactory()
    open_queue(admin_api, event)
    people = [UserFactory() for _ in range(5)]
    tokens = [join(person, event).json()["token"] for person in people]
    rewind(event.pk, 25)  # the rate has let two people in
    answers = [poll(person, token).json() for person, token in zip(people, tokens, strict=True)]
    assert [a["status"] for a in answers] == [
        "admitted",
        "admitted",
        "waiting",
        "waiting",
        "waiting",
    ]
    assert [a["position"] for a in answers] == [0, 0, 1, 2, 3]
    assert [a["estimated_wait_seconds"] for a in answers[2:]] == [10, 20, 30]
    assert all(a["admission_token"] for a in answers[:2])
    rewind(event.pk, 10)
    assert poll(people[2], tokens[2]).json()["status"] == "admitted"
    assert poll(people[3], tokens[3]).json()["status"] == "waiting"
    status = admin_api.get(f"/api/admin/events/{event.pk}/queue").json()
    assert status == {
        "queue_enabled": True,
        "queue_rate": 6,
        "paused": False,
        "waiting": 2,
        "admitted": 3,
        "admitted_last_minute": 3,
    }


def test_retry_after_points_at_the_moment_a_place_falls_due(queue_store, admin_api):
    """A crowd that joined together is told to come back one after another, at the rate, and
    a poll when told finds the place admitted; a wait past 30 seconds is looked at within 30."""
    event = EventFactory()
    open_queue(admin_api, event)  # one person every ten seconds
    people = [UserFactory() for _ in range(4)]
    answers = [join(person, event) for person in people]
    waits = [a.json()["estimated_wait_seconds"] for a in answers]
    retries = [int(a["Retry-After"]) for a in answers]
    assert waits == [10, 20, 30, 40]
    for wait, retry in zip(waits[:3], retries[:3], strict=True):
        assert wait <= retry <= wait * 1.1
    assert 22 <= retries[3] <= 30

    rewind(event.pk, retries[0])
    first = poll(people[0], answers[0].json()["token"]).json()
    second = poll(people[1], answers[1].json()["token"]).json()
    assert first["status"] == "admitted"
    assert second["status"] == "waiting"


def test_an_admission_keeps_its_token_while_it_lives(queue_store, admin_api, user):
    event = EventFactory()
    open_queue(admin_api, event)
    token = join(user, event).json()["token"]
    rewind(event.pk, 15)
    first = poll(user, token).json()
    assert first["status"] == "admitted"
    assert poll(user, token).json()["admission_token"] == first["admission_token"]
    assert join(user, event).json()["admission_expires_at"] == first["admission_expires_at"]


def test_a_lapsed_admission_frees_its_slot_for_the_next_person(queue_store, admin_api):
    event = EventFactory()
    open_queue(admin_api, event)
    first, second = UserFactory(), UserFactory()
    join(first, event)
    token = join(second, event).json()["token"]
    rewind(event.pk, 15)
    assert poll(first, join(first, event).json()["token"]).json()["status"] == "admitted"
    assert poll(second, token).json()["status"] == "waiting"
    lapse_admission(event.pk, 1)
    assert poll(second, token).json()["status"] == "admitted"


def test_a_used_admission_does_not_free_its_slot(queue_store, admin_api):
    event = EventFactory()
    open_queue(admin_api, event)
    first, second = UserFactory(), UserFactory()
    join(first, event)
    token = join(second, event).json()["token"]
    rewind(event.pk, 15)
    admission = join(first, event).json()["admission_token"]
    booked = client_for(first).post(
        "/api/bookings",
        {"event_id": str(event.pk), "quantity": 1},
        format="json",
        HTTP_EVENTLY_ADMISSION=admission,
    )
    assert booked.status_code == 201
    lapse_admission(event.pk, 1)
    assert poll(second, token).json()["status"] == "waiting"


def test_a_paused_queue_admits_nobody_until_resumed(queue_store, admin_api, user):
    event = EventFactory()
    open_queue(admin_api, event)
    token = join(user, event).json()["token"]
    assert open_queue(admin_api, event, paused=True)["paused"] is True
    rewind(event.pk, 100)
    assert poll(user, token).json()["status"] == "waiting"
    open_queue(admin_api, event, paused=False)
    rewind(event.pk, 15)
    assert poll(user, token).json()["status"] == "admitted"


def test_an_idle_queue_does_not_let_a_crowd_in_at_once(queue_store, admin_api):
    event = EventFactory()
    open_queue(admin_api, event)
    rewind(event.pk, 3600)  # an hour open with nobody in it
    answers = [join(UserFactory(), event).json() for _ in range(3)]
    assert [a["status"] for a in answers] == ["waiting"] * 3


def test_a_place_token_is_its_owners_alone(queue_store, admin_api, user, other_user):
    event = EventFactory()
    open_queue(admin_api, event)
    token = join(user, event).json()["token"]
    assert poll(other_user, token).status_code == 404
    assert poll(user, token[:-2] + ("AA" if token[-2:] != "AA" else "BB")).status_code == 404
    assert client_for(None).get(f"/api/queue/{token}").status_code == 401


def test_joining_an_event_without_a_queue_is_404(queue_store, user):
    event = EventFactory()
    answer = join(user, event)
    assert answer.status_code == 404
    assert answer.json()["code"] == "not_found"
    assert answer.json()["detail"] == "This event has no waiting room open."
    assert client_for(user).post("/api/events/not-a-uuid/queue").status_code == 404


def test_staff_alone_configure_the_queue(queue_store, admin_api, user_api, anon_api):
    event = EventFactory()
    url = f"/api/admin/events/{event.pk}/queue"
    assert anon_api.get(url).status_code == 401
    assert user_api.patch(url, {"queue_enabled": True}, format="json").status_code == 403
    assert not Queue.objects.filter(event=event).exists()
    assert admin_api.get(url).json() == {
        "queue_enabled": False,
        "queue_rate": 60,
        "paused": False,
        "waiting": 0,
        "admitted": 0,
        "admitted_last_minute": 0,
    }
    bad = admin_api.patch(url, {"queue_rate": 0}, format="json")
    assert bad.status_code == 400
    assert bad.json()["errors"] == {
        "queue_rate": ["Ensure this value is greater than or equal to 1."]
    }
    assert not Queue.objects.filter(event=event).exists()
    assert (
        admin_api.patch(url, {"queue_enabled": True, "queue_rate": 120}, format="json").json()[
            "queue_rate"
        ]
        == 120
    )
    assert (
        admin_api.get("/api/admin/events/00000000-0000-0000-0000-000000000000/queue").status_code
        == 404
    )
