"""The two hand-written statements of a plain booking (PostgreSQL), and nothing else.

A booking is the one write a flash sale repeats thousands of times a minute, and profiled,
the ORM's per-call work (building a RawQuerySet and a full Event, compiling two INSERTs,
running `save()`) was a third of its CPU. These statements are written once, their table and
column names taken from the models, and each is held by tests/bookings/test_statements.py to
the ORM code it replaces: the same rows, counters and day totals.

- `event_claims`: the event, unlocked, with what the buyer already holds of it and whether
  their account is live, in one query.
- `book_free_seats`: takes the seats under the event's row lock if the event is still as
  read, and in the same statement writes the booking, its notification and the day's sales.
  The row lock is held from this statement to the commit: with no Idempotency-Key, nothing
  else; with one, the booking is a savepoint of the key's transaction, which renders the
  answer and writes the key row (one more statement) before it commits.
"""

import functools
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import connection, models

from accounts.models import User
from analytics.models import SalesDay
from bookings.models import Booking
from evently import locks
from events.models import Event
from notifications.models import Notification
from waitlist.models import ACTIVE_STATUSES, WaitlistEntry

SALES_COUNTERS = ("bookings", "tickets", "revenue", "cancellations", "conversions")


def _q(name: str) -> str:
    return connection.ops.quote_name(name)


def _table(model: type[models.Model]) -> str:
    return _q(model._meta.db_table)


def _column(model: type[models.Model], field: str) -> str:
    return _q(model._meta.get_field(field).column)


@functools.cache
def _fields(model: type[models.Model]) -> tuple[models.Field, ...]:
    return tuple(model._meta.concrete_fields)


def row_values(model: type[models.Model], values: dict[str, Any]) -> list:
    """One value per concrete field of `model`, in `_fields` order: given, or the field's
    default. Passed to psycopg as they are: on PostgreSQL the ORM's get_db_prep_save leaves
    these types (UUID, str, int, bool, Decimal, aware datetime) unchanged too, and costs a
    call chain per field."""
    return [
        values[field.attname] if field.attname in values else field.get_default()
        for field in _fields(model)
    ]


def _insert_from(model: type[models.Model], source: str) -> str:
    """`INSERT INTO model (every column) SELECT %s, … FROM source`: one row per row of
    `source`, another query of the same statement."""
    fields = _fields(model)
    columns = ", ".join(_q(f.column) for f in fields)
    values = ", ".join(["%s"] * len(fields))
    return f"INSERT INTO {_table(model)} ({columns}) SELECT {values} FROM {source}"


# --- event_claims -------------------------------------------------------------------------


@dataclass(frozen=True)
class _ClaimsSQL:
    sql: str
    event_fields: list[str]


def _claims_sql() -> _ClaimsSQL:
    event_fields = [f.attname for f in _fields(Event)]
    event_columns = ", ".join(f"e.{_q(f.column)}" for f in _fields(Event))
    active = ", ".join(["%s"] * len(ACTIVE_STATUSES))
    booking, entry = Booking, WaitlistEntry
    sql = (
        f"SELECT {event_columns}, "
        f"COALESCE((SELECT SUM(b.{_column(booking, 'quantity')}) FROM {_table(booking)} b "
        f"WHERE b.{_column(booking, 'event')} = e.{_column(Event, 'id')} "
        f"AND b.{_column(booking, 'user')} = %s AND b.{_column(booking, 'status')} = %s), 0), "
        f"COALESCE((SELECT SUM(w.{_column(entry, 'quantity')}) FROM {_table(entry)} w "
        f"WHERE w.{_column(entry, 'event')} = e.{_column(Event, 'id')} "
        f"AND w.{_column(entry, 'user')} = %s AND w.{_column(entry, 'status')} IN ({active})), 0), "
        f"EXISTS (SELECT 1 FROM {_table(User)} u WHERE u.{_column(User, 'id')} = %s "
        f"AND u.{_column(User, 'is_active')}) "
        f"FROM {_table(Event)} e WHERE e.{_column(Event, 'id')} = %s"
    )
    return _ClaimsSQL(sql, event_fields)


_CLAIMS = _claims_sql()


def event_claims(event_id, user_id) -> Event | None:
    """The event, read without a lock, carrying `tickets_held` (the buyer's confirmed
    tickets), `tickets_pending` (seats they wait for) and `account_active`. None if there is
    no such event.

    Replaces an ORM query with two correlated subqueries and an EXISTS, whose building took a
    third of a booking's CPU.
    """
    user_id = User._meta.pk.get_db_prep_value(user_id, connection)
    event_id = Event._meta.pk.get_db_prep_value(event_id, connection)
    params = [user_id, Booking.Status.CONFIRMED, user_id, *ACTIVE_STATUSES, user_id, event_id]
    with connection.cursor() as cursor:
        cursor.execute(_CLAIMS.sql, params)
        row = cursor.fetchone()
    if row is None:
        return None
    count = len(_CLAIMS.event_fields)
    event = Event.from_db(connection.alias, _CLAIMS.event_fields, _from_db(Event, row[:count]))
    held, pending, active = row[count:]
    event.tickets_held, event.tickets_pending, event.account_active = (
        int(held),
        int(pending),
        bool(active),
    )
    return event


@functools.cache
def _converters(model: type[models.Model], vendor: str) -> list[tuple]:
    columns = [field.get_col(model._meta.db_table) for field in _fields(model)]
    return [
        (column, connection.ops.get_db_converters(column) + field.get_db_converters(connection))
        for field, column in zip(_fields(model), columns, strict=True)
    ]


def _from_db(model: type[models.Model], values) -> list:
    """Raw column values as the ORM would hand them to the model (the backend's and the
    fields' converters; PostgreSQL needs next to none, SQLite parses dates and decimals)."""
    converted = []
    for (column, converters), value in zip(
        _converters(model, connection.vendor), values, strict=True
    ):
        for convert in converters:
            value = convert(value, column, connection)
        converted.append(value)
    return converted


# --- book_free_seats ----------------------------------------------------------------------


def _take_sql() -> str:
    e = {name: _column(Event, name) for name in (
        "id", "status", "event_time", "updated_at", "price", "available_seats", "booked_seats",
        "revenue", "confirmed_bookings",
    )}  # fmt: skip
    return (
        f"UPDATE {_table(Event)} SET "
        f"{e['available_seats']} = {e['available_seats']} - %s, "
        f"{e['booked_seats']} = {e['booked_seats']} + %s, "
        # Rounded in the statement, as events.seats rounds every revenue change.
        f"{e['revenue']} = ROUND({e['revenue']} + {e['price']} * %s, 2) + 0, "
        f"{e['confirmed_bookings']} = {e['confirmed_bookings']} + 1 "
        f"WHERE {e['id']} = %s AND {e['status']} = %s AND {e['event_time']} > %s "
        f"AND {e['available_seats']} >= %s AND {e['updated_at']} = %s "
        f"RETURNING {e['id']}"
    )


def _sales_upsert_sql(source: str) -> str:
    table = _table(SalesDay)
    day, shard = _column(SalesDay, "day"), _column(SalesDay, "shard")
    counters = [_column(SalesDay, name) for name in SALES_COUNTERS]
    values = ", ".join(["%s"] * (2 + len(counters)))
    return (
        f"INSERT INTO {table} ({day}, {shard}, {', '.join(counters)}) "
        f"SELECT {values} FROM {source} "
        f"ON CONFLICT ({day}, {shard}) DO UPDATE SET "
        + ", ".join(f"{c} = {table}.{c} + excluded.{c}" for c in counters)
    )


_BOOK_SQL = (
    f"WITH taken AS ({_take_sql()}), "
    f"booking AS ({_insert_from(Booking, 'taken')} RETURNING 1), "
    f"notification AS ({_insert_from(Notification, 'booking')} RETURNING 1) "
    f"{_sales_upsert_sql('taken')}"
)


def book_free_seats(
    *,
    event: Event,
    booking: dict[str, Any],
    notification: dict[str, Any],
    sales_day: tuple,
    now: datetime,
) -> bool:
    """Take `booking`'s seats of `event` (read earlier by `event_claims`) and write the
    booking, its notification and the day's sales, in one statement, if the event is still
    as read: scheduled, not started, with the seats, and not edited since (`updated_at`; seat
    moves leave it alone, staff edits change it). False: nothing was written.

    `booking` and `notification` map field names to values (the rest take their defaults);
    `sales_day` is (day, shard). The UPDATE is what locks the event row, until the commit.
    """
    quantity = booking["quantity"]
    ops = connection.ops
    take = [
        quantity,
        quantity,
        quantity,
        event.pk,
        Event.Status.SCHEDULED,
        ops.adapt_datetimefield_value(now),
        quantity,
        ops.adapt_datetimefield_value(event.updated_at),
    ]
    amount: Decimal = booking["total_amount"]
    sale = [ops.adapt_datefield_value(sales_day[0]), sales_day[1], 1, quantity, amount, 0, 0]
    params = [
        *take,
        *row_values(Booking, booking),
        *row_values(Notification, notification),
        *sale,
    ]
    locks.acquire(locks.EVENT)  # the UPDATE locks the event row
    with connection.cursor() as cursor:
        cursor.execute(_BOOK_SQL, params)
        written = cursor.rowcount == 1
    if written:
        locks.acquire(locks.DAY_TOTALS)  # the upsert locked its day totals row, last
    return written
