"""Every lock a write takes, and the one order in which a transaction may take them.

    ACCOUNT          an account whose role or active flag changes (its row)
    IDEMPOTENCY_KEY  a caller's Idempotency-Key (named lock)
    BUYER            one person's tickets, whatever the event (named lock)
    EVENT            an event's row: SELECT ... FOR UPDATE (`events.seats.lock_event`), or the
                     conditional UPDATE of a plain booking (`bookings.statements`)
    TICKET_TYPES     that event's ticket type rows, in id order (`ticket_type_rows`), or the
                     plain booking's UPDATE of its one type, which follows its event lock
    VOUCHER          voucher rows a booking applies or gives back, in id order
                     (`bookings.vouchers`)
    EVENT_ROWS       that event's bookings or waitlist entries (`rows`)
    PAYMENT          those bookings' payment rows (bookings.checkout), the provider's status
                     written under the booking's lock
    DAY_TOTALS       rows of per-day totals shared by many events: sales (`bookings.sales`)
                     and scheduled events (`events.summary`), upserted in key order
    OUTBOX           notification rows a mailer claims to send

A transaction takes them top to bottom: any kind after the ones above it, several of one kind
in key order, never one above a kind it already holds. Two writes then never wait for each
other in a circle. `acquire` enforces it where each lock is taken: a lock outside
`transaction.atomic()`, or out of order, raises LockOrderError, which is a bug, not a state
of the data. (A transaction is told apart by its outermost `atomic()` block; every service
opens a fresh one with `with transaction.atomic():`.)

Named locks are PostgreSQL transaction-level advisory locks. SQLite has none and needs none:
its transactions start IMMEDIATE (settings), so one writer runs at a time and holds every
lock at once; `_named_locks_needed` is where that is decided.
"""

import contextlib
import hashlib

from django.db import connection
from django.db.models import QuerySet

(
    ACCOUNT,
    IDEMPOTENCY_KEY,
    BUYER,
    EVENT,
    TICKET_TYPES,
    VOUCHER,
    EVENT_ROWS,
    PAYMENT,
    DAY_TOTALS,
    OUTBOX,
) = range(10)
NAMES = (
    "account",
    "idempotency key",
    "buyer",
    "event",
    "event's ticket types",
    "vouchers",
    "event's bookings or waitlist entries",
    "booking's payment",
    "day totals",
    "notification outbox",
)


class LockOrderError(RuntimeError):
    """A lock taken outside a transaction or against the order above: a programming error."""


def _transaction():
    """The outermost atomic block of this transaction (not a test case's wrapper), or None."""
    for block in connection.atomic_blocks:
        if not block._from_testcase:
            return block
    return None


def acquire(kind: int) -> None:
    """Record that this transaction takes a lock of `kind`, refusing one out of order."""
    transaction = _transaction()
    if transaction is None:
        raise LockOrderError(f"the {NAMES[kind]} lock is taken outside transaction.atomic()")
    if getattr(transaction, "_evently_alone", False):
        return  # see `running_alone`
    held_by, highest = getattr(connection, "_evently_locks", (None, -1))
    if held_by is not transaction:
        highest = -1  # a new transaction: nothing held yet
    if kind < highest:
        raise LockOrderError(
            f"the {NAMES[kind]} lock is taken after the {NAMES[highest]} lock; "
            f"the order is {' > '.join(NAMES)} (core/locks.py)"
        )
    # Keeping the block itself, not its id, so a later block cannot be mistaken for it.
    connection._evently_locks = (transaction, kind)


@contextlib.contextmanager
def running_alone():
    """Inside it, this transaction may take locks in any order: for a job that runs while
    nothing else writes, and wants all of its many writes in one transaction (the demo data
    at a first start). Never for request or background code that runs beside other writers."""
    transaction = _transaction()
    if transaction is None:
        raise LockOrderError("running_alone() is for a transaction: open transaction.atomic()")
    transaction._evently_alone = True
    try:
        yield
    finally:
        transaction._evently_alone = False


def rows(queryset: QuerySet, kind: int = EVENT_ROWS) -> QuerySet:
    """`queryset` locked FOR UPDATE, as a lock of `kind` (by default an event's rows)."""
    acquire(kind)
    return queryset.select_for_update()


def ticket_type_rows(queryset: QuerySet) -> QuerySet:
    """`queryset` of one event's ticket types locked FOR UPDATE in id order, the one order in
    which type rows are locked (after their event's row)."""
    return rows(queryset.order_by("pk"), TICKET_TYPES)


def _named_locks_needed() -> bool:
    """PostgreSQL needs named locks; SQLite already serialises every write transaction."""
    return connection.vendor == "postgresql"


def _key(name: str) -> int:
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


def lock_buyer(user_id) -> None:
    """Wait until this transaction holds `user_id`'s buyer lock (see BUYER)."""
    acquire(BUYER)
    if _named_locks_needed():
        with connection.cursor() as cursor:
            cursor.execute(*buyer_lock_statement(user_id))


def buyer_lock_statement(user_id) -> tuple[str, list]:
    """The statement (PostgreSQL) that waits for `user_id`'s buyer lock, for a caller that
    sends it itself as the first statement of its transaction (bookings.statements' one round
    trip), where `lock_buyer`'s bookkeeping has no transaction.atomic() to go by."""
    return "SELECT pg_advisory_xact_lock(%s)", [_key(f"buyer:{user_id}")]


def try_lock_idempotency_key(user_id, key: str) -> bool:
    """Take the lock of (user, Idempotency-Key) if no other transaction holds it."""
    acquire(IDEMPOTENCY_KEY)
    if not _named_locks_needed():
        return True
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_try_advisory_xact_lock(%s)", [_key(f"idempotency:{user_id}:{key}")]
        )
        return cursor.fetchone()[0]
