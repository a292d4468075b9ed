"""The seat ledger of an event: the only code that moves its seat counters.

Every change happens with the event row locked (`lock_event`) inside the caller's transaction
and is written with F-expressions, so any number of processes on any number of machines keep

    available_seats + booked_seats + held_seats == total_capacity

which the database also enforces (`events_event_seats_balance`).
"""

import uuid
from decimal import Decimal

from django.db import connection
from django.db.models import F
from django.db.models.functions import Round

from evently.lookups import get_or_not_found
from events.models import Event

ZERO = Decimal("0.00")

# SQLite keeps decimals as binary floats, so a revenue that goes up by prices and back down by
# the same amounts can end a hair below zero (49.99 + 99.98 - 149.97 is -2.8e-14), which the
# `revenue >= 0` CHECK refused with a 500. So the new revenue is rounded to cents in the
# statement, and zero is added to turn SQLite's -0.0 into 0. On PostgreSQL both are no-ops.
_REVENUE_SQL = 'ROUND("revenue" + "price" * %s, 2) + 0'


def _revenue_plus(amount: Decimal):
    return Round(F("revenue") + amount, 2) + ZERO


def lock_event(event_id) -> Event:
    """Lock the event row for the rest of the transaction (404 if there is none).

    Every write that touches an event's seats, bookings or waitlist takes this lock first, so
    they are serialized per event, and rows of one event are always locked in the same order:
    the event, then its bookings or waitlist entries.
    """
    return get_or_not_found(
        Event.objects.select_for_update(), pk=event_id, message="No event with this id."
    )


def move_seats(
    event: Event,
    *,
    available: int = 0,
    booked: int = 0,
    held: int = 0,
    revenue: Decimal = ZERO,
) -> None:
    """Apply a balanced change to a locked event's counters, in the database and on `event`.

    `revenue` moves with `booked`: the total_amount of the bookings confirmed or cancelled.
    """
    if available + booked + held != 0:
        raise ValueError("seat moves must balance")
    Event.objects.filter(pk=event.pk).update(
        available_seats=F("available_seats") + available,
        booked_seats=F("booked_seats") + booked,
        held_seats=F("held_seats") + held,
        revenue=_revenue_plus(revenue),
    )
    # The row is locked and was read under the lock, so the in-memory copy stays exact.
    event.available_seats += available
    event.booked_seats += booked
    event.held_seats += held
    event.revenue += revenue


def take_free_seats(event_id, quantity: int, now) -> Event | None:
    """Lock an open event and move `quantity` free seats to booked (and their price to the
    revenue), in one statement.

    The common case of a booking, done in a single round trip: the UPDATE takes the row lock,
    checks the event is scheduled, not started and has the seats, and decrements under that
    lock, so nothing can slip in between check and write. Returns the updated event, or None
    when the event is missing, closed or short of seats (then nothing was locked or changed,
    and the caller takes the slow path with `lock_event`).
    """
    try:
        pk = Event._meta.pk.get_db_prep_value(uuid.UUID(str(event_id)), connection)
    except ValueError:
        return None  # not an id at all: the slow path answers 404
    columns = ", ".join(f'"{f.column}"' for f in Event._meta.concrete_fields)
    rows = Event.objects.raw(
        f'UPDATE "{Event._meta.db_table}" '
        'SET "available_seats" = "available_seats" - %s, "booked_seats" = "booked_seats" + %s, '
        f'"revenue" = {_REVENUE_SQL} '
        'WHERE "id" = %s AND "status" = %s AND "event_time" > %s AND "available_seats" >= %s '
        f"RETURNING {columns}",
        [
            quantity,
            quantity,
            quantity,
            pk,
            Event.Status.SCHEDULED,
            connection.ops.adapt_datetimefield_value(now),
            quantity,
        ],
    )
    return next(iter(rows), None)
