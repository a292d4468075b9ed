"""The waiting room's queue lengths in the metrics scrape, read from either store."""

import pytest

from core import metrics
from tests.factories import EventFactory, UserFactory
from tests.test_metrics import TOKEN, samples
from tests.waitingroom.conftest import lapse_admission, rewind
from tests.waitingroom.test_queue_api import join, open_queue, poll
from waitingroom.models import Queue

pytestmark = pytest.mark.django_db


def scrape(client) -> dict[str, float]:
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 200
    return samples(response.content.decode())


def lengths(found: dict[str, float]) -> dict[str, float]:
    prefix = "evently_waiting_room_queue_length"
    return {name: value for name, value in found.items() if name.startswith(prefix)}


def line(event_id) -> str:
    return f'evently_waiting_room_queue_length{{event="{event_id}"}}'


def queue_of(admin_api, people: int):
    # One person a minute: a test's own slowness never lets anyone in; `rewind` does.
    event = EventFactory()
    open_queue(admin_api, event, queue_rate=1)
    tokens = [
        (person, join(person, event).json()["token"]) for person in UserFactory.create_batch(people)
    ]
    return event, tokens


def test_scrape_reads_the_people_waiting_in_each_queue_that_is_on(
    queue_store, admin_api, client, settings
):
    settings.METRICS_TOKEN = TOKEN
    busy, busy_places = queue_of(admin_api, 5)
    quiet, _ = queue_of(admin_api, 2)
    closed, _ = queue_of(admin_api, 1)
    open_queue(admin_api, closed, queue_enabled=False)  # nobody queues there any more
    paused, _ = queue_of(admin_api, 1)
    open_queue(admin_api, paused, paused=True)  # still waiting, however long

    rewind(busy.pk, 120)  # the rate has let two in
    rewind(paused.pk, 600)
    assert lengths(scrape(client)) == {line(busy.pk): 3, line(quiet.pk): 2, line(paused.pk): 1}

    # The first one admitted lets the admission lapse unused: the slot goes to the next.
    person, token = busy_places[0]
    assert poll(person, token).json()["status"] == "admitted"
    lapse_admission(busy.pk, 1)
    assert lengths(scrape(client))[line(busy.pk)] == 2


def test_the_scrape_names_the_longest_queues_and_adds_up_the_rest(
    queue_store, admin_api, client, settings, monkeypatch
):
    settings.METRICS_TOKEN = TOKEN
    monkeypatch.setattr(metrics, "QUEUE_EVENTS_SHOWN", 2)
    longest, _ = queue_of(admin_api, 4)
    second, _ = queue_of(admin_api, 3)
    queue_of(admin_api, 2)
    queue_of(admin_api, 1)
    found = scrape(client)
    assert lengths(found) == {
        line(longest.pk): 4,
        line(second.pk): 3,
        'evently_waiting_room_queue_length{event="other"}': 3,
    }


def test_no_queue_that_is_on_reads_no_queue_lengths(queue_store, client, settings):
    settings.METRICS_TOKEN = TOKEN
    assert lengths(scrape(client)) == {}


def test_an_unreachable_redis_leaves_the_queue_lengths_out_not_the_scrape(client, settings, caplog):
    settings.METRICS_TOKEN = TOKEN
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens there
    Queue.objects.create(event=EventFactory(), enabled=True)
    found = scrape(client)
    assert lengths(found) == {}
    assert found["evently_database_up"] == 1
    assert "Redis did not answer the waiting room's figures" in caplog.text
