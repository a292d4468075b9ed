"""The webhook outbox in the metrics scrape, beside the e-mail outbox."""

from datetime import UTC, datetime, timedelta

import time_machine

from tests.test_metrics import TOKEN, samples
from webhooks.delivery import deliver
from webhooks.models import WebhookDelivery, WebhookMessage
from webhooks.services import endpoint_create, endpoint_send_test, endpoint_update

NOW = datetime(2026, 12, 1, 20, 0, tzinfo=UTC)


def test_scrape_reads_the_webhook_backlog_and_the_age_of_its_oldest_due_delivery(
    client, settings, endpoint
):
    settings.METRICS_TOKEN = TOKEN
    for status, due in [
        ("pending", NOW - timedelta(seconds=45)),  # due for 45 s: the oldest
        ("sending", NOW - timedelta(seconds=10)),
        ("pending", NOW + timedelta(minutes=5)),  # waiting out a retry delay: not due
        ("delivered", NOW - timedelta(hours=1)),
        ("failed", NOW - timedelta(hours=2)),  # given up: not the worker's any more
    ]:
        message = WebhookMessage.objects.create(type="booking.confirmed", body="{}")
        WebhookDelivery.objects.create(
            message=message, endpoint=endpoint, status=status, next_attempt_at=due
        )

    with time_machine.travel(NOW, tick=False):
        response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")

    assert response.status_code == 200
    found = samples(response.content.decode())
    assert found['evently_outbox_backlog{outbox="webhooks"}'] == 3
    assert found['evently_outbox_oldest_age_seconds{outbox="webhooks"}'] == 45


def test_an_idle_webhook_outbox_reads_zero(client, settings, db):
    settings.METRICS_TOKEN = TOKEN
    found = samples(client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}").content.decode())
    assert found['evently_outbox_backlog{outbox="webhooks"}'] == 0
    assert found['evently_outbox_oldest_age_seconds{outbox="webhooks"}'] == 0


def test_deliveries_of_a_disabled_endpoint_neither_grow_nor_age_the_webhook_outbox(
    client, settings, endpoint, receiver, admin_user
):
    settings.METRICS_TOKEN = TOKEN
    switched_off = endpoint_create(actor=admin_user, url=receiver.url, events=["*"])
    for target, due in [
        (endpoint, NOW - timedelta(seconds=20)),
        (switched_off, NOW - timedelta(hours=3)),  # waits for staff, not for the worker
        (switched_off, NOW - timedelta(hours=2)),
    ]:
        message = WebhookMessage.objects.create(type="booking.confirmed", body="{}")
        WebhookDelivery.objects.create(message=message, endpoint=target, next_attempt_at=due)
    endpoint_update(endpoint_id=switched_off.pk, actor=admin_user, changes={"is_active": False})

    with time_machine.travel(NOW, tick=False):
        found = samples(
            client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}").content.decode()
        )
    assert found['evently_outbox_backlog{outbox="webhooks"}'] == 1
    assert found['evently_outbox_oldest_age_seconds{outbox="webhooks"}'] == 20

    # Enabled again, its deliveries are the worker's once more, and count.
    endpoint_update(endpoint_id=switched_off.pk, actor=admin_user, changes={"is_active": True})
    with time_machine.travel(NOW, tick=False):
        found = samples(
            client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}").content.decode()
        )
    assert found['evently_outbox_backlog{outbox="webhooks"}'] == 3
    assert found['evently_outbox_oldest_age_seconds{outbox="webhooks"}'] == 3 * 3600


def scrape(client) -> dict[str, float]:
    return samples(client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}").content.decode())


RETRYING = 'evently_webhook_failed_deliveries{state="retrying"}'
GIVEN_UP = 'evently_webhook_failed_deliveries{state="given_up"}'


def test_scrape_counts_deliveries_being_retried_and_those_given_up_in_the_last_hour(
    client, settings, endpoint, receiver, admin_user
):
    settings.METRICS_TOKEN = TOKEN
    settings.WEBHOOKS_RETRY_DELAYS = [60.0]  # one retry, a minute (+-20 %) after the first try
    receiver.default = 500
    with time_machine.travel(NOW, tick=False):
        for _ in range(4):
            endpoint_send_test(endpoint_id=endpoint.pk, actor=admin_user)
        assert deliver().failed == 4
        found = scrape(client)
    assert (found[RETRYING], found[GIVEN_UP]) == (4, 0)
    assert WebhookDelivery.objects.filter(failed_at=NOW).count() == 4

    # The retry: one goes through, three fail for good.
    receiver.script = [200]
    later = NOW + timedelta(minutes=2)
    with time_machine.travel(later, tick=False):
        summary = deliver()
        assert (summary.delivered, summary.given_up) == (1, 3)
        found = scrape(client)
    assert (found[RETRYING], found[GIVEN_UP]) == (0, 3)
    delivered = WebhookDelivery.objects.get(status="delivered")
    assert delivered.failed_at is None  # the success cleared it
    given_up = WebhookDelivery.objects.filter(status="failed")
    assert set(given_up.values_list("failed_at", flat=True)) == {later}

    # An hour after they were given up on they drop out; the rows stay, failed.
    with time_machine.travel(later + timedelta(minutes=59, seconds=59), tick=False):
        assert scrape(client)[GIVEN_UP] == 3
    with time_machine.travel(later + timedelta(hours=1, seconds=1), tick=False):
        assert scrape(client)[GIVEN_UP] == 0
    assert given_up.count() == 3


def test_failing_deliveries_of_a_disabled_endpoint_are_not_counted(
    client, settings, endpoint, receiver, admin_user
):
    settings.METRICS_TOKEN = TOKEN
    settings.WEBHOOKS_RETRY_DELAYS = [60.0]
    receiver.default = 500
    with time_machine.travel(NOW, tick=False):
        endpoint_send_test(endpoint_id=endpoint.pk, actor=admin_user)
        deliver()
        assert scrape(client)[RETRYING] == 1
        endpoint_update(endpoint_id=endpoint.pk, actor=admin_user, changes={"is_active": False})
        found = scrape(client)
    assert (found[RETRYING], found[GIVEN_UP]) == (0, 0)


def test_a_delivery_given_up_on_a_410_is_not_counted_its_endpoint_is_switched_off(
    client, settings, endpoint, receiver, admin_user
):
    # The receiver asked not to be called again: the console shows why, the gauge stays quiet.
    settings.METRICS_TOKEN = TOKEN
    receiver.script = [410]
    with time_machine.travel(NOW, tick=False):
        endpoint_send_test(endpoint_id=endpoint.pk, actor=admin_user)
        assert deliver().given_up == 1
        found = scrape(client)
    assert WebhookDelivery.objects.get().failed_at == NOW
    assert (found[RETRYING], found[GIVEN_UP]) == (0, 0)
