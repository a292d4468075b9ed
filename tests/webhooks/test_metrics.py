"""The webhook outbox in the metrics scrape, beside the e-mail outbox."""

from datetime import UTC, datetime, timedelta

import time_machine

from tests.test_metrics import TOKEN, samples
from webhooks.models import WebhookDelivery, WebhookMessage
from webhooks.services import endpoint_create, endpoint_update

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
