"""Run code in real threads, each with its own database connection."""

import contextlib
import threading
import time
from collections.abc import Callable

from django.db import connection, transaction

from bookings import statements
from core import locks
from events import seats
from events.models import Event, TicketType


def run_concurrently(calls: list[Callable[[], object]], timeout: float = 60) -> list[object]:
    """Start every call at the same moment; return each result or the exception it raised."""
    results: list[object] = [None] * len(calls)
    barrier = threading.Barrier(len(calls))

    def worker(index: int, call: Callable[[], object]) -> None:
        try:
            barrier.wait()
            results[index] = call()
        except Exception as exc:
            results[index] = exc
        finally:
            connection.close()  # each thread opened its own

    threads = [threading.Thread(target=worker, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
        assert not thread.is_alive(), "a worker hung"
    return results


def slow_lock(delay: float = 0.05):
    """The real row lock, holding it a little longer to widen any race window."""
    real = seats.lock_event

    def lock_event(event_id, **kwargs):
        event = real(event_id, **kwargs)
        time.sleep(delay)
        return event

    return lock_event


def no_lock(delay: float = 0.05):
    """The control: read the event without locking it, then dawdle, as a racy version would."""

    def lock_event(event_id, **kwargs):
        event = Event.objects.get(pk=event_id)
        event.locked_types = {t.pk: t for t in TicketType.objects.filter(event=event)}
        time.sleep(delay)
        return event

    return lock_event


def slow_take(delay: float = 0.05):
    """The real one-statement lock-and-book, then holding the lock a little longer: the
    database sleeps in the booking's transaction, after the statement, so the one-round-trip
    booking (whose commit is sent with it) holds its locks that much longer too."""
    real = statements.book_free_seats

    def book_free_seats(*, then=None, **kwargs):
        def slower():
            if then is not None:
                then()
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_sleep(%s)", [delay])

        return real(then=slower, **kwargs)

    return book_free_seats


def without_buyer_lock(monkeypatch, module) -> None:
    """The control for the ten-ticket limit: one person's bookings no longer take turns."""
    monkeypatch.setattr(module, "lock_buyer", lambda user: None)
    monkeypatch.setattr(locks, "buyer_lock_statement", lambda user_id: ("SELECT 1", []))


def without_lock(monkeypatch, module, delay: float = 0.1) -> None:
    """The control: switch off every way `module` locks an event (and a buyer), and widen the
    window. Bookings then all take the locked path, with the lock gone."""
    if hasattr(module, "_book_free_seats"):
        monkeypatch.setattr(module, "_book_free_seats", lambda *args, **kwargs: None)
    if hasattr(module, "lock_buyer"):
        without_buyer_lock(monkeypatch, module)
    monkeypatch.setattr(module, "lock_event", no_lock(delay))


def with_slow_lock(monkeypatch, module, delay: float = 0.02) -> None:
    """The real locks of `module`, each held a little longer to widen any race window."""
    if hasattr(module, "statements"):
        monkeypatch.setattr(module.statements, "book_free_seats", slow_take(delay))
    monkeypatch.setattr(module, "lock_event", slow_lock(delay))


@contextlib.contextmanager
def event_row_held(event_id, lock_timeout: str):
    """Another worker's transaction holds the event's row and does not finish until the block
    ends; this connection waits at most `lock_timeout` (DB_LOCK_TIMEOUT_MS) for a lock."""
    holding, release = threading.Event(), threading.Event()

    def hold_the_event_row():
        try:
            with transaction.atomic():
                Event.objects.select_for_update().get(pk=event_id)
                holding.set()
                release.wait(30)
        finally:
            connection.close()

    holder = threading.Thread(target=hold_the_event_row)
    holder.start()
    try:
        assert holding.wait(10), "the event's row was never locked"
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config('lock_timeout', %s, false)", [lock_timeout])
        yield
    finally:
        release.set()
        holder.join(10)
        with connection.cursor() as cursor:
            cursor.execute("RESET lock_timeout")
