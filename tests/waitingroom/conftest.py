"""Both stores of the waiting room, for tests that must hold on each.

The Redis store uses Redis database 9 on 127.0.0.1:6379, and only keys of the test's own
events (each test's events are new), removed afterwards.
"""

import time
from datetime import timedelta

import pytest
import redis
from django.conf import settings as django_settings
from django.utils import timezone

from waitingroom import stores
from waitingroom.models import Place, Queue

REDIS_TEST_URL = "redis://127.0.0.1:6379/9"


def _redis_up() -> bool:
    try:
        return redis.Redis.from_url(REDIS_TEST_URL, socket_connect_timeout=1).ping()
    except redis.RedisError:
        return False


@pytest.fixture(params=["database", "redis"])
def queue_store(request, settings):
    if request.param == "redis":
        if not _redis_up():
            pytest.skip("needs Redis on 127.0.0.1:6379")
        settings.REDIS_URL = REDIS_TEST_URL
    else:
        settings.REDIS_URL = ""
    yield request.param
    if request.param == "redis":
        client = redis.Redis.from_url(REDIS_TEST_URL)
        for event_id in Queue.objects.values_list("event_id", flat=True):
            client.delete(*stores._keys(event_id))


def rewind(event_id, seconds: float) -> None:
    """Move the queue's serving counter's anchor `seconds` into the past, as if the rate had
    been running that long: what a test would otherwise sleep for."""
    if django_settings.REDIS_URL:
        client = redis.Redis.from_url(django_settings.REDIS_URL)
        key = stores._keys(event_id)[0]
        anchor = int(client.hget(key, "anchor_at"))
        client.hset(key, "anchor_at", anchor - int(seconds * 1000))
    else:
        queue = Queue.objects.get(event_id=event_id)
        queue.anchor_at = queue.anchor_at - timedelta(seconds=seconds)
        queue.save(update_fields=["anchor_at"])


def lapse_admission(event_id, number: int) -> None:
    """Make the admission of place `number` past its life, unused."""
    if django_settings.REDIS_URL:
        client = redis.Redis.from_url(django_settings.REDIS_URL)
        _, _, pending, issued, _ = stores._keys(event_id)
        past = int((time.time() - 1) * 1000)
        client.zadd(pending, {str(number): past}, xx=True)  # unless used
        client.hset(issued, str(number), past)
    else:
        Place.objects.filter(queue_id=event_id, number=number).update(
            admission_expires_at=timezone.now() - timedelta(seconds=1)
        )
