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
    rebuild_scheduled_days()  # the list's day summary, as the services would keep it
