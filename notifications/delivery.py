"""E-mail delivery of notifications, after commit and by the `send_notification_emails` loop.

A notification row is the outbox: it is written in the transaction of the change it reports,
so nothing is ever lost; delivery then happens outside any transaction. Senders claim rows
with a conditional update under SKIP LOCKED, so several copies share the work. Delivery is at
least once: only a sender that dies between sending and recording it can cause a repeat.
"""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from core import locks
from notifications.models import Notification

logger = logging.getLogger(__name__)

EmailStatus = Notification.EmailStatus
LEASE = timedelta(minutes=10)  # far longer than an SMTP send may take (EMAIL_TIMEOUT)
MAX_ATTEMPTS = 8


def backoff(attempts: int) -> timedelta:
    """1, 2, 4, ... minutes after each failure, at most 6 hours."""
    return timedelta(minutes=min(2 ** (attempts - 1), 360))


@dataclass
class DeliverySummary:
    sent: int = 0
    failed: int = 0
    given_up: int = 0

    def __str__(self) -> str:
        return f"sent {self.sent}, failed {self.failed} (will retry), gave up on {self.given_up}"


def _claim(*, ids=None, limit: int, now: datetime) -> list[Notification]:
    due = Q(email_status=EmailStatus.PENDING, email_next_attempt_at__lte=now) | Q(
        email_status=EmailStatus.SENDING, email_claimed_until__lt=now
    )
    with transaction.atomic():
        rows = Notification.objects.filter(due)
        if ids is not None:
            rows = rows.filter(pk__in=ids)
        locks.acquire(locks.OUTBOX)
        claimed = list(
            rows.select_for_update(skip_locked=True, of=("self",))
            .select_related("user")
            .order_by("email_next_attempt_at")[:limit]
        )
        Notification.objects.filter(pk__in=[n.pk for n in claimed]).update(
            email_status=EmailStatus.SENDING, email_claimed_until=now + LEASE
        )
    return claimed


def _send(notification: Notification) -> None:
    send_mail(
        subject=notification.title,
        message=notification.message,
        from_email=settings.DEFAULT_FROM_EMAIL,
        recipient_list=[notification.user.email],
    )


def deliver(*, ids=None, limit: int = 100, now: datetime | None = None) -> DeliverySummary:
    """Send the due e-mails (or only those of `ids`); record each outcome on its row."""
    now = now or timezone.now()
    summary = DeliverySummary()
    for notification in _claim(ids=ids, limit=limit, now=now):
        attempts = notification.email_attempts + 1
        mine = Notification.objects.filter(pk=notification.pk, email_status=EmailStatus.SENDING)
        try:
            _send(notification)
        except Exception as exc:  # any backend failure: keep the row and retry later
            give_up = attempts >= MAX_ATTEMPTS
            mine.update(
                email_status=EmailStatus.FAILED if give_up else EmailStatus.PENDING,
                email_attempts=attempts,
                email_next_attempt_at=timezone.now() + backoff(attempts),
                email_claimed_until=None,
                email_last_error=f"{type(exc).__name__}: {exc}"[:500],
            )
            summary.given_up += give_up
            summary.failed += not give_up
            logger.warning(
                "notification e-mail failed",
                extra={"notification_id": str(notification.pk), "attempts": attempts},
            )
        else:
            mine.update(
                email_status=EmailStatus.SENT,
                email_attempts=attempts,
                email_sent_at=timezone.now(),
                email_claimed_until=None,
                email_last_error="",
            )
            summary.sent += 1
    return summary


def deliver_after_commit(ids: list) -> None:
    """Called from notify(): try the new e-mails as soon as their transaction commits.

    A failure here is harmless: the rows stay pending for the mailer loop.
    """
    if not settings.NOTIFICATION_EMAIL_ON_COMMIT or not ids:
        return

    def send_now():
        try:
            deliver(ids=ids, limit=len(ids))
        except Exception:
            logger.exception("immediate notification e-mail failed; the mailer will retry")

    transaction.on_commit(send_now)
