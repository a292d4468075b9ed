"""How PostgreSQL answers the public event list, on a table the size of a real catalogue.

The exact `count` no longer reads every upcoming event: the days after today come from the day
summary (events.ScheduledDay), and only today's events still to come are counted one by one,
read from the narrow `events_event_upcoming_idx` alone (an index-only scan bounded to the rest
of today). These tests pin the plans, on tables vacuumed as autovacuum would leave them
(index-only scans rely on the visibility map that VACUUM keeps).
"""

import json
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from bench.data import bulk_events

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

UPCOMING = 5000  # one a minute: three and a half days
MINUTES_PER_DAY = 24 * 60


@pytest.fixture
def catalogue(db):
    bulk_events(UPCOMING)  # the benchmark's catalogue
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE events_event, events_scheduledday")


def list_queries(client, path):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path)
    assert response.status_code == 200
    return response.json(), [q["sql"] for q in queries.captured_queries]


def plan(sql: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN {sql}")
        return "\n".join(row[0] for row in cursor.fetchall())


def plan_nodes(sql: str) -> list[dict]:
    """Every node of the plan PostgreSQL ran, with its actual row counts."""
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, FORMAT JSON) {sql}")
        (row,) = cursor.fetchone()
    root = (row if isinstance(row, list) else json.loads(row))[0]["Plan"]
    nodes, todo = [], [root]
    while todo:
        node = todo.pop()
        nodes.append(node)
        todo += node.get("Plans", [])
    return nodes


def test_list_count_reads_the_rest_of_today_and_the_day_summary(anon_api, catalogue):
    body, (count_sql, _page_sql) = list_queries(anon_api, "/api/events")
    assert body["count"] == UPCOMING
    nodes = plan_nodes(count_sql)
    events = [n for n in nodes if n.get("Relation Name") == "events_event"]
    assert [(n["Node Type"], n["Index Name"]) for n in events] == [
        ("Index Only Scan", "events_event_upcoming_idx")
    ], nodes
    # Today's events that have not started, whatever the size of the catalogue.
    assert events[0]["Actual Rows"] <= MINUTES_PER_DAY, events
    assert any(n.get("Relation Name") == "events_scheduledday" for n in nodes), nodes


def test_a_time_window_count_reads_its_two_boundary_days_alone(anon_api, catalogue):
    before = (timezone.now() + timedelta(days=3)).isoformat().replace("+", "%2B")
    body, (count_sql, _page_sql) = list_queries(anon_api, f"/api/events?starts_before={before}")
    assert body["count"] == 3 * MINUTES_PER_DAY
    nodes = plan_nodes(count_sql)
    scans = [n for n in nodes if n.get("Index Name") == "events_event_upcoming_idx"]
    assert scans and sum(n["Actual Rows"] for n in scans) <= 2 * MINUTES_PER_DAY, nodes
    assert "Seq Scan" not in {
        n["Node Type"] for n in nodes if n.get("Relation Name") == "events_event"
    }


def test_list_page_reads_the_upcoming_index_in_order(anon_api, catalogue):
    body, (_count_sql, page_sql) = list_queries(anon_api, "/api/events?offset=100")
    assert len(body["results"]) == 20
    page_plan = plan(page_sql)
    assert "Index Scan using events_event_upcoming_idx" in page_plan, page_plan
    # Only events sharing an event_time are sorted (by id); never the whole list.
    assert "Seq Scan" not in page_plan, page_plan
