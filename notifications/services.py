from collections.abc import Iterable

from django.db import transaction

from accounts.models import User
from core.lookups import get_or_not_found
from events.models import Event
from notifications.delivery import deliver_after_commit
from notifications.models import Notification


def notify(
    *, user_ids: Iterable, type: str, title: str, message: str, event: Event | None = None
) -> list[Notification]:
    """Write one notification per person, inside the caller's transaction."""
    rows = [
        Notification(
            user_id=user_id,
            event=event,
            type=type,
            title=title,
            message=message,
        )
        for user_id in dict.fromkeys(user_ids)  # each person once, in order
    ]
    created = Notification.objects.bulk_create(rows)
    deliver_after_commit([n.pk for n in created])
    return created


def notification_mark_read(*, notification_id, user: User) -> Notification:
    notification = get_or_not_found(
        Notification.objects.filter(user=user),
        pk=notification_id,
        message="No notification with this id.",
    )
    if not notification.is_read:
        notification.is_read = True
        notification.save(update_fields=["is_read"])
    return notification


def notification_mark_all_read(*, user: User) -> int:
    with transaction.atomic():
        return Notification.objects.filter(user=user, is_read=False).update(is_read=True)
