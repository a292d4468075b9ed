"""The hand-written statements of a plain booking (PostgreSQL), and nothing else.

A booking is the one write a flash sale repeats thousands of times a minute, and profiled,
the ORM's per-call work (building a RawQuerySet and a full Event, compiling two INSERTs,
running `save()`) was a third of its CPU. These statements are written once, their table and
column names taken from the models, and each is held by tests/bookings/test_statements.py to
the ORM code it replaces: the same rows, counters and day totals.

- `event_claims`: the event, unlocked, with what the buyer already holds of it and whether
  their account is live, in one query. The locked path's read (`bookings.services`).
- `book_free_seats`: takes the seats of the event and of one ticket type, under their row
  locks (the event's, then the type's, the order core/locks.py states), if the event still
  is what the booking describes (`booking_event`), the type has the seats, the account is live
  and the buyer stays within the ticket limit, and in the same statement writes the booking,
  its item, its notification and the day's sales. The row locks are held from this
  statement to the commit: with no Idempotency-Key, the booking's transaction (BEGIN, the
  buyer's lock, this statement, its webhook message, COMMIT) goes to the database in one
  round trip, a psycopg pipeline; with one, the booking is a savepoint of the key's
  transaction, which renders the answer and writes the key row (one more statement) before
  it commits.
- `booking_event`: what a booking shows of an event (name, venue, time, price, status) and of
  its active ticket types, from this process's copy, read once. A copy, not a cache anything
  relies on: `book_free_seats` compares every one of those values (the types' through the
  event's `ticket_types_version`) with the locked row and writes nothing when one differs,
  and the locked path refreshes the copy from the rows it read.
"""

import contextlib
import functools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

import psycopg
from django.db import connection, models
from psycopg import pq

from accounts.models import User
from bookings.models import MAX_TICKETS_PER_PERSON, Booking, BookingItem, SalesDay
from core import locks
from events.models import Event, TicketType
from notifications.models import Notification
from waitingroom.admission import no_queue_sql
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


@functools.cache
def _written_fields(model: type[models.Model]) -> tuple[models.Field, ...]:
    """The columns an insert names: all but those the database fills in (`db_default`), which
    every row these statements write leaves at that default (no refund, no voucher). Fewer
    parameters keep the plain booking's statement prepared (MAX_CACHED_STATEMENT_PARAMS)."""
    return tuple(f for f in _fields(model) if f.db_default is models.NOT_PROVIDED)


def row_values(model: type[models.Model], values: dict[str, Any]) -> list:
    """One value per written field of `model`, in `_written_fields` order: given, or the field's
    default. Passed to psycopg as they are: on PostgreSQL the ORM's get_db_prep_save leaves
    these types (UUID, str, int, bool, Decimal, aware datetime) unchanged too, and costs a
    call chain per field."""
    return [
        values[field.attname] if field.attname in values else field.get_default()
        for field in _written_fields(model)
    ]


def _insert_from(model: type[models.Model], source: str) -> str:
    """`INSERT INTO model (every column) SELECT %s, … FROM source`: one row per row of
    `source`, another query of the same statement."""
    fields = _written_fields(model)
    columns = ", ".join(_q(f.column) for f in fields)
    values = ", ".join(["%s"] * len(fields))
    return f"INSERT INTO {_table(model)} ({columns}) SELECT {values} FROM {source}"


# --- event_claims -------------------------------------------------------------------------


@dataclass(frozen=True)
class _ClaimsSQL:
    sql: str
    event_fields: list[str]


# The statuses whose tickets count in a person's limit: confirmed, and held for payment.
# Written into the statement (they are identifiers, safe to quote), which keeps the plain
# booking's statement within psycopg's 50 cached parameters (`_Q`).
_HOLDING = (Booking.Status.CONFIRMED, Booking.Status.PENDING_PAYMENT)
assert all(status.isidentifier() for status in _HOLDING)


def _held_sql(event: str) -> str:
    """The buyer's tickets for the event `event` names (`_held_params`): confirmed, and those
    of their checkouts waiting for payment."""
    b = Booking
    holding = ", ".join(f"'{status}'" for status in _HOLDING)
    return (
        f"COALESCE((SELECT SUM(b.{_column(b, 'quantity')}) FROM {_table(b)} b "
        f"WHERE b.{_column(b, 'event')} = {event} "
        f"AND b.{_column(b, 'user')} = %s AND b.{_column(b, 'status')} IN ({holding})), 0)"
    )


def _pending_sql(event: str) -> str:
    """The seats the buyer waits for at the event `event` names (`_pending_params`).

    The active statuses are written into the statement, not passed: then even a prepared
    statement's generic plan can use the partial unique index of active entries (event, user),
    which the condition matches exactly. With them as parameters, the planner could not prove
    the index's condition and combined the buyer's entries with the event's whole queue, which
    grows with the waitlist of a sold-out event.
    """
    w = WaitlistEntry
    assert all(status.isidentifier() for status in ACTIVE_STATUSES)  # safe to quote
    active = ", ".join(f"'{status}'" for status in ACTIVE_STATUSES)
    return (
        f"COALESCE((SELECT SUM(w.{_column(w, 'quantity')}) FROM {_table(w)} w "
        f"WHERE w.{_column(w, 'event')} = {event} "
        f"AND w.{_column(w, 'user')} = %s AND w.{_column(w, 'status')} IN ({active})), 0)"
    )


# The account is live (param: user).
_LIVE_ACCOUNT_SQL = (
    f"EXISTS (SELECT 1 FROM {_table(User)} u WHERE u.{_column(User, 'id')} = %s "
    f"AND u.{_column(User, 'is_active')})"
)


def _held_params(user_id) -> list:
    return [user_id]


def _pending_params(user_id) -> list:
    return [user_id]


def _claims_sql() -> _ClaimsSQL:
    event_fields = [f.attname for f in _fields(Event)]
    event_columns = ", ".join(f"e.{_q(f.column)}" for f in _fields(Event))
    event_id = f"e.{_column(Event, 'id')}"
    sql = (
        f"SELECT {event_columns}, {_held_sql(event_id)}, {_pending_sql(event_id)}, "
        f"{_LIVE_ACCOUNT_SQL} FROM {_table(Event)} e WHERE {event_id} = %s"
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
    with connection.cursor() as cursor:
        params = [*_held_params(user_id), *_pending_params(user_id), user_id, event_id]
        cursor.execute(_CLAIMS.sql, params)
        row = cursor.fetchone()
    if row is None:
        return None
    count = len(_CLAIMS.event_fields)
    values = _from_db_fields(_fields(Event), row[:count])
    event = Event.from_db(connection.alias, _CLAIMS.event_fields, values)
    held, pending, active = row[count:]
    event.tickets_held, event.tickets_pending, event.account_active = (
        int(held),
        int(pending),
        bool(active),
    )
    return event


@functools.cache
def _converters(fields: tuple[models.Field, ...], vendor: str) -> list[tuple]:
    columns = [field.get_col(field.model._meta.db_table) for field in fields]
    return [
        (column, connection.ops.get_db_converters(column) + field.get_db_converters(connection))
        for field, column in zip(fields, columns, strict=True)
    ]


def _from_db_fields(fields: tuple[models.Field, ...], values) -> list:
    """Raw column values of `fields` as the ORM would hand them to the model (the backend's
    and the fields' converters; PostgreSQL needs next to none, SQLite parses dates and
    decimals)."""
    converted = []
    for (column, converters), value in zip(
        _converters(fields, connection.vendor), values, strict=True
    ):
        for convert in converters:
            value = convert(value, column, connection)
        converted.append(value)
    return converted


# --- booking_event ------------------------------------------------------------------------

# What a booking reads of its event: the answer's and the notification's text, the price, and
# whether it is open, and the version of its ticket types. `book_free_seats` compares each of
# them with the locked row; the version stands for every type's DESCRIBED_TYPE values, which
# change only with it (events.services bumps it under the event lock).
DESCRIBED = ("id", "name", "venue", "event_time", "price", "ticket_types_version", "status")
_DESCRIBED_FIELDS = tuple(f for f in _fields(Event) if f.attname in DESCRIBED)  # model order
# What a booking reads of a type: the item's name and price, and whether it sells now.
DESCRIBED_TYPE = ("id", "name", "price", "sales_start", "sales_end", "max_per_booking")
_DESCRIBED_TYPE_FIELDS = tuple(f for f in _fields(TicketType) if f.attname in DESCRIBED_TYPE)
_DESCRIBE_SQL = (
    f"SELECT {', '.join('e.' + _q(f.column) for f in _DESCRIBED_FIELDS)}, "
    f"{', '.join('t.' + _q(f.column) for f in _DESCRIBED_TYPE_FIELDS)} "
    f"FROM {_table(Event)} e LEFT JOIN {_table(TicketType)} t "
    f"ON t.{_column(TicketType, 'event')} = e.{_column(Event, 'id')} "
    f"AND t.{_column(TicketType, 'is_active')} "
    f"WHERE e.{_column(Event, 'id')} = %s "
    f"ORDER BY t.{_column(TicketType, 'position')}, t.{_column(TicketType, 'id')}"
)


@dataclass(frozen=True)
class _Copy:
    """An event's DESCRIBED values, and each active type's DESCRIBED_TYPE values, by position."""

    event: tuple
    types: tuple[tuple, ...]


# event id -> its _Copy, as the models take the values. A plain dict: each operation is
# atomic under the GIL, and it is emptied when full rather than aged.
_COPIES: dict[Any, _Copy] = {}
_COPIES_MAX = 4096


def _described(event: Event) -> tuple:
    return tuple(getattr(event, f.attname) for f in _DESCRIBED_FIELDS)


def _keep(event_id, copy: _Copy) -> None:
    if len(_COPIES) >= _COPIES_MAX:
        _COPIES.clear()
    _COPIES[event_id] = copy


def booking_event(event_id) -> Event | None:
    """The event with the DESCRIBED fields loaded and the others deferred (its seat counters
    are read under the lock, by the statement), carrying `copy_types`: its active types'
    DESCRIBED_TYPE values, by position (`copy_type` makes one a TicketType). From this
    process's copy, or read once and copied. None if there is no such event. The copy may be
    out of date; `book_free_seats` then writes nothing, and the locked path brings the copy up
    to date (`remember_event`).
    """
    copy = _COPIES.get(event_id)
    if copy is None:
        with connection.cursor() as cursor:
            cursor.execute(_DESCRIBE_SQL, [Event._meta.pk.get_db_prep_value(event_id, connection)])
            rows = cursor.fetchall()
        if not rows:
            return None
        count = len(_DESCRIBED_FIELDS)
        copy = _Copy(
            tuple(_from_db_fields(_DESCRIBED_FIELDS, rows[0][:count])),
            tuple(
                tuple(_from_db_fields(_DESCRIBED_TYPE_FIELDS, row[count:]))
                for row in rows
                if row[count] is not None
            ),
        )
        _keep(event_id, copy)
    event = Event.from_db(connection.alias, DESCRIBED, copy.event)
    event.copy_types = copy.types
    return event


def copy_type(values: tuple) -> TicketType:
    """A TicketType from one of `booking_event`'s `copy_types`."""
    return TicketType.from_db(connection.alias, DESCRIBED_TYPE, values)


def remember_event(event: Event) -> None:
    """Bring this process's copy of `event` up to date from a full read of its row and of its
    types (a locked event's `locked_types`)."""
    active = sorted(
        (t for t in event.locked_types.values() if t.is_active), key=lambda t: (t.position, t.pk)
    )
    types = tuple(tuple(getattr(t, f.attname) for f in _DESCRIBED_TYPE_FIELDS) for t in active)
    _keep(event.pk, _Copy(_described(event), types))


# --- book_free_seats ----------------------------------------------------------------------


# The booking's quantity, given once (`q`): psycopg converts a statement's placeholders once
# and keeps the result only for statements of at most 50 parameters
# (psycopg._queries.MAX_CACHED_STATEMENT_PARAMS); past that it parses the whole statement
# again on every booking.
_Q = "(SELECT n FROM q)"


# Where `locked` may also require the event's waiting room to be off.
_QUEUE_CONDITION = "/* queue */ "


def _take_sql() -> str:
    """Lock the event row if it is as described and has the seats, then take the type's seats
    if it has them, then the event's: `locked` (the event's row lock) is read before `typed`
    locks the type row, and `taken` only runs on what `typed` took, so the locks follow the one
    order (event, then type) and nothing changes unless both have the seats."""
    e = {name: _column(Event, name) for name in (
        "id", "price", "available_seats", "booked_seats", "revenue", "confirmed_bookings",
    )}  # fmt: skip
    t = {name: _column(TicketType, name) for name in (
        "id", "event", "available", "booked", "revenue",
    )}  # fmt: skip
    # The row is found by its key alone: the other values are compared with IS NOT DISTINCT
    # FROM, which no index answers. With `=`, and a range on the time, the planner may take the
    # index on the event's time (or the upcoming events' partial one) for the row, and scan
    # every event at that time, or every upcoming event, on each booking.
    assert _DESCRIBED_FIELDS[0].primary_key
    as_described = " AND ".join(
        f"e.{_q(f.column)} IS NOT DISTINCT FROM %s" for f in _DESCRIBED_FIELDS[1:]
    )
    event_id = f"e.{e['id']}"
    # FOR UPDATE rechecks these conditions on the row as the last writer left it.
    locked = (
        f"SELECT {event_id} FROM {_table(Event)} e "
        # As described: the caller only books an event its copy shows open (scheduled, not
        # started), so the row, with the copy's status and time, is open too.
        f"WHERE {event_id} = %s AND {as_described} "
        f"AND e.{e['available_seats']} >= {_Q} "
        # The buyer's lock is held, so this statement sees every booking of theirs.
        f"AND {_held_sql(event_id)} + {_pending_sql(event_id)} + {_Q} <= %s "
        f"AND {_LIVE_ACCOUNT_SQL} {_QUEUE_CONDITION}FOR UPDATE"
    )
    # The type's name, price and window are as in the copy: the event's ticket_types_version
    # says so. A subquery of one value (an InitPlan) runs before the type row is looked for.
    typed = (
        f"UPDATE {_table(TicketType)} t SET "
        f"{t['available']} = t.{t['available']} - {_Q}, {t['booked']} = t.{t['booked']} + {_Q}, "
        f"{t['revenue']} = ROUND(t.{t['revenue']} + %s, 2) + 0 "
        f"WHERE t.{t['id']} = %s AND t.{t['event']} = (SELECT {e['id']} FROM locked) "
        f"AND t.{t['available']} >= {_Q} "
        f"RETURNING t.{t['event']}"
    )
    taken = (
        f"UPDATE {_table(Event)} e SET "
        f"{e['available_seats']} = e.{e['available_seats']} - {_Q}, "
        f"{e['booked_seats']} = e.{e['booked_seats']} + {_Q}, "
        # Rounded in the statement, as events.seats rounds every revenue change.
        f"{e['revenue']} = ROUND(e.{e['revenue']} + %s, 2) + 0, "
        f"{e['confirmed_bookings']} = e.{e['confirmed_bookings']} + 1 "
        f"WHERE {event_id} = (SELECT {t['event']} FROM typed) "
        f"RETURNING {event_id}"
    )
    quantity = "q AS (SELECT %s::integer AS n)"
    return f"{quantity}, locked AS ({locked}), typed AS ({typed}), taken AS ({taken})"


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


def _insert_item_sql() -> str:
    """The booking's one item: its type and unit price given, the rest from the booking row."""
    i = {name: _column(BookingItem, name) for name in (
        "booking", "ticket_type", "quantity", "unit_price", "amount",
    )}  # fmt: skip
    return (
        f"INSERT INTO {_table(BookingItem)} ({i['booking']}, {i['ticket_type']}, "
        f"{i['quantity']}, {i['unit_price']}, {i['amount']}) "
        f"SELECT booking.{_column(Booking, 'id')}, %s, booking.{_column(Booking, 'quantity')}, "
        f"%s, booking.{_column(Booking, 'total_amount')} FROM booking"
    )


_BOOK_SQL_TEMPLATE = (
    f"WITH {_take_sql()}, "
    f"booking AS ({_insert_from(Booking, 'taken')} RETURNING "
    f"{_column(Booking, 'id')}, {_column(Booking, 'quantity')}, "
    f"{_column(Booking, 'total_amount')}), "
    f"item AS ({_insert_item_sql()} RETURNING 1), "
    f"notification AS ({_insert_from(Notification, 'booking')} RETURNING 1) "
    f"{_sales_upsert_sql('taken')}"
)
_BOOK_SQL = _BOOK_SQL_TEMPLATE.replace(_QUEUE_CONDITION, "")
# For a caller with no admission to the event's waiting room: only if it is off.
_BOOK_UNLESS_QUEUED_SQL = _BOOK_SQL_TEMPLATE.replace(
    _QUEUE_CONDITION, f"AND {no_queue_sql('e.id')} "
)


def book_free_seats(
    *,
    event: Event,
    ticket_type: TicketType,
    booking: dict[str, Any],
    notification: dict[str, Any],
    sales_day: tuple,
    then: Callable[[], None] | None = None,
    own_transaction: bool = False,
    unless_queued: bool = False,
) -> bool:
    """Take `booking`'s seats of `event` (from `booking_event`) and of `ticket_type` (one of
    its `copy_types`), and write the booking, its one item, its notification and the day's
    sales, in one statement, if under the row locks the event still has the DESCRIBED values
    the booking used (so its status and time are those the caller found open,
    `event_is_open`, and its types are as copied) and has the seats, the type has the seats,
    the buyer's account is live, and their tickets and waited-for seats stay within
    MAX_TICKETS_PER_PERSON. False: nothing was written, and the caller finds out why under the
    locks.

    `booking` and `notification` map field names to values (the rest take their defaults);
    `sales_day` is (day, shard). The statement locks the event row, then the type's, until the
    commit. `then` runs in the same transaction once the statement is sent (what the booking's
    `booking_confirmed` receivers write).

    With `unless_queued`, nothing is written either if the event's waiting room is on (read
    under the event's row lock), for a caller without an admission.

    In the caller's transaction, the caller holds the buyer's lock, and `then` runs only if the
    booking was written. With `own_transaction` (the caller is outside any transaction), the
    whole transaction is one round trip to the database (`_in_one_round_trip`): `then` runs
    before the outcome is known, so what it writes must be conditional on the booking row (as
    webhooks.outbox.record(only_with=...) is), and on True the booking is committed.
    """
    quantity = booking["quantity"]
    amount: Decimal = booking["total_amount"]
    ops = connection.ops
    described = [
        ops.adapt_datetimefield_value(value) if isinstance(value, datetime) else value
        for value in _described(event)
    ]
    buyer = booking["user_id"]
    locked = [
        *described,
        *_held_params(buyer),
        *_pending_params(buyer),
        MAX_TICKETS_PER_PERSON,
        buyer,  # the live account
    ]
    typed = [amount, ticket_type.pk]  # the one item's amount is the booking's
    taken = [amount]
    sale = [ops.adapt_datefield_value(sales_day[0]), sales_day[1], 1, quantity, amount, 0, 0]
    params = [
        quantity,  # q
        *locked,
        *typed,
        *taken,
        *row_values(Booking, booking),
        ticket_type.pk,  # the item's type and unit price
        ticket_type.price,
        *row_values(Notification, notification),
        *sale,
    ]
    sql = _BOOK_UNLESS_QUEUED_SQL if unless_queued else _BOOK_SQL
    if own_transaction:
        return _in_one_round_trip(locks.buyer_lock_statement(buyer), sql, params, then)
    locks.acquire(locks.EVENT)  # `locked` locks the event row
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        written = cursor.rowcount == 1
    if written:
        locks.acquire(locks.TICKET_TYPES)  # `typed` locked the type's row after the event's
        locks.acquire(locks.DAY_TOTALS)  # the upsert locked its day totals row, last
        if then is not None:
            then()
    # Written or not, this transaction holds the event's lock now: the locked path that follows
    # a refusal locks the event (again) and then its types, whatever `typed` left locked.
    return written


def _in_one_round_trip(buyer_lock: tuple[str, list], sql: str, params: list, then) -> bool:
    """BEGIN, the buyer's lock, the booking statement, what `then` sends, COMMIT: sent together
    in one psycopg pipeline, so the transaction costs one round trip instead of five. The locks
    are taken in their one order (buyer, event, type, day totals; core/locks.py) by the
    statements themselves. When the statement wrote nothing, the COMMIT ends a transaction
    that wrote nothing: `then`'s writes are conditional on the booking row. A statement that
    fails (a lock wait past lock_timeout, a lost connection) aborts the rest; the transaction
    is rolled back and the error raised as Django raises database errors."""
    connection.ensure_connection()
    with connection.wrap_database_errors:
        raw = connection.connection
        try:
            with connection.cursor() as cursor:
                with raw.pipeline():
                    raw.execute("BEGIN")
                    cursor.execute(*buyer_lock)
                    cursor.execute(sql, params)
                    if then is not None:
                        then()
                    raw.execute("COMMIT")
                # The pipeline's end waited for every result.
                return cursor.rowcount == 1
        except Exception:
            _roll_back(raw)
            raise


def _roll_back(raw) -> None:
    """End a pipelined transaction that failed part-way, if the connection still answers; a
    broken one is closed by Django at the request's end."""
    if raw.closed or raw.info.transaction_status == pq.TransactionStatus.IDLE:
        return
    with contextlib.suppress(psycopg.Error):
        raw.execute("ROLLBACK")
