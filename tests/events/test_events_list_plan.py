"""How PostgreSQL answers the public event list, on a table the size of a real catalogue.

The exact `count` reads every upcoming event, so its cost grows with the catalogue. Read from
the narrow `events_event_upcoming_idx` alone (an index-only scan) it costs about half as much
as reading the table; with `id` in that index the planner preferred the table. These tests
pin the plans, on a table vacuumed as autovacuum would leave it (index-only scans rely on
the visibility map that VACUUM keeps).
"""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

UPCOMING = 5000


@pytest.fixture
def catalogue(db):
    # Shaped like bench/run.py's bulk_events: one event a minute from now on.
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
            [UPCOMING],
        )
        cursor.execute("VACUUM ANALYZE events_event")


def list_queries(client, path):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path)
    assert response.status_code == 200
    return response.json(), [q["sql"] for q in queries.captured_queries]


def plan(sql: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN {sql}")
        return "\n".join(row[0] for row in cursor.fetchall())


def test_list_count_reads_the_upcoming_index_alone(anon_api, catalogue):
    body, (count_sql, _page_sql) = list_queries(anon_api, "/api/events")
    assert body["count"] == UPCOMING
    count_plan = plan(count_sql)
    assert "Index Only Scan using events_event_upcoming_idx" in count_plan, count_plan
    assert "Seq Scan" not in count_plan, count_plan


def test_list_page_reads_the_upcoming_index_in_order(anon_api, catalogue):
    body, (_count_sql, page_sql) = list_queries(anon_api, "/api/events?offset=100")
    assert len(body["results"]) == 20
    page_plan = plan(page_sql)
    assert "Index Scan using events_event_upcoming_idx" in page_plan, page_plan
    # Only events sharing an event_time are sorted (by id); never the whole list.
    assert "Seq Scan" not in page_plan, page_plan
