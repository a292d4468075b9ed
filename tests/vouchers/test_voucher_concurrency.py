"""`used <= max_uses` under real concurrency on PostgreSQL: threads with their own
connections race for a voucher's last uses, against cancels and expiries giving uses back,
and against staff changing the voucher."""

import time
from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import override_settings
from django.utils import timezone

from bookings import checkout, vouchers
from bookings.models import Booking, Voucher
from bookings.services import booking_cancel, booking_create
from core import locks
from core.exceptions import VoucherInvalid
from tests.concurrency import run_concurrently
from tests.factories import EventFactory, UserFactory, VoucherFactory
from tests.invariants import assert_books_balance, assert_vouchers_balance

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def racing_buyers(event, count, code="RACE"):
    buyers = [UserFactory() for _ in range(count)]
    return [
        (lambda u=u: booking_create(event_id=event.pk, user=u, quantity=1, voucher=code))
        for u in buyers
    ]


@pytest.mark.parametrize("round_", range(3))
def test_many_buyers_racing_for_three_uses_get_exactly_three(round_):
    event = EventFactory(total_capacity=50, price=Decimal("10.00"))
    voucher = VoucherFactory(event=event, code="RACE", max_uses=3)

    results = run_concurrently(racing_buyers(event, 12))

    booked = [r for r in results if not isinstance(r, Exception)]
    refused = [r for r in results if isinstance(r, VoucherInvalid)]
    assert (len(booked), len(refused)) == (3, 9), results
    voucher.refresh_from_db()
    assert voucher.used == 3
    assert Booking.objects.filter(voucher=voucher).count() == 3
    assert_books_balance(event)
    assert_vouchers_balance(event)


@pytest.mark.parametrize("round_", range(3))
def test_staff_lowering_max_uses_while_buyers_race_never_goes_below_used(round_):
    """The change waits on the voucher's row for the bookings counting uses, and they on it:
    whichever commits first, `max_uses` never ends below `used`."""
    event = EventFactory(total_capacity=50, price=Decimal("10.00"))
    voucher = VoucherFactory(event=event, code="RACE", max_uses=6)
    admin = UserFactory(role="admin")

    def lower():
        return vouchers.voucher_update(voucher_id=voucher.pk, actor=admin, changes={"max_uses": 2})

    results = run_concurrently([*racing_buyers(event, 3), lower, *racing_buyers(event, 3)])

    voucher.refresh_from_db()
    booked = [r for r in results if not isinstance(r, Exception) and r is not None]
    booked = [r for r in booked if not isinstance(r, Voucher)]
    lowered = isinstance(results[3], Voucher)
    assert voucher.max_uses == (2 if lowered else 6), results
    assert voucher.used == len(booked) <= voucher.max_uses, results
    assert_vouchers_balance(event)


def test_cancels_and_new_bookings_racing_keep_the_count():
    event = EventFactory(total_capacity=50, price=Decimal("10.00"))
    voucher = VoucherFactory(event=event, code="RACE", max_uses=3)
    holders = [UserFactory() for _ in range(3)]
    held = [
        booking_create(event_id=event.pk, user=u, quantity=1, voucher="RACE").booking
        for u in holders
    ]
    cancels = [
        (lambda b=b, u=u: booking_cancel(booking_id=b.pk, actor=u))
        for b, u in zip(held, holders, strict=True)
    ]

    results = run_concurrently(cancels + racing_buyers(event, 6))

    assert not [r for r in results[:3] if isinstance(r, Exception)], results
    newcomers = [r for r in results[3:] if not isinstance(r, Exception)]
    assert all(isinstance(r, VoucherInvalid) for r in results[3:] if isinstance(r, Exception))
    voucher.refresh_from_db()
    assert voucher.used == len(newcomers) <= 3
    assert_books_balance(event)
    assert_vouchers_balance(event)


@override_settings(PAYMENT_PROVIDER="dummy", PUBLIC_URL="https://tickets.example.com")
def test_an_expiry_racing_new_bookings_gives_back_exactly_what_it_expires():
    event = EventFactory(total_capacity=50, price=Decimal("10.00"))
    voucher = VoucherFactory(event=event, code="RACE", max_uses=4)
    pending = [
        booking_create(event_id=event.pk, user=UserFactory(), quantity=1, voucher="RACE")
        for _ in range(4)
    ]
    assert {o.result for o in pending} == {"pending_payment"}
    Booking.objects.filter(pk__in=[o.booking.pk for o in pending]).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )

    def expire_loop():
        # As the expiry loop does: an event a booking holds is skipped (SKIP LOCKED) and
        # expired on a later round.
        expired = 0
        for _ in range(200):
            expired += checkout.expire_due()
            if expired == 4:
                break
            time.sleep(0.01)
        return expired

    results = run_concurrently([expire_loop, *racing_buyers(event, 6)])

    assert results[0] == 4, results
    newcomers = [r for r in results[1:] if not isinstance(r, Exception)]
    assert all(isinstance(r, VoucherInvalid) for r in results[1:] if isinstance(r, Exception))
    voucher.refresh_from_db()
    assert voucher.used == len(newcomers) <= 4
    assert_books_balance(event)
    assert_vouchers_balance(event)


def test_the_voucher_lock_comes_after_the_types_and_before_the_bookings():
    assert locks.TICKET_TYPES < locks.VOUCHER < locks.EVENT_ROWS
