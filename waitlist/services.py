import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from accounts.models import User
from core import locks, metrics
from core.exceptions import (
    AlreadyCancelled,
    AlreadyWaitlisted,
    NotOffered,
    WaitlistEntryClosed,
)
from core.lookups import get_or_not_found
from events.models import Event, TicketType
from events.seats import lock_event, lock_ticket_types, move_seats, move_type_seats
from notifications.models import Notification
from notifications.services import notify
from waitlist import signals
from waitlist.models import ACTIVE_STATUSES, WaitlistEntry
from waitlist.selectors import waitlist_entry_owned, with_position

logger = logging.getLogger(__name__)

Status = WaitlistEntry.Status


def event_is_open(event: Event, now: datetime | None = None) -> bool:
    return event.status == Event.Status.SCHEDULED and event.event_time > (now or timezone.now())


def waiting_queue(event: Event) -> QuerySet[WaitlistEntry]:
    """An event's waiting entries in serving order."""
    return WaitlistEntry.objects.filter(event=event, status=Status.WAITING).order_by(
        "-priority", "joined_at", "id"
    )


def waitlist_join(
    *, event: Event, user: User, quantity: int, ticket_type: TicketType
) -> WaitlistEntry:
    """Put `user` in the queue of a locked event whose type, or the event itself, has no seats
    for them; the entry waits for seats of that type."""
    if WaitlistEntry.objects.filter(event=event, user=user, status__in=ACTIVE_STATUSES).exists():
        raise AlreadyWaitlisted()
    entry = WaitlistEntry.objects.create(
        event=event, user=user, quantity=quantity, ticket_type=ticket_type
    )
    # The answer's position, read in this transaction: nothing is read after the commit.
    entry.position = (
        with_position(WaitlistEntry.objects.filter(pk=entry.pk))
        .values_list("position", flat=True)
        .get()
    )
    notify(
        user_ids=[user.pk],
        event=event,
        type=Notification.Type.WAITLIST_JOINED,
        title=f"You're on the waitlist for {event.name}",
        message=f"We'll offer you {quantity} seat(s) as soon as they free up.",
    )
    logger.info("waitlist joined", extra={"entry_id": str(entry.pk), "event_id": str(event.pk)})
    return entry


def waitlist_serve(*, event: Event, now: datetime | None = None) -> list[WaitlistEntry]:
    """Offer a locked event's free seats down the queue (its types locked too, `lock_event`).

    Each waiting entry, in order, whose quantity fits both in the event's seats still free and
    in its type's gets an offer that holds those seats for WAITLIST_OFFER_TTL_SECONDS; an entry
    that does not fit is passed over (it keeps its place) and the next is tried. Entries of an
    inactive type wait until it sells again. Afterwards no waiting entry fits both counters, so
    a plain booking that finds free seats of a type never jumps anyone who could have used
    them.
    """
    now = now or timezone.now()
    if not event_is_open(event, now) or event.available_seats == 0:
        return []
    free = event.available_seats
    type_free = {pk: t.available for pk, t in event.locked_types.items() if t.is_active}
    offered: list[WaitlistEntry] = []
    expires = now + timedelta(seconds=settings.WAITLIST_OFFER_TTL_SECONDS)
    for entry in waiting_queue(event).filter(quantity__lte=free):
        if entry.quantity > min(free, type_free.get(entry.ticket_type_id, 0)):
            continue
        entry.status = Status.OFFERED
        entry.offered_at = now
        entry.offer_expires_at = expires
        offered.append(entry)
        free -= entry.quantity
        type_free[entry.ticket_type_id] -= entry.quantity
        if free == 0:
            break
    if not offered:
        return []
    WaitlistEntry.objects.bulk_update(offered, ["status", "offered_at", "offer_expires_at"])
    held = sum(entry.quantity for entry in offered)
    move_seats(event, available=-held, held=held)
    _move_types_held(event, offered, 1)
    metrics.on_commit(metrics.OFFERS.labels("made"), len(offered))
    signals.offers_made.send(sender=WaitlistEntry, event=event, entries=offered)
    for entry in offered:
        notify(
            user_ids=[entry.user_id],
            event=event,
            type=Notification.Type.WAITLIST_OFFER,
            title=f"Seats are waiting for you: {event.name}",
            message=(
                f"{entry.quantity} seat(s) are held for you until "
                f"{expires:%Y-%m-%d %H:%M} UTC. Accept the offer to book them."
            ),
        )
        logger.info("waitlist offer", extra={"entry_id": str(entry.pk)})
    return offered


def _move_types_held(event: Event, entries: list[WaitlistEntry], sign: int) -> None:
    """Hold (sign 1) or release (-1) the entries' seats of their types, one update per type."""
    per_type: dict = {}
    for entry in entries:
        per_type[entry.ticket_type_id] = per_type.get(entry.ticket_type_id, 0) + entry.quantity
    for ticket_type_id in sorted(per_type):
        n = per_type[ticket_type_id] * sign
        move_type_seats(event, ticket_type_id, available=-n, held=n)


def _release_offer(event: Event, entry: WaitlistEntry, status: str) -> None:
    """End an open offer of a locked event; its held seats become available again."""
    entry.status = status
    entry.save(update_fields=["status", "updated_at"])
    move_seats(event, available=entry.quantity, held=-entry.quantity)
    _move_types_held(event, [entry], -1)
    outcome = "expired" if status == Status.EXPIRED else "declined"
    metrics.on_commit(metrics.OFFERS.labels(outcome))
    if status == Status.EXPIRED:
        signals.offer_expired.send(sender=WaitlistEntry, event=event, entry=entry)


def expire_offer(event: Event, entry: WaitlistEntry) -> None:
    """End an open offer of a locked event as expired: its seats come back, its owner is told."""
    _release_offer(event, entry, Status.EXPIRED)
    notify(
        user_ids=[entry.user_id],
        event=event,
        type=Notification.Type.WAITLIST_OFFER_EXPIRED,
        title=f"Your offer for {event.name} expired",
        message="The held seats were passed on to the next person on the waitlist.",
    )
    logger.info("waitlist offer expired", extra={"entry_id": str(entry.pk)})


def _expire_due_offers(event: Event, now: datetime) -> list[WaitlistEntry]:
    """Expire a locked event's offers past their deadline; their seats become available."""
    due = list(
        locks.rows(
            WaitlistEntry.objects.filter(
                event=event, status=Status.OFFERED, offer_expires_at__lte=now
            )
        )
    )
    for entry in due:
        expire_offer(event, entry)
    return due


@metrics.counts_outcomes(metrics.BOOKING_CONFLICTS, conflicts_only=True)
def waitlist_entry_leave(*, entry_id, user: User) -> WaitlistEntry:
    """Leave the waitlist (decline an offer or stop waiting); held seats pass on."""
    entry = waitlist_entry_owned(entry_id, user)
    with transaction.atomic():
        event = lock_event(entry.event_id)
        entry = locks.rows(WaitlistEntry.objects.filter(pk=entry.pk)).get()
        entry.event = event
        if entry.status == Status.CANCELLED:
            raise AlreadyCancelled("You already left this waitlist.")
        if entry.status == Status.WAITING:
            entry.status = Status.CANCELLED
            entry.save(update_fields=["status", "updated_at"])
        elif entry.status == Status.OFFERED:
            _release_offer(event, entry, Status.CANCELLED)
            waitlist_serve(event=event)
        else:
            raise WaitlistEntryClosed()
    logger.info("waitlist left", extra={"entry_id": str(entry.pk)})
    return entry


def waitlist_offer_expire(*, entry_id, actor: User) -> WaitlistEntry:
    """Staff end an open offer now, before its deadline; its seats pass on."""
    entry = get_or_not_found(
        WaitlistEntry.objects.all(), pk=entry_id, message="No waitlist entry with this id."
    )
    with transaction.atomic():
        event = lock_event(entry.event_id)
        entry = locks.rows(WaitlistEntry.objects.filter(pk=entry.pk)).get()
        if entry.status != Status.OFFERED:
            raise NotOffered()
        expire_offer(event, entry)
        waitlist_serve(event=event)
    return entry


def waitlist_event_serve(*, event_id, actor: User) -> list[WaitlistEntry]:
    """Staff's "offer seats now": expire the event's overdue offers and offer what is free."""
    with transaction.atomic():
        event = lock_event(event_id)
        now = timezone.now()
        if event_is_open(event, now):
            _expire_due_offers(event, now)
        return waitlist_serve(event=event, now=now)


def waitlist_entry_set_priority(*, entry_id, priority: int, actor: User) -> WaitlistEntry:
    """Staff move an entry up or down the queue. Order changes; who fits does not, so the
    free seats need no new offers."""
    entry = get_or_not_found(
        WaitlistEntry.objects.all(), pk=entry_id, message="No waitlist entry with this id."
    )
    with transaction.atomic():
        lock_event(entry.event_id)
        entry = locks.rows(WaitlistEntry.objects.filter(pk=entry.pk)).get()
        if not entry.is_active:
            raise WaitlistEntryClosed()
        entry.priority = priority
        entry.save(update_fields=["priority", "updated_at"])
    return entry


def waitlist_cancel_all(*, event: Event) -> list[WaitlistEntry]:
    """Cancel every active entry of a locked event (the event is being cancelled)."""
    entries = list(
        locks.rows(WaitlistEntry.objects.filter(event=event, status__in=ACTIVE_STATUSES))
    )
    offers = [e for e in entries if e.status == Status.OFFERED]
    held = sum(e.quantity for e in offers)
    WaitlistEntry.objects.filter(pk__in=[e.pk for e in entries]).update(
        status=Status.CANCELLED, updated_at=timezone.now()
    )
    if held:
        move_seats(event, available=held, held=-held)
        _move_types_held(event, offers, -1)
    return entries


@dataclass
class ExpirySummary:
    offers_expired: int = 0
    offers_made: int = 0
    entries_closed: int = 0
    events: set = field(default_factory=set)

    def __str__(self) -> str:
        return (
            f"expired {self.offers_expired} offer(s), made {self.offers_made} new offer(s), "
            f"closed {self.entries_closed} waitlist entr(ies) of started events, "
            f"across {len(self.events)} event(s)"
        )


def _expire_event(event_id, now: datetime, summary: ExpirySummary) -> None:
    with transaction.atomic():
        # Another copy of the command holding this event is already doing the work.
        locks.acquire(locks.EVENT)
        event = Event.objects.select_for_update(skip_locked=True).filter(pk=event_id).first()
        if event is None:
            return
        lock_ticket_types(event)
        if event_is_open(event, now):
            expired = _expire_due_offers(event, now)
            summary.offers_expired += len(expired)
            summary.offers_made += len(waitlist_serve(event=event, now=now))
            if expired:
                summary.events.add(event.pk)
            return
        # Started (or cancelled): nothing more will be offered; close the waitlist.
        active = list(
            locks.rows(
                WaitlistEntry.objects.filter(event=event, status__in=ACTIVE_STATUSES)
            ).order_by("joined_at")
        )
        for entry in active:
            if entry.status == Status.OFFERED:
                _release_offer(event, entry, Status.EXPIRED)
                summary.offers_expired += 1
            else:
                entry.status = Status.EXPIRED
                entry.save(update_fields=["status", "updated_at"])
                summary.entries_closed += 1
        if active:
            notify(
                user_ids=[entry.user_id for entry in active],
                event=event,
                type=Notification.Type.WAITLIST_OFFER_EXPIRED,
                title=f"The waitlist for {event.name} has closed",
                message="The event has started, so no more seats will be offered.",
            )
            summary.events.add(event.pk)


def waitlist_expire_due(*, now: datetime | None = None) -> ExpirySummary:
    """Expire every offer past its deadline and close the waitlists of started events.

    Each event is handled in its own short transaction, claimed with SKIP LOCKED, so several
    copies can run at once (cron on many machines) without waiting on or repeating each other.
    """
    now = now or timezone.now()
    summary = ExpirySummary()
    event_ids = set(
        WaitlistEntry.objects.filter(status=Status.OFFERED, offer_expires_at__lte=now)
        .values_list("event_id", flat=True)
        .distinct()
    )
    event_ids |= set(
        WaitlistEntry.objects.filter(status__in=ACTIVE_STATUSES)
        .filter(Q(event__event_time__lte=now) | ~Q(event__status=Event.Status.SCHEDULED))
        .values_list("event_id", flat=True)
        .distinct()
    )
    for event_id in sorted(event_ids, key=str):
        _expire_event(event_id, now, summary)
    return summary
