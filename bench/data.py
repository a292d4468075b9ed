"""Data the benchmark loads with SQL, shared with the tests that pin query plans on it."""

from django.db import connection

from events.summary import rebuild_scheduled_days


def bulk_events(count: int) -> None:
    """`count` scheduled events, one a minute from now on, with the day summary recounted."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO events_event (id, name, description, venue, event_time, total_capacity,
                available_seats, booked_seats, held_seats, revenue, confirmed_bookings,
                cancelled_bookings, cancelled_tickets, price, status, created_at, updated_at)
            SELECT gen_random_uuid(), 'Growth ' || i, '', 'Hall ' || (i %% 50),
                now() + (i || ' minutes')::interval, 100, 100, 0, 0, 0, 0, 0, 0, (i %% 90) + 10,
                'scheduled', now(), now()
            FROM generate_series(1, %s) AS i
            """,
            [count],
        )
    general_admission()
    rebuild_scheduled_days()  # the list's day summary, as the services would keep it


def general_admission() -> None:
    """Every event without a ticket type gets its one "General admission", at its price, with
    its counters, as event_create and the migration give it."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO events_tickettype (id, event_id, name, description, price, quota,
                available, booked, held, revenue, sales_start, sales_end, max_per_booking,
                position, is_active, created_at, updated_at)
            SELECT gen_random_uuid(), e.id, 'General admission', '', e.price, e.total_capacity,
                e.available_seats, e.booked_seats, e.held_seats, e.revenue, NULL, NULL, 10, 0,
                true, now(), now()
            FROM events_event e
            WHERE NOT EXISTS (SELECT 1 FROM events_tickettype t WHERE t.event_id = e.id)
            """
        )
