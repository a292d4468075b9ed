"""The delivery worker as a separate process against PostgreSQL: killed in mid-send it loses
nothing, and a burst of 1,000 bookings all arrive, verified."""

import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection

from bookings.services import booking_create
from tests.factories import EventFactory, UserFactory
from tests.server import ROOT, e2e_database_url
from webhooks.models import WebhookDelivery, WebhookMessage
from webhooks.services import endpoint_create

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def wait_for(predicate, timeout=30.0):
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def start_worker(batch: int) -> subprocess.Popen:
    env = {
        **os.environ,
        "DATABASE_URL": e2e_database_url(),
        "SECRET_KEY": "webhooks-fault-test-" + "k" * 40,
        "DEBUG": "false",
        "WEBHOOKS_ALLOW_INSECURE": "true",
        "WEBHOOKS_TIMEOUT_SECONDS": "1",  # so the lease of a batch of 1 is 8 s
        "WEBHOOKS_RETRY_DELAYS": "0,0,0,0,0,0,0",
        "LOG_LEVEL": "WARNING",
    }
    command = [sys.executable, "manage.py", "deliver_webhooks", "--loop", "--interval", "0.1"]
    return subprocess.Popen(
        [*command, "--batch", str(batch)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def test_a_worker_killed_mid_send_loses_nothing_once_another_takes_over(receiver, admin_user):
    endpoint = endpoint_create(actor=admin_user, url=receiver.url, events=["booking.confirmed"])
    event = EventFactory(total_capacity=20, available_seats=20)
    for person in UserFactory.create_batch(20):
        booking_create(event_id=event.pk, user=person, quantity=1)
    # The receiver answers the first request never: the worker sits in mid-send.
    receiver.script = ["stall"]
    receiver.default = 200
    worker = start_worker(batch=1)
    try:
        wait_for(lambda: len(receiver.received) == 1)
        stalled = receiver.received[0].headers["webhook-id"]
        worker.send_signal(signal.SIGKILL)
        worker.wait(10)
        assert WebhookDelivery.objects.get(message_id=stalled).status == "sending"
    finally:
        if worker.poll() is None:
            worker.kill()
    receiver.release.set()  # the stalled request ends (its worker is gone)
    worker = start_worker(batch=1)
    try:
        wait_for(lambda: WebhookDelivery.objects.exclude(status="delivered").count() == 0, 60)
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(20)
    delivered = {r.headers["webhook-id"] for r in receiver.answered_ok()}
    assert delivered == {str(m) for m in WebhookMessage.objects.values_list("pk", flat=True)}
    assert len(delivered) == 20
    assert stalled in delivered  # the message in flight when the worker died came again
    receiver.verified(endpoint.secret)


def test_a_burst_of_1000_bookings_all_arrive_verified(receiver, admin_user, capsys):
    endpoint = endpoint_create(actor=admin_user, url=receiver.url, events=["booking.confirmed"])
    event = EventFactory(total_capacity=1000, available_seats=1000)
    people = UserFactory.create_batch(1000)

    def book(chunk):
        try:
            return [booking_create(event_id=event.pk, user=p, quantity=1).booking for p in chunk]
        finally:
            connection.close()

    with ThreadPoolExecutor(4) as pool:
        booked = [b for chunk in pool.map(book, [people[i::4] for i in range(4)]) for b in chunk]
    assert len(booked) == 1000

    # One worker process (the compose service's command), timed until the last is recorded.
    started = time.monotonic()
    worker = start_worker(batch=100)
    try:
        wait_for(lambda: WebhookDelivery.objects.filter(status="delivered").count() == 1000, 120)
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(20)
    seconds = time.monotonic() - started
    with capsys.disabled():
        print(
            f"\n1000 webhook messages from one worker process in {seconds:.2f} s (its start "
            f"included): {1000 / seconds:.0f} messages/s"
        )

    # At least once each: a try the in-process receiver answered after the worker's timeout
    # (1 s here) was sent again, with the same webhook-id for the receiver to drop.
    bodies = receiver.verified(endpoint.secret)
    assert len(bodies) >= 1000
    assert {b["data"]["id"] for b in bodies} == {str(b.pk) for b in booked}
