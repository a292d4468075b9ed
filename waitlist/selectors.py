from django.db.models import Count, IntegerField, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.models import User
from core import metrics
from core.lookups import get_or_not_found
from waitlist.models import WaitlistEntry

Status = WaitlistEntry.Status


def with_position(queryset: QuerySet[WaitlistEntry]) -> QuerySet[WaitlistEntry]:
    """Annotate `position`: 1 + the waiting entries of the same event served before this one.

    One correlated subquery, so a page of entries costs one query whatever its size.
    """
    ahead = (
        WaitlistEntry.objects.filter(event=OuterRef("event"), status=Status.WAITING)
        .filter(
            Q(priority__gt=OuterRef("priority"))
            | Q(priority=OuterRef("priority"), joined_at__lt=OuterRef("joined_at"))
            | Q(
                priority=OuterRef("priority"),
                joined_at=OuterRef("joined_at"),
                id__lt=OuterRef("id"),
            )
        )
        .order_by()
        .values("event")
        .annotate(n=Count("id"))
        .values("n")
    )
    return queryset.annotate(
        position=Coalesce(Subquery(ahead, output_field=IntegerField()), Value(0)) + 1
    )


def _entries():
    return with_position(WaitlistEntry.objects.select_related("event"))


def waitlist_entries_of(*, user: User, active_only: bool = False) -> QuerySet[WaitlistEntry]:
    entries = _entries().filter(user=user)
    if active_only:
        entries = entries.filter(status__in=[Status.WAITING, Status.OFFERED])
    return entries.order_by("-joined_at", "-id")


def waitlist_entry_get(*, entry_id, user: User) -> WaitlistEntry:
    entries = _entries() if user.is_admin else _entries().filter(user=user)
    return get_or_not_found(entries, pk=entry_id, message="No waitlist entry with this id.")


def waitlist_entry_owned(entry_id, user: User) -> WaitlistEntry:
    """One of `user`'s own entries (not an admin's view of everyone's); others are 404."""
    return get_or_not_found(
        WaitlistEntry.objects.filter(user=user),
        pk=entry_id,
        message="No waitlist entry with this id.",
    )


def overdue_offers_state(*, now=None) -> tuple[int, float]:
    """(offers still holding seats past their deadline, seconds the most overdue one is past
    it) for the metrics scrape; the expiry loop keeps both near zero. One query on the loop's
    own partial index (waitlist_offer_due_idx)."""
    now = now or timezone.now()
    overdue = WaitlistEntry.objects.filter(status=Status.OFFERED, offer_expires_at__lt=now)
    return metrics.count_and_age(overdue, since="offer_expires_at", now=now)
