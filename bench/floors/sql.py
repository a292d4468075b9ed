"""The booking both floors make, in raw SQL: lock the event row, take the seat, insert a row.

It keeps every counter the benchmark's books check reads (available, booked, confirmed
bookings), and the revenue, so a floor's event balances like Evently's.
"""

from django.db import connection, transaction

LOCK_EVENT = "SELECT price FROM events_event WHERE id = %s FOR UPDATE"
TAKE_SEATS = """
    UPDATE events_event
    SET available_seats = available_seats - %(quantity)s,
        booked_seats = booked_seats + %(quantity)s,
        confirmed_bookings = confirmed_bookings + 1,
        revenue = revenue + %(amount)s
    WHERE id = %(event)s
"""
INSERT_BOOKING = """
    INSERT INTO bookings_booking (id, event_id, user_id, quantity, total_amount, status,
        booking_time, cancelled_at, refunded_amount, created_at, updated_at)
    VALUES (gen_random_uuid(), %(event)s, %(user)s, %(quantity)s, %(amount)s, 'confirmed',
        now(), NULL, 0, now(), now())
    RETURNING id
"""


def book(*, event_id, user_id, quantity: int) -> str:
    """The new booking's id. The CHECK constraints refuse an oversold event."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(LOCK_EVENT, [event_id])
        (price,) = cursor.fetchone()
        values = {"event": event_id, "user": user_id, "quantity": quantity}
        values["amount"] = price * quantity
        cursor.execute(TAKE_SEATS, values)
        cursor.execute(INSERT_BOOKING, values)
        return str(cursor.fetchone()[0])
