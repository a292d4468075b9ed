from django.db.models import Count, Max, Min, Q, QuerySet
from rest_framework.exceptions import ValidationError

from accounts.models import User
from core import metrics
from notifications.filters import NotificationFilter
from notifications.models import Notification


def notifications_of(*, user: User, filters: dict) -> QuerySet[Notification]:
    filterset = NotificationFilter(
        filters, queryset=Notification.objects.filter(user=user).order_by("-created_at", "-id")
    )
    if not filterset.is_valid():
        raise ValidationError(filterset.errors)
    return filterset.qs


def event_message_deliveries(*, event_id) -> list[dict]:
    """Staff's messages to an event's ticket holders, newest first, each with how its e-mails
    fared (the outbox fields of its notifications), in one query.

    A message is the notifications of type `event_message` with the same title and text; the
    same text sent twice shows as one line, with both sends' recipients.
    """
    status = Notification.EmailStatus
    return list(
        Notification.objects.filter(event_id=event_id, type=Notification.Type.EVENT_MESSAGE)
        .order_by()
        .values("title", "message")
        .annotate(
            first_sent=Min("created_at"),
            last_sent=Max("created_at"),
            recipients=Count("id"),
            delivered=Count("id", filter=Q(email_status=status.SENT)),
            pending=Count("id", filter=Q(email_status__in=[status.PENDING, status.SENDING])),
            failed=Count("id", filter=Q(email_status=status.FAILED)),
            read=Count("id", filter=Q(is_read=True)),
        )
        .order_by("-first_sent")
    )


def email_outbox_state(*, now=None) -> tuple[int, float]:
    """(e-mails not yet sent, seconds the oldest due one has waited since it fell due) for the
    metrics scrape: one query on the mailer's own partial index (notif_email_due_idx). A row
    waiting out its retry backoff is not due, so it does not age the outbox."""
    unsent = Notification.objects.filter(
        email_status__in=[Notification.EmailStatus.PENDING, Notification.EmailStatus.SENDING]
    )
    return metrics.count_and_age(unsent, since="email_next_attempt_at", now=now)
