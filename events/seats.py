"""The seat ledger of an event: the only code that moves its seat counters.

Every change happens with the event row locked (`lock_event`) inside the caller's transaction
and is written with F-expressions, so any number of processes on any number of machines keep

    available_seats + booked_seats + held_seats == total_capacity

which the database also enforces (`events_event_seats_balance`).
"""

from decimal import Decimal

from django.db import connection
from django.db.models import F
from django.db.models.functions import Round

from evently.lookups import get_or_not_found
from events.models import Event

ZERO = Decimal("0.00")


def _revenue_plus(amount: Decimal):
    """The new revenue, rounded to cents in the statement. SQLite keeps decimals as binary
    floats, so a revenue that goes up by prices and back down by the same amounts can end a
    hair below zero (49.99 + 99.98 - 149.97 is -2.8e-14), which the `revenue >= 0` CHECK would
    refuse; adding zero turns SQLite's -0.0 into 0. On PostgreSQL both are no-ops."""
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
    bookings: int = 0,
) -> None:
    """Apply a balanced change to a locked event's counters, in the database and on `event`.

    `revenue` and `bookings` move with `booked`: the total_amount and the number of the
    bookings confirmed, or cancelled when negative (a confirmed booking only ever leaves that
    state by being cancelled, so those also count as cancelled bookings and tickets).
    """
    if available + booked + held != 0:
        raise ValueError("seat moves must balance")
    cancelled_bookings, cancelled_tickets = (-bookings, -booked) if bookings < 0 else (0, 0)
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


def _take_sql() -> str:
    return (
        f'UPDATE "{Event._meta.db_table}" SET "available_seats" = "available_seats" - %s, '
        '"booked_seats" = "booked_seats" + %s, "revenue" = ROUND("revenue" + "price" * %s, 2) + 0, '
        '"confirmed_bookings" = "confirmed_bookings" + 1 '
        'WHERE "id" = %s AND "status" = %s AND "event_time" > %s AND "available_seats" >= %s '
        'AND "updated_at" = %s'
    )


_TAKE_SQL = _take_sql()


def take_free_seats(
    event: Event, quantity: int, now, *, then: tuple[str, list] | None = None
) -> bool:
    """Move `quantity` free seats of `event`, read earlier without a lock, to booked for one
    booking (and its price to the revenue), if the event is still as read.

    One UPDATE takes the row lock and checks under it that the event is scheduled, not started,
    has the seats, and was not edited since it was read (`updated_at`: seat moves leave it
    alone, staff edits of price, time or status change it). So a booking can write everything
    else first and lock the event last, for as short a time as possible. It runs on every
    booking, so it is SQL written once (the revenue rounded as in `_revenue_plus`). False:
    nothing was changed, and the caller starts over under `lock_event`.

    `then` (PostgreSQL): an `INSERT … SELECT … FROM taken` to run in the same statement, on the
    row the UPDATE returns when it took the seats, so nothing else holds the row lock longer.
    """
    ops = connection.ops
    params = [
        quantity,
        quantity,
        quantity,
        Event._meta.pk.get_db_prep_value(event.pk, connection),
        Event.Status.SCHEDULED,
        ops.adapt_datetimefield_value(now),
        quantity,
        ops.adapt_datetimefield_value(event.updated_at),
    ]
    sql = _TAKE_SQL
    if then is not None:
        sql = f"WITH taken AS ({_TAKE_SQL} RETURNING 1) {then[0]}"
        params += then[1]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        if cursor.rowcount != 1:
            return False
    amount = event.price * quantity
    event.available_seats -= quantity
    event.booked_seats += quantity
    event.revenue += amount
    event.confirmed_bookings += 1
    return True
