"""One lock order for every write, stated in core/locks.py and enforced where locks are taken."""

import pytest
from django.db import connection, transaction

from bookings.models import Booking
from core import locks
from core.locks import LockOrderError
from events.seats import lock_event
from tests.factories import EventFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_a_lock_outside_a_transaction_is_refused():
    # The test's own wrapping transaction does not count: a service must open its own.
    with pytest.raises(LockOrderError, match=r"outside transaction\.atomic"):
        locks.lock_buyer(UserFactory().pk)


def test_locks_taken_in_the_order_are_accepted():
    event = EventFactory()
    with transaction.atomic():
        assert locks.try_lock_idempotency_key("u", "k")
        locks.lock_buyer("u")
        lock_event(event.pk)
        list(locks.rows(Booking.objects.filter(event=event)))
        list(locks.rows(Booking.objects.filter(event=event)))  # the same kind again is fine
        locks.acquire(locks.DAY_TOTALS)


@pytest.mark.parametrize(
    ("first", "then"),
    [
        (locks.EVENT, locks.BUYER),
        (locks.DAY_TOTALS, locks.EVENT_ROWS),
        (locks.EVENT_ROWS, locks.EVENT),
        (locks.BUYER, locks.IDEMPOTENCY_KEY),
    ],
)
def test_a_lock_above_one_already_held_is_refused(first, then):
    with transaction.atomic():
        locks.acquire(first)
        with pytest.raises(LockOrderError, match=f"after the {locks.NAMES[first]} lock"):
            locks.acquire(then)


def test_each_transaction_starts_with_no_lock_held():
    event = EventFactory()
    with transaction.atomic():
        lock_event(event.pk)
        locks.acquire(locks.DAY_TOTALS)
    with transaction.atomic():
        locks.lock_buyer("u")  # a new transaction: the buyer lock comes first again
        lock_event(event.pk)


def test_a_savepoint_belongs_to_its_transaction():
    event = EventFactory()
    with transaction.atomic():
        lock_event(event.pk)
        with transaction.atomic(), pytest.raises(LockOrderError):
            locks.lock_buyer("u")  # still the same transaction: the buyer lock is too late


def test_rows_locks_the_queryset_for_update():
    with transaction.atomic():
        assert locks.rows(Booking.objects.all()).query.select_for_update


def test_named_locks_are_needed_on_postgresql_only():
    # SQLite runs one write transaction at a time (IMMEDIATE): it already holds every lock.
    assert locks._named_locks_needed() is (connection.vendor == "postgresql")


def test_a_job_running_alone_may_take_locks_in_any_order_within_its_transaction():
    event = EventFactory()
    with transaction.atomic(), locks.running_alone():
        lock_event(event.pk)
        locks.lock_buyer("u")
    with transaction.atomic():  # the next transaction is checked again
        lock_event(event.pk)
        with pytest.raises(LockOrderError):
            locks.lock_buyer("u")
