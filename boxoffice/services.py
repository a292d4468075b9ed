"""Staff operations on an event that reach into the apps above the catalogue: editing it
(a capacity change serves its waitlist, a new time is announced to its ticket holders),
messaging its holders, cancelling or deleting it, and its ticket types (a raised quota serves
the type's waitlist). They live here, above bookings, waitlist and notifications, so that
the catalogue (events) imports none of them; each calls the services it orchestrates
directly, inside its own transaction and lock order (core/locks.py)."""

import logging
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import F

from accounts.models import User
from bookings import checkout, sales
from bookings.models import Booking
from bookings.services import booking_cancel_all
from bookings.tickets.selectors import tickets_let_in
from core.exceptions import (
    CapacityBelowTaken,
    EventCancelled,
    EventClosed,
    Invalid,
    LastTicketType,
    NotFound,
    SeveralTicketTypes,
    TicketTypeSold,
)
from core.lookups import get_or_not_found
from events import signals
from events.models import Event, TicketType
from events.seats import lock_event
from events.services import check_event_time
from events.summary import scheduled_event_moved, scheduled_event_removed
from notifications.models import Notification
from notifications.services import notify
from waitlist.models import WaitlistEntry
from waitlist.services import waitlist_cancel_all, waitlist_serve

logger = logging.getLogger(__name__)

EDITABLE_FIELDS = {"name", "description", "venue", "event_time", "total_capacity", "price"}
TICKET_TYPE_FIELDS = {
    "name",
    "description",
    "price",
    "quota",
    "sales_start",
    "sales_end",
    "max_per_booking",
    "position",
    "is_active",
}


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
        if "price" in changes:
            _set_only_type_price(event, changes["price"])
        if "event_time" in changes:
            check_event_time(changes["event_time"])
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
        if delta:
            _follow_capacity(event, delta)
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
        event = lock_event(event_id, with_types=False)
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
        if not has_people:
            if event.status == Event.Status.SCHEDULED:
                scheduled_event_removed(event.event_time)
            event.delete()
            return "deleted"
        _cancel_locked(event)
    checkout.refund_due(event_id=event.pk)
    return "cancelled"


def event_cancel(*, event_id, actor: User) -> Event:
    """Cancel an event, keeping every record (the admin's "cancel event"). The event comes
    back with `tickets_inside`: how many of its tickets had been checked in (people already
    at the venue), for the staff member who cancelled it."""
    with transaction.atomic():
        event = lock_event(event_id)
        event.tickets_inside = _cancel_locked(event)
    # After the commit, each paid booking's refund in a transaction of its own: a crash or a
    # refusal part-way leaves the rest due for expire_waitlist_offers' next round.
    checkout.refund_due(event_id=event.pk)
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
    checkout.close_open_payments([b for b in bookings if b.was_pending])
    event.status = Event.Status.CANCELLED
    event.save(update_fields=["status", "updated_at"])
    signals.event_cancelled.send(sender=Event, event=event)
    # The day totals last, as core/locks.py orders every transaction's locks.
    confirmed = [b for b in bookings if not b.was_pending]
    if confirmed:
        sales.record_cancellations(confirmed, at=confirmed[0].cancelled_at)
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


def _follow_capacity(event: Event, delta: int) -> None:
    """An event whose one type's quota is its capacity (what event_create makes) keeps it so:
    a client that knows only the capacity raises or lowers what the type sells with it. The
    type's taken seats are the event's, so a capacity the event allows its quota allows too."""
    if len(event.locked_types) != 1:
        return
    (ticket_type,) = event.locked_types.values()
    if ticket_type.quota != event.total_capacity:
        return
    TicketType.objects.filter(pk=ticket_type.pk).update(
        quota=F("quota") + delta, available=F("available") + delta
    )
    ticket_type.quota += delta
    ticket_type.available += delta


def _set_only_type_price(event: Event, price: Decimal) -> None:
    """An event's `price` is its types' lowest; written, it is the price of its one type."""
    if len(event.locked_types) > 1:
        raise SeveralTicketTypes()
    (ticket_type,) = event.locked_types.values()
    ticket_type.price = price
    ticket_type.save(update_fields=["price", "updated_at"])
    event.ticket_types_version += 1


def _types_changed(event: Event) -> None:
    """After a write to a locked event's types: its `price` is again the lowest of its active
    types', and its `ticket_types_version` moves on, so no copy of the old types is sold from
    (bookings.statements)."""
    prices = [t.price for t in event.locked_types.values() if t.is_active]
    Event.objects.filter(pk=event.pk).update(
        price=min(prices), ticket_types_version=F("ticket_types_version") + 1
    )
    event.price = min(prices)
    event.ticket_types_version += 1


def _check_window(values: dict) -> None:
    start, end = values.get("sales_start"), values.get("sales_end")
    if start is not None and end is not None and start >= end:
        raise Invalid({"sales_end": ["Must be after sales_start."]})


def ticket_type_create(*, event_id, actor: User, **values: Any) -> TicketType:
    """Add a ticket type to an event; its `available` starts at its quota (the event's
    capacity still caps what it sells)."""
    unknown = set(values) - TICKET_TYPE_FIELDS
    if unknown:
        raise ValueError(f"not a ticket type field: {sorted(unknown)}")
    _check_window(values)
    with transaction.atomic():
        event = lock_event(event_id)
        if event.status == Event.Status.CANCELLED:
            raise EventCancelled()
        ticket_type = TicketType.objects.create(event=event, available=values["quota"], **values)
        event.locked_types[ticket_type.pk] = ticket_type
        _types_changed(event)
        if ticket_type.is_active:
            waitlist_serve(event=event)
    return ticket_type


def _locked_type(ticket_type_id) -> tuple[Event, TicketType]:
    """Lock a type's event, then its types; the type, or 404."""
    found = get_or_not_found(
        TicketType.objects.all(), pk=ticket_type_id, message="No ticket type with this id."
    )
    event = lock_event(found.event_id)
    ticket_type = event.locked_types.get(found.pk)
    if ticket_type is None:  # deleted while we waited for the lock
        raise NotFound("No ticket type with this id.")
    return event, ticket_type


def ticket_type_update(*, ticket_type_id, actor: User, changes: dict[str, Any]) -> TicketType:
    """Change a type under its event's lock. Its quota may drop only to the seats it has taken
    (booked plus held); a raise frees seats of the type, which go to its waitlist first. An
    event keeps at least one active type."""
    unknown = set(changes) - TICKET_TYPE_FIELDS
    if unknown:
        raise ValueError(f"not a ticket type field: {sorted(unknown)}")
    with transaction.atomic():
        event, ticket_type = _locked_type(ticket_type_id)
        if event.status == Event.Status.CANCELLED:
            raise EventCancelled()
        _check_window(
            {
                "sales_start": changes.get("sales_start", ticket_type.sales_start),
                "sales_end": changes.get("sales_end", ticket_type.sales_end),
            }
        )
        quota = changes.pop("quota", ticket_type.quota)
        if quota < ticket_type.taken:
            raise CapacityBelowTaken(
                f"The quota cannot drop below {ticket_type.taken}: that many seats of this type "
                "are booked or held.",
                taken_seats=ticket_type.taken,
            )
        if changes.get("is_active") is False and ticket_type.is_active:
            others = [t for t in event.locked_types.values() if t.is_active and t != ticket_type]
            if not others:
                raise LastTicketType()
        for name, value in changes.items():
            setattr(ticket_type, name, value)
        delta = quota - ticket_type.quota
        ticket_type.quota = quota
        ticket_type.available += delta  # the row is locked: the counter read under the lock
        ticket_type.save()
        _types_changed(event)
        if delta > 0 or changes.get("is_active"):
            waitlist_serve(event=event)
    return ticket_type


def ticket_type_delete(*, ticket_type_id, actor: User) -> None:
    """Delete a type that never sold (no booking item, no waitlist entry); otherwise it stays,
    to be deactivated. An event keeps at least one active type."""
    with transaction.atomic():
        event, ticket_type = _locked_type(ticket_type_id)
        if (
            ticket_type.booking_items.exists()
            or WaitlistEntry.objects.filter(ticket_type=ticket_type).exists()
        ):
            raise TicketTypeSold()
        if ticket_type.is_active and not any(
            t.is_active for t in event.locked_types.values() if t != ticket_type
        ):
            raise LastTicketType()
        del event.locked_types[ticket_type.pk]
        ticket_type.delete()
        _types_changed(event)
