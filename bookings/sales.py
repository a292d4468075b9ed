"""The day totals of sales (bookings.SalesDay), kept exact inside the transactions that
change sales: the booking, cancellation and offer services call it, so it sits below them
and imports nothing but models (tests/test_import_cycles.py)."""

from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, datetime
from decimal import Decimal

from django.db import connection

from bookings.models import SHARDS, SalesDay
from core import locks

_COUNTERS = ("bookings", "tickets", "revenue", "cancellations", "conversions")


def _upsert_sql() -> str:
    """Add a delta to a (day, shard) row, creating it when new: one statement, where the ORM
    would need a read and then an insert or an update. Names come from the model."""
    column = {f.name: connection.ops.quote_name(f.column) for f in SalesDay._meta.concrete_fields}
    table = connection.ops.quote_name(SalesDay._meta.db_table)
    counters = [column[name] for name in _COUNTERS]
    values = ", ".join(["%s"] * (2 + len(counters)))
    return (
        f"INSERT INTO {table} ({column['day']}, {column['shard']}, {', '.join(counters)}) "
        f"VALUES ({values}) ON CONFLICT ({column['day']}, {column['shard']}) DO UPDATE SET "
        + ", ".join(f"{c} = {table}.{c} + excluded.{c}" for c in counters)
    )


_UPSERT = _upsert_sql()


def _shard(event_id) -> int:
    return event_id.int % SHARDS


def _day(moment: datetime):
    return moment.astimezone(UTC).date()


def _add(rows: dict) -> None:
    """Add each ((day, shard) -> counters) delta, creating the day's row when it is new."""
    locks.acquire(locks.DAY_TOTALS)
    with connection.cursor() as cursor:
        for (day, shard), delta in sorted(rows.items()):  # fixed order: no deadlocks
            values = [delta.get(c, 0) for c in _COUNTERS]
            cursor.execute(_UPSERT, [connection.ops.adapt_datefield_value(day), shard, *values])


def _booking_delta(booking, converted: bool) -> dict:
    return {
        "bookings": 1,
        "tickets": booking.quantity,
        "revenue": booking.total_amount,
        "conversions": int(converted),
    }


def record_booking(booking, *, converted: bool) -> None:
    key = (_day(booking.booking_time), _shard(booking.event_id))
    _add({key: _booking_delta(booking, converted)})


def day_and_shard(moment: datetime, event_id) -> tuple:
    """The SalesDay row a sale of `event_id` at `moment` is added to."""
    return _day(moment), _shard(event_id)


def record_cancellations(bookings: Iterable, *, at: datetime) -> None:
    """Each booking's revenue leaves the day it was made; the cancellation counts today."""
    rows: dict = defaultdict(lambda: defaultdict(Decimal))
    for booking in bookings:
        rows[(_day(booking.booking_time), _shard(booking.event_id))]["revenue"] -= (
            booking.total_amount
        )
        rows[(_day(at), _shard(booking.event_id))]["cancellations"] += 1
    if rows:
        _add(rows)
