import logging
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from accounts.models import User
from analytics import day_totals
from bookings.models import Booking
from bookings.services import booking_cancel_all
from bookings.tickets.selectors import tickets_let_in
from core.exceptions import CapacityBelowTaken, EventCancelled, EventClosed, Invalid
from events import signals
from events.models import Event
from events.seats import lock_event
from events.summary import scheduled_event_added, scheduled_event_moved, scheduled_event_removed
from notifications.models import Notification
from notifications.services import notify
from waitlist.models import WaitlistEntry
from waitlist.services import waitlist_cancel_all, waitlist_serve

logger = logging.getLogger(__name__)

EDITABLE_FIELDS = {"name", "description", "venue", "event_time", "total_capacity", "price"}


def _ensure_future(event_time: datetime) -> None:
    if event_time <= timezone.now():
        raise Invalid({"event_time": ["Must be in the future."]})


def event_create(
    *,
    created_by: User,
    name: str,
    venue: str,
    event_time: datetime,
    total_capacity: int,
    price: Decimal,
    description: str = "",
) -> Event:
    _ensure_future(event_time)
    with transaction.atomic():
        event = Event.objects.create(
            name=name,
            description=description,
            venue=venue,
            event_time=event_time,
            total_capacity=total_capacity,
            available_seats=total_capacity,
            price=price,
            created_by=created_by,
        )
        scheduled_event_added(event.event_time)
        signals.event_created.send(sender=Event, event=event)
    return event


def event_update(*, event_id, actor: User, changes: dict[str, Any]) -> Event:
    """Apply an admin's edit with the event row locked.

    Capacity may not drop below the seats taken (booked plus held by offers); a raise frees
    seats, which are offered to the waitlist first. A new time or venue is announced to every
    ticket holder.
    """
    unknown = set(changes) - EDITABLE_FIELDS
    if unknown:
        raise ValueError(f"not editable: {sorted(unknown)}")
    with transaction.atomic():
        event = lock_event(event_id)
        if event.status == Event.Status.CANCELLED:
            raise EventCancelled()
        changes = {f: v for f, v in changes.items() if getattr(event, f) != v}
        if "event_time" in changes:
            _ensure_future(changes["event_time"])
        new_capacity = changes.pop("total_capacity", event.total_capacity)
        if new_capacity < event.taken_seats:
            raise CapacityBelowTaken(
                f"Capacity cannot drop below {event.taken_seats}: that many seats are booked "
                "or held.",
                taken_seats=event.taken_seats,
            )
        if "event_time" in changes:
            scheduled_event_moved(event.event_time, changes["event_time"])
        for name, value in changes.items():
            setattr(event, name, value)
        delta = new_capacity - event.total_capacity
        event.total_capacity = new_capacity
        event.available_seats = F("available_seats") + delta
        event.save()
        event.refresh_from_db()
        if changes or delta:
            signals.event_updated.send(sender=Event, event=event)

        if delta > 0:
            waitlist_serve(event=event)
        if {"event_time", "venue"} & set(changes):
            holders = Booking.objects.filter(
                event=event, status=Booking.Status.CONFIRMED
            ).values_list("user_id", flat=True)
            notify(
                user_ids=list(holders),
                event=event,
                type=Notification.Type.EVENT_UPDATED,
                title=f"{event.name} has changed",
                message=f"{event.name} now takes place on {event.event_time:%Y-%m-%d %H:%M} UTC "
                f"at {event.venue}.",
            )
    return event


def event_message_send(*, event_id, actor: User, title: str, message: str) -> int:
    """Send staff's message to everyone holding a confirmed ticket for the event; returns how
    many people it went to.

    One notification per person (however many bookings they hold), written with one insert;
    each is e-mailed through the outbox like every other notification. The event row is
    locked, so a cancellation or a booking running at the same time comes wholly before or
    after the message: nobody whose booking the cancellation took is sent it afterwards.
    """
    with transaction.atomic():
        event = lock_event(event_id)
        if event.status == Event.Status.CANCELLED:
            raise EventClosed(
                "This event is cancelled: its ticket holders can no longer be messaged."
            )
        holders = (
            Booking.objects.filter(event=event, status=Booking.Status.CONFIRMED)
            .order_by("user_id")
            .values_list("user_id", flat=True)
            .distinct()
        )
        sent = notify(
            user_ids=list(holders),
            event=event,
            type=Notification.Type.EVENT_MESSAGE,
            title=title,
            message=message,
        )
    return len(sent)


def event_delete(*, event_id, actor: User) -> str:
    """Delete an event nobody has booked or waited for; otherwise cancel it (`event_cancel`).

    Returns "deleted" or "cancelled".
    """
    with transaction.atomic():
        event = lock_event(event_id)
        has_people = (
            Booking.objects.filter(event=event).exists()
            or WaitlistEntry.objects.filter(event=event).exists()
        )
        if has_people:
            _cancel_locked(event)
            return "cancelled"
        if event.status == Event.Status.SCHEDULED:
            scheduled_event_removed(event.event_time)
        event.delete()
        return "deleted"


def event_cancel(*, event_id, actor: User) -> Event:
    """Cancel an event, keeping every record (the admin's "cancel event"). The event comes
    back with `tickets_inside`: how many of its tickets had been checked in (people already
    at the venue), for the staff member who cancelled it."""
    with transaction.atomic():
        event = lock_event(event_id)
        event.tickets_inside = _cancel_locked(event)
    return event


def _cancel_locked(event: Event) -> int:
    """Each confirmed booking and active waitlist entry is cancelled (their tickets void), all
    seats return, and each person is notified once, checked in or not. Returns how many
    tickets had been checked in. Cancelling a cancelled event changes nothing."""
    if event.status == Event.Status.CANCELLED:
        return 0
    bookings = booking_cancel_all(event=event)
    # Counted with the bookings locked: no check-in of them can still be on its way.
    inside = tickets_let_in(event_id=event.pk)
    if inside:
        logger.warning(
            "event cancelled with people inside",
            extra={"event_id": str(event.pk), "tickets_checked_in": inside},
        )
    entries = waitlist_cancel_all(event=event)
    event.status = Event.Status.CANCELLED
    event.save(update_fields=["status", "updated_at"])
    signals.event_cancelled.send(sender=Event, event=event)
    # The day totals last, as core/locks.py orders every transaction's locks.
    if bookings:
        day_totals.record_cancellations(bookings, at=bookings[0].cancelled_at)
    scheduled_event_removed(event.event_time)
    notify(
        user_ids=[b.user_id for b in bookings] + [e.user_id for e in entries],
        event=event,
        type=Notification.Type.EVENT_CANCELLED,
        title=f"{event.name} is cancelled",
        message=f"{event.name} on {event.event_time:%Y-%m-%d %H:%M} UTC is cancelled. "
        "Your bookings and waitlist places for it are cancelled.",
    )
    return inside
