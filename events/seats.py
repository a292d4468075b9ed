"""The seat counters of an event and of its ticket types, and the only code that moves them,
apart from the plain booking's one statement (bookings.statements), which does the same in SQL.

Every change happens with the event row locked (`lock_event`) inside the caller's transaction
and is written with F-expressions, so any number of processes on any number of machines keep

    available_seats + booked_seats + held_seats == total_capacity

which the database also enforces (`events_event_seats_balance`), and per ticket type

    available + booked + held == quota

(`events_tickettype_seats_balance`). A seat of a type is also a seat of its event: every move
of a type's counters moves the event's by as much, in the same transaction.
"""

from decimal import Decimal

from django.db.models import F
from django.db.models.functions import Round

from core import locks, metrics
from core.lookups import get_or_not_found
from events.models import Event, TicketType

ZERO = Decimal("0.00")


def _revenue_plus(amount: Decimal):
    """The new revenue, rounded to cents in the statement. SQLite keeps decimals as binary
    floats, so a revenue that goes up by prices and back down by the same amounts can end a
    hair below zero (49.99 + 99.98 - 149.97 is -2.8e-14), which the `revenue >= 0` CHECK would
    refuse; adding zero turns SQLite's -0.0 into 0. On PostgreSQL both are no-ops."""
    return Round(F("revenue") + amount, 2) + ZERO


def lock_event(event_id, *, with_types: bool = True) -> Event:
    """Lock the event row for the rest of the transaction (404 if there is none).

    Every write that touches an event's seats, bookings or waitlist takes this lock first, so
    they are serialized per event, and rows of one event are always locked in the same order:
    the event, its ticket types, then its bookings or waitlist entries.

    The event's ticket types are locked right after it, in id order (`locks.TICKET_TYPES`), and
    kept on it as `locked_types` (id -> TicketType): every write that locks an event may move
    seats of its types or serve its waitlist, and the types come before the event's bookings
    and waitlist entries in the lock order. A write that moves no seat (a message to the
    ticket holders) passes `with_types=False`.
    """
    with metrics.seat_lock_wait():  # the event's lock, and its types' right after it
        event = get_or_not_found(
            locks.rows(Event.objects.all(), locks.EVENT),
            pk=event_id,
            message="No event with this id.",
        )
        if with_types:
            lock_ticket_types(event)
    return event


def lock_ticket_types(event: Event) -> dict:
    """Lock a locked event's ticket types (id order) and keep them on it as `locked_types`."""
    event.locked_types = {
        t.pk: t for t in locks.ticket_type_rows(TicketType.objects.filter(event_id=event.pk))
    }
    return event.locked_types


def move_type_seats(
    event: Event,
    ticket_type_id,
    *,
    available: int = 0,
    booked: int = 0,
    held: int = 0,
    revenue: Decimal = ZERO,
) -> None:
    """Apply a balanced change to one of a locked event's (locked) types' counters, in the
    database and on `event.locked_types`. The caller moves the event's counters too.
    `revenue` moves with `booked`: the amount of the type's items confirmed, or cancelled when
    negative."""
    if available + booked + held != 0:
        raise ValueError("seat moves must balance")
    TicketType.objects.filter(pk=ticket_type_id).update(
        available=F("available") + available,
        booked=F("booked") + booked,
        held=F("held") + held,
        revenue=_revenue_plus(revenue),
    )
    ticket_type = event.locked_types[ticket_type_id]
    ticket_type.available += available
    ticket_type.booked += booked
    ticket_type.held += held
    ticket_type.revenue += revenue


def move_seats(
    event: Event,
    *,
    available: int = 0,
    booked: int = 0,
    held: int = 0,
    revenue: Decimal = ZERO,
    bookings: int = 0,
    withdrawn: int = 0,
    withdrawn_tickets: int = 0,
) -> None:
    """Apply a balanced change to a locked event's counters, in the database and on `event`.

    `revenue` and `bookings` move with `booked`: the total_amount and the number of the
    bookings confirmed, or cancelled when negative (a confirmed booking only ever leaves that
    state by being cancelled, so those also count as cancelled bookings and tickets).
    `withdrawn` and `withdrawn_tickets` count cancelled bookings whose seats were held, not
    booked: checkouts cancelled before they were paid.
    """
    if available + booked + held != 0:
        raise ValueError("seat moves must balance")
    cancelled_bookings, cancelled_tickets = _cancelled(booked, bookings)
    cancelled_bookings += withdrawn
    cancelled_tickets += withdrawn_tickets
    Event.objects.filter(pk=event.pk).update(
        available_seats=F("available_seats") + available,
        booked_seats=F("booked_seats") + booked,
        held_seats=F("held_seats") + held,
        revenue=_revenue_plus(revenue),
        confirmed_bookings=F("confirmed_bookings") + bookings,
        cancelled_bookings=F("cancelled_bookings") + cancelled_bookings,
        cancelled_tickets=F("cancelled_tickets") + cancelled_tickets,
    )
    # The row is locked and was read under the lock, so the in-memory copy stays exact.
    event.available_seats += available
    event.booked_seats += booked
    event.held_seats += held
    event.revenue += revenue
    event.confirmed_bookings += bookings
    event.cancelled_bookings += cancelled_bookings
    event.cancelled_tickets += cancelled_tickets


def _cancelled(booked: int, bookings: int) -> tuple[int, int]:
    """(cancelled bookings, cancelled tickets) a move adds: a negative move is cancellations."""
    return (-bookings, -booked) if bookings < 0 else (0, 0)
