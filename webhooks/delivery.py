"""Sending webhook deliveries: `deliver_webhooks` and its loop.

The delivery rows are the outbox: written in the transaction of the change (webhooks.outbox),
sent here outside any transaction. Workers claim rows with a conditional update under SKIP
LOCKED and a lease, as the notification e-mails' senders do (notifications.delivery), so
several copies on several machines share the work and a worker killed mid-send only delays
its rows until the lease lapses. Delivery is at least once: a worker that dies between the
receiver's answer and recording it causes a repeat, with the same `webhook-id`.

Order is not kept: several workers, retries and a slow receiver reorder messages. Receivers
order by the body's `timestamp` and the object's `updated_at` (README, "Webhooks").
"""

import logging
import random
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from accounts.models import User
from core import locks
from notifications.models import Notification
from notifications.services import notify
from webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from webhooks.network import Answer, post

logger = logging.getLogger(__name__)

Status = WebhookDelivery.Status
FAILING_FOR = timedelta(days=3)  # an endpoint failing this long without a success is disabled
JITTER = 0.2  # each wait is its delay ± 20 %, so retries of many messages spread out
# Requests of a batch in flight at once: a slow receiver holds up one thread, not the batch.
SENDERS = 8


def lease(batch: int) -> timedelta:
    """Longer than sending a whole batch can take, even one request at a time: each ends
    within its timeout (and a name look-up's few seconds)."""
    return timedelta(seconds=batch * (settings.WEBHOOKS_TIMEOUT_SECONDS + 5) + 2)


def retry_delay(attempts: int) -> timedelta | None:
    """The wait after the `attempts`-th failed try (about 5 s, 5 min, 30 min, 2 h, 5 h, 10 h,
    10 h, from WEBHOOKS_RETRY_DELAYS), with jitter; None when the tries are used up."""
    delays = settings.WEBHOOKS_RETRY_DELAYS
    if attempts > len(delays):
        return None
    base = delays[attempts - 1]
    return timedelta(seconds=base * random.uniform(1 - JITTER, 1 + JITTER))


def signature(secrets: list[str], message_id: str, at: datetime, body: str) -> str:
    """`v1,<base64 HMAC-SHA256 of id.timestamp.body>` per secret, space-separated (Standard
    Webhooks; the receiver accepts any one)."""
    return " ".join(Webhook(s).sign(message_id, at, body) for s in secrets)


def headers_for(delivery: WebhookDelivery, now: datetime) -> dict[str, str]:
    message = delivery.message
    now = now.replace(microsecond=0)
    return {
        "webhook-id": str(message.pk),
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": signature(
            delivery.endpoint.secrets(now), str(message.pk), now, message.body
        ),
    }


@dataclass
class DeliverySummary:
    delivered: int = 0
    failed: int = 0
    given_up: int = 0
    disabled: int = 0

    def __str__(self) -> str:
        return (
            f"delivered {self.delivered}, failed {self.failed} (will retry), gave up on "
            f"{self.given_up}, disabled {self.disabled} endpoint(s)"
        )


def _claim(*, limit: int, now: datetime, ids=None) -> list[WebhookDelivery]:
    due = Q(status=Status.PENDING, next_attempt_at__lte=now) | Q(
        status=Status.SENDING, claimed_until__lt=now
    )
    with transaction.atomic():
        rows = WebhookDelivery.objects.filter(due, endpoint__is_active=True)
        if ids is not None:
            rows = rows.filter(pk__in=ids)
        locks.acquire(locks.OUTBOX)
        claimed = list(
            rows.select_for_update(skip_locked=True, of=("self",))
            .select_related("message", "endpoint")
            .order_by("next_attempt_at", "created_at")[:limit]
        )
        WebhookDelivery.objects.filter(pk__in=[d.pk for d in claimed]).update(
            status=Status.SENDING, claimed_until=now + lease(limit)
        )
    return claimed


def _disable(endpoint_id, reason: str, *, tell_staff: bool) -> bool:
    """Switch an endpoint off (once, whoever else tries); tell every admin if asked."""
    with transaction.atomic():
        changed = WebhookEndpoint.objects.filter(pk=endpoint_id, is_active=True).update(
            is_active=False, disabled_reason=reason[:200], updated_at=timezone.now()
        )
        if changed and tell_staff:
            endpoint = WebhookEndpoint.objects.get(pk=endpoint_id)
            admins = User.objects.filter(role=User.Role.ADMIN, is_active=True).order_by("pk")
            notify(
                user_ids=admins.values_list("pk", flat=True),
                type=Notification.Type.WEBHOOK_DISABLED,
                title=f"Webhook endpoint disabled: {endpoint.url}"[:200],
                message=f"{endpoint.url} was disabled: {reason}. Fix the receiver, enable the "
                "endpoint again in the console, and retry its failed deliveries.",
            )
    if changed:
        logger.warning(
            "webhook endpoint disabled", extra={"endpoint_id": str(endpoint_id), "reason": reason}
        )
    return bool(changed)


def _record_delivered(deliveries: list[WebhookDelivery], summary) -> None:
    """The successes of a batch, in two statements however many."""
    # Only while still ours: a staff retry meanwhile has made a row pending again.
    WebhookDelivery.objects.filter(pk__in=[d.pk for d in deliveries], status=Status.SENDING).update(
        status=Status.DELIVERED,
        attempts=F("attempts") + 1,
        delivered_at=timezone.now(),
        failed_at=None,
        claimed_until=None,
    )
    WebhookEndpoint.objects.filter(
        pk__in={d.endpoint_id for d in deliveries}, failing_since__isnull=False
    ).update(failing_since=None)  # a success ends a failing streak
    summary.delivered += len(deliveries)


def _record_failure(delivery: WebhookDelivery, answer: Answer, at: datetime, summary) -> None:
    attempts = delivery.attempts + 1
    endpoint = delivery.endpoint
    mine = WebhookDelivery.objects.filter(pk=delivery.pk, status=Status.SENDING)
    now = timezone.now()
    if answer.status_code == 410:  # Gone: the receiver asks not to be called again
        mine.update(status=Status.FAILED, attempts=attempts, failed_at=at, claimed_until=None)
        summary.given_up += 1
        summary.disabled += _disable(endpoint.pk, "it answered 410 Gone", tell_staff=False)
        return
    wait = retry_delay(attempts)
    if wait is None:
        mine.update(status=Status.FAILED, attempts=attempts, failed_at=at, claimed_until=None)
        summary.given_up += 1
    else:
        mine.update(
            status=Status.PENDING,
            attempts=attempts,
            next_attempt_at=now + wait,
            failed_at=at,
            claimed_until=None,
        )
        summary.failed += 1
    WebhookEndpoint.objects.filter(pk=endpoint.pk, failing_since__isnull=True).update(
        failing_since=at
    )
    failing_since = endpoint.failing_since or at
    if failing_since <= now - FAILING_FOR:
        summary.disabled += _disable(
            endpoint.pk,
            f"its deliveries have failed since {failing_since:%Y-%m-%d %H:%M} UTC",
            tell_staff=True,
        )


def _send(delivery: WebhookDelivery) -> tuple[WebhookDelivery, datetime, Answer]:
    at = timezone.now()
    body = delivery.message.body.encode()
    return delivery, at, post(delivery.endpoint.url, body, headers_for(delivery, at))


def deliver(*, limit: int = 20, now: datetime | None = None, ids=None) -> DeliverySummary:
    """Send the due deliveries (at most `limit`), SENDERS requests at a time, then record
    every try and outcome in one transaction: one commit a batch, not three a message. A
    worker that dies before that commit sends the batch again (at least once)."""
    now = now or timezone.now()
    summary = DeliverySummary()
    claimed = _claim(limit=limit, now=now, ids=ids)
    if not claimed:
        return summary
    with ThreadPoolExecutor(min(SENDERS, len(claimed))) as pool:
        sent = list(pool.map(_send, claimed))
    with transaction.atomic():
        WebhookAttempt.objects.bulk_create(
            WebhookAttempt(
                delivery=delivery,
                attempted_at=at,
                status_code=answer.status_code,
                duration_ms=answer.duration_ms,
                error=answer.error,
            )
            for delivery, at, answer in sent
        )
        delivered = [delivery for delivery, _, answer in sent if answer.ok]
        if delivered:
            _record_delivered(delivered, summary)
        for delivery, at, answer in sent:
            if not answer.ok:
                _record_failure(delivery, answer, at, summary)
    for delivery, _, answer in sent:
        if not answer.ok:
            logger.info(
                "webhook delivery failed",
                extra={
                    "delivery_id": str(delivery.pk),
                    "status_code": answer.status_code,
                    "error": answer.error,
                },
            )
    return summary
