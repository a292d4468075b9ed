"""`deliver_webhooks` against a real HTTP server on 127.0.0.1, every message verified with the
standardwebhooks package."""

import json
import re
import time
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from django.core.management import call_command
from django.utils import timezone
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from bookings.services import booking_create
from notifications.models import Notification
from tests.concurrency import run_concurrently
from tests.factories import EventFactory, UserFactory
from tests.webhooks.receiver import Receiver
from webhooks.delivery import deliver, retry_delay
from webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from webhooks.services import endpoint_rotate_secret, endpoint_send_test

pytestmark = pytest.mark.django_db


def test_a_delivered_message_verifies_with_the_standardwebhooks_package(endpoint, receiver, user):
    booking = booking_create(event_id=EventFactory().pk, user=user, quantity=1).booking
    assert deliver().delivered == 1
    [request] = receiver.received
    payload = Webhook(endpoint.secret).verify(request.body, request.headers)
    assert payload["type"] == "booking.confirmed"
    assert payload["data"]["id"] == str(booking.pk)
    delivery = WebhookDelivery.objects.get()
    assert request.headers["webhook-id"] == str(delivery.message_id)
    assert request.headers["Content-Type"] == "application/json"
    assert abs(int(request.headers["webhook-timestamp"]) - time.time()) < 5
    assert (delivery.status, delivery.attempts) == ("delivered", 1)
    [attempt] = WebhookAttempt.objects.all()
    assert (attempt.status_code, attempt.error) == (200, "")
    assert deliver().delivered == 0  # never sent twice


def test_a_tampered_body_or_a_timestamp_older_than_five_minutes_fails_verification(
    endpoint, receiver, user
):
    booking_create(event_id=EventFactory().pk, user=user, quantity=1)
    deliver()
    [request] = receiver.received
    webhook = Webhook(endpoint.secret)
    tampered = request.body.replace(b'"quantity":1', b'"quantity":9')
    assert tampered != request.body
    with pytest.raises(WebhookVerificationError):
        webhook.verify(tampered, request.headers)
    with pytest.raises(WebhookVerificationError):
        Webhook("whsec_" + "QUJD" * 8).verify(request.body, request.headers)  # another secret
    later = timezone.now() + timedelta(minutes=5, seconds=2)
    with time_machine.travel(later), pytest.raises(WebhookVerificationError, match="too old"):
        webhook.verify(request.body, request.headers)


def test_a_receiver_failing_four_times_gets_the_message_on_the_fifth_attempt(
    endpoint, receiver, user
):
    receiver.script = [500, 500, 500, 500]
    booking_create(event_id=EventFactory().pk, user=user, quantity=1)
    rounds = [deliver() for _ in range(5)]
    assert [r.delivered for r in rounds] == [0, 0, 0, 0, 1]
    assert [r.status for r in receiver.received] == [500, 500, 500, 500, 200]
    # The same message each time: one webhook-id, each try signed anew and verified.
    assert len({r.headers["webhook-id"] for r in receiver.received}) == 1
    assert len(receiver.verified(endpoint.secret)) == 5
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts) == ("delivered", 5)
    codes = list(delivery.tries.values_list("status_code", flat=True))
    assert codes == [500, 500, 500, 500, 200]
    assert WebhookEndpoint.objects.get().failing_since is None  # the success ended the streak


def test_retries_follow_the_contract_schedule_with_jitter_then_the_delivery_fails(
    settings, endpoint, receiver, user
):
    settings.WEBHOOKS_RETRY_DELAYS = [5, 300, 1800, 7200, 18000, 36000, 36000]
    receiver.default = 503
    booking_create(event_id=EventFactory().pk, user=user, quantity=1)
    waits = []
    now = timezone.now()
    for _ in range(8):
        with time_machine.travel(now, tick=False):
            deliver()
        row = WebhookDelivery.objects.get()
        waits.append((row.next_attempt_at - now).total_seconds())
        now = row.next_attempt_at + timedelta(seconds=1)
    expected = [5, 300, 1800, 7200, 18000, 36000, 36000]
    for wait, base in zip(waits, expected, strict=False):
        assert 0.8 * base - 1 <= wait <= 1.2 * base + 1
    assert (row.status, row.attempts) == ("failed", 8)
    assert len(receiver.received) == 8
    spread = {retry_delay(1) for _ in range(20)}
    assert len(spread) > 1  # jitter: not every message retries at the same moment


def test_a_410_disables_the_endpoint_at_once(endpoint, receiver, user):
    receiver.script = [410]
    booking_create(event_id=EventFactory().pk, user=user, quantity=1)
    summary = deliver()
    assert (summary.given_up, summary.disabled) == (1, 1)
    endpoint.refresh_from_db()
    assert (endpoint.is_active, endpoint.disabled_reason) == (False, "it answered 410 Gone")
    assert WebhookDelivery.objects.get().status == "failed"
    booking_create(event_id=EventFactory().pk, user=user, quantity=1)
    assert WebhookDelivery.objects.count() == 1  # no new messages for it


def test_an_endpoint_failing_for_three_days_is_disabled_and_staff_are_told(
    settings, endpoint, receiver, user, admin_user
):
    settings.WEBHOOKS_RETRY_DELAYS = [3600.0] * 100
    receiver.default = 500
    start = timezone.now()
    booking_create(event_id=EventFactory().pk, user=user, quantity=1)
    deliver()
    assert WebhookEndpoint.objects.get().failing_since is not None
    with time_machine.travel(start + timedelta(days=2, hours=23)):
        assert deliver(now=timezone.now() + timedelta(days=1)).disabled == 0
    assert WebhookEndpoint.objects.get().is_active
    with time_machine.travel(start + timedelta(days=3, hours=1)):
        assert deliver(now=timezone.now() + timedelta(days=1)).disabled == 1
    endpoint.refresh_from_db()
    assert not endpoint.is_active
    assert endpoint.disabled_reason.startswith("its deliveries have failed since")
    [note] = Notification.objects.filter(type="webhook_disabled")
    assert note.user_id == admin_user.pk
    assert endpoint.url in note.title


def test_redirects_are_not_followed(endpoint, receiver, user):
    other = Receiver()
    try:
        receiver.script = [307]
        receiver.location = other.url
        booking_create(event_id=EventFactory().pk, user=user, quantity=1)
        assert deliver().failed == 1
        assert other.received == []
        attempt = WebhookAttempt.objects.get()
        assert attempt.status_code == 307
        assert attempt.error == f"redirect to {other.url} not followed"
    finally:
        other.stop()


def test_a_receiver_slower_than_the_timeout_is_a_failure(settings, endpoint, receiver, user):
    settings.WEBHOOKS_TIMEOUT_SECONDS = 1
    receiver.script = ["stall"]
    booking_create(event_id=EventFactory().pk, user=user, quantity=1)
    started = time.monotonic()
    assert deliver().failed == 1
    assert time.monotonic() - started < 3
    attempt = WebhookAttempt.objects.get()
    assert (attempt.status_code, attempt.error) == (None, "timed out after 1 s")
    assert deliver().delivered == 1  # and the retry goes through


def test_after_a_rotation_messages_carry_both_signatures_for_24_hours(
    endpoint, receiver, admin_user
):
    old = endpoint.secret
    rotated = endpoint_rotate_secret(endpoint_id=endpoint.pk, actor=admin_user)
    assert rotated.secret != old and rotated.secret.startswith("whsec_")
    endpoint_send_test(endpoint_id=endpoint.pk, actor=admin_user)
    deliver()
    request = receiver.received[-1]
    assert len(request.headers["webhook-signature"].split(" ")) == 2
    assert Webhook(old).verify(request.body, request.headers)["type"] == "webhook.test"
    assert Webhook(rotated.secret).verify(request.body, request.headers)
    with time_machine.travel(timezone.now() + timedelta(hours=24, minutes=1)):
        endpoint_send_test(endpoint_id=endpoint.pk, actor=admin_user)
        deliver()
        request = receiver.received[-1]
        assert len(request.headers["webhook-signature"].split(" ")) == 1
        Webhook(rotated.secret).verify(request.body, request.headers)
        with pytest.raises(WebhookVerificationError):
            Webhook(old).verify(request.body, request.headers)


def test_a_worker_that_died_mid_send_is_taken_over_after_its_lease(endpoint, receiver, user):
    booking_create(event_id=EventFactory().pk, user=user, quantity=1)
    WebhookDelivery.objects.update(
        status="sending", claimed_until=timezone.now() + timedelta(minutes=2)
    )
    assert deliver().delivered == 0  # another worker holds it
    with time_machine.travel(timezone.now() + timedelta(minutes=3)):
        assert deliver().delivered == 1
    assert len(receiver.received) == 1


def test_a_host_that_resolves_to_a_private_address_at_send_time_is_refused(
    settings, endpoint, receiver, user
):
    # Registered while allowed (as a name that resolved publicly then); at send time the
    # check runs again and refuses loopback, so rebinding a name gains nothing.
    settings.WEBHOOKS_ALLOW_INSECURE = False
    WebhookEndpoint.objects.update(
        url=receiver.url.replace("http://127.0.0.1", "https://localhost")
    )
    booking_create(event_id=EventFactory().pk, user=user, quantity=1)
    assert deliver().failed == 1
    assert receiver.received == []
    error = WebhookAttempt.objects.get().error
    assert error.startswith("refused: The host localhost resolves to a non-public address")


def test_deliveries_of_a_disabled_endpoint_wait_until_it_is_enabled(
    endpoint, receiver, user, admin_api
):
    booking_create(event_id=EventFactory().pk, user=user, quantity=1)
    WebhookEndpoint.objects.update(is_active=False)
    assert deliver().delivered == 0
    admin_api.patch(f"/api/admin/webhooks/{endpoint.pk}", {"is_active": True}, format="json")
    assert deliver().delivered == 1


def test_the_command_delivers_and_replays_a_failed_day(endpoint, receiver, user, capsys):
    receiver.script = [500] * 8
    booking_create(event_id=EventFactory().pk, user=user, quantity=1)
    for _ in range(8):
        call_command("deliver_webhooks")
    assert WebhookDelivery.objects.get().status == "failed"
    day = timezone.now().date().isoformat()
    call_command("deliver_webhooks", "--replay-failed", day)
    out = capsys.readouterr().out
    assert f"queued 1 failed deliveries of {day}" in out
    assert "deliver_webhooks: delivered 1," in out
    assert WebhookDelivery.objects.get().status == "delivered"
    assert len(receiver.answered_ok()) == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_several_workers_at_once_send_each_delivery_exactly_once(receiver, admin_user):
    from webhooks.services import endpoint_create

    endpoint = endpoint_create(actor=admin_user, url=receiver.url, events=["booking.confirmed"])
    event = EventFactory(total_capacity=30, available_seats=30)
    for person in UserFactory.create_batch(30):
        booking_create(event_id=event.pk, user=person, quantity=1)
    summaries = run_concurrently([lambda: deliver(limit=7)] * 6)
    assert sum(s.delivered for s in summaries) == 30
    ids = [r.headers["webhook-id"] for r in receiver.received]
    assert len(ids) == len(set(ids)) == 30
    assert all(
        json.loads(b)["type"] == "booking.confirmed" for b in [r.body for r in receiver.received]
    )
    receiver.verified(endpoint.secret)


def test_the_runbook_gives_the_default_schedule_s_length():
    # docs/operations.md tells operators how long a receiver may be down before deliveries
    # fail for good; the figure follows WEBHOOKS_RETRY_DELAYS' default in evently/settings.py.
    root = Path(__file__).resolve().parent.parent.parent
    source = (root / "evently" / "settings.py").read_text()
    default = re.search(r'"WEBHOOKS_RETRY_DELAYS", "([0-9.,]+)"', source).group(1)
    total = sum(float(seconds) for seconds in default.split(","))
    hours, rest = divmod(round(total), 3600)
    runbook = " ".join((root / "docs" / "operations.md").read_text().split())
    assert f"about {round(total / 3600)} hours after the first" in runbook
    assert f"= {hours} h {rest // 60} min," in runbook
    assert f"between {round(total * 0.8 / 3600)} and {round(total * 1.2 / 3600)} hours" in runbook
