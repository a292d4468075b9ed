"""The day totals moved from analytics to bookings, their writer, without losing a row.

A database migrated before the move (bookings at 0006, analytics at 0002, SalesDay still
analytics') is filled through the historical model, then migrated to today's head: bookings
0007 and analytics 0003 change only Django's state, so the rows, the table's name and its
unique constraint are still there and read back through bookings' model.
"""

import datetime
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor

from bookings.models import SalesDay

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE_THE_MOVE = [("bookings", "0006_booking_items"), ("analytics", "0002_backfill_sales_days")]
DAY = datetime.date(2026, 12, 1)


def migrate_to_the_head():
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


def test_a_database_migrated_before_the_move_keeps_its_day_totals():
    try:
        executor = MigrationExecutor(connection)
        executor.migrate(BEFORE_THE_MOVE)
        executor.loader.build_graph()
        applied = executor.loader.applied_migrations
        assert ("bookings", "0007_sales_day_from_analytics") not in applied
        old = executor.loader.project_state(BEFORE_THE_MOVE).apps
        old.get_model("analytics", "SalesDay").objects.create(
            day=DAY, shard=3, bookings=4, tickets=9, revenue=Decimal("180.50"), cancellations=1
        )

        migrate_to_the_head()
    finally:
        migrate_to_the_head()  # leave the database as every other test expects it

    row = SalesDay.objects.get()
    assert (row.day, row.shard, row.bookings, row.tickets, row.revenue, row.cancellations) == (
        DAY,
        3,
        4,
        9,
        Decimal("180.50"),
        1,
    )
    assert SalesDay._meta.db_table == "analytics_salesday"
    # The unique constraint came through with its table.
    with pytest.raises(IntegrityError), transaction.atomic():
        SalesDay.objects.create(day=DAY, shard=3)
