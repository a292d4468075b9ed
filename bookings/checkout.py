"""Checkout: a booking's seats held while its buyer pays, through django-payments.

With a payment provider (`PAYMENT_PROVIDER` dummy or stripe) a booking whose total is above
zero starts `pending_payment`: its seats move from the event's and its types' `available` to
their `held` counters (`hold_booking`, in the booking's own transaction) until `expires_at`.
From there, every change runs under the event's lock, then its types', the booking's and the
payment's rows (core/locks.py):

- paid (`settle`): `confirmed`, its held seats booked, its notification and the day's sales
  written, in one transaction; another report of the same payment changes nothing;
- rejected: still pending, the buyer told; they may start another payment for the same hold;
- past `expires_at` unpaid (`expire_due`, run by `expire_waitlist_offers`, or on reading it):
  `expired`, its seats go back and the waitlist is served;
- paid after it expired or was cancelled: confirmed if the seats are still free, else
  refunded in full and the buyer told; never an oversold seat.

A refund (`refund`) asks the provider before anything is written, so a refused one changes
nothing (502 `refund_failed`). An event's cancellation cancels its paid bookings in its own
transaction and refunds them after it (`refund_due`): each refund is recorded on its payment
(`refunded`) in a transaction of its own, so a crash part-way leaves the rest due, and the
next round of `expire_waitlist_offers` refunds those, none twice.
"""

import logging
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from payments import PaymentError, PaymentStatus

from accounts.models import User
from bookings import notices, sales, signals, vouchers
from bookings.models import Booking, Payment
from bookings.selectors import booking_get
from core import locks, metrics
from core.exceptions import (
    AlreadyCancelled,
    AlreadyConfirmed,
    BookingExpired,
    NotFound,
    RefundFailed,
)
from events.models import Event
from events.seats import lock_event, lock_ticket_types, move_seats, move_type_seats
from notifications.models import Notification
from notifications.services import notify
from waitlist.models import WaitlistEntry
from waitlist.services import event_is_open, waitlist_serve

logger = logging.getLogger(__name__)

Status = Booking.Status
# A payment the buyer may still complete.
OPEN_PAYMENT = (PaymentStatus.WAITING, PaymentStatus.INPUT)
FAILED_PAYMENT = (PaymentStatus.REJECTED, PaymentStatus.ERROR)


def is_checkout(amount: Decimal) -> bool:
    """Whether a booking of `amount` waits for payment: with a provider, above zero."""
    return amount > 0 and settings.PAYMENT_PROVIDER != "none"


def hold_until(now: datetime) -> datetime:
    return now + timedelta(seconds=settings.CHECKOUT_HOLD_SECONDS)


def payment_url(payment: Payment) -> str:
    """The page where the buyer pays: no login, the payment's unguessable token is its key."""
    return notices.absolute(reverse("payment-page", kwargs={"token": payment.token}))


# --- starting ------------------------------------------------------------------------------


def _start_payment(booking: Booking, event: Event, email: str) -> Payment:
    payment = Payment(
        booking=booking,
        variant=settings.PAYMENT_PROVIDER,
        total=booking.total_amount,
        currency=settings.CURRENCY,
        description=f"{booking.quantity} ticket(s) for {event.name}",
        billing_email=email,
        expires_at=booking.expires_at,
    )
    payment.save()
    payment.booking = booking
    return payment


def hold_booking(booking: Booking, event: Event, user: User, *, from_held: bool) -> Payment:
    """Make a pending booking just written on a locked event a checkout: its seats held and
    its first payment started. An offer's seats (`from_held`) are held already and stay so,
    never free in between. The caller has checked that the seats are there."""
    if not from_held:
        move_seats(event, available=-booking.quantity, held=booking.quantity)
        for item in booking.item_rows:
            move_type_seats(
                event, item.ticket_type_id, available=-item.quantity, held=item.quantity
            )
    booking.payment = _start_payment(booking, event, _email(user))
    metrics.on_commit(metrics.CHECKOUTS.labels("started"))
    logger.info("checkout started", extra={"booking_id": str(booking.pk)})
    return booking.payment


def _email(user: User) -> str:
    """The buyer's address, which the provider is given (Stripe's receipt goes there). A user
    taken from an access token's claims (accounts.authentication) carries none: read it."""
    return user.email or User.objects.values_list("email", flat=True).get(pk=user.pk)


def _lock(booking_id, user: User | None = None) -> tuple[Event, Booking]:
    """The booking (one `user` may see, when given: else 404) with its event and types
    locked, then its voucher's row, then its own."""
    if user is not None:
        found = booking_get(booking_id=booking_id, user=user)
        event_id, voucher_id = found.event_id, found.voucher_id
    else:
        event_id, voucher_id = Booking.objects.values_list("event_id", "voucher_id").get(
            pk=booking_id
        )
    event = lock_event(event_id)
    vouchers.vouchers_lock([voucher_id])
    booking = locks.rows(Booking.objects.filter(pk=booking_id).select_related("user")).get()
    booking.event = event
    return event, booking


def _ensure_pending(booking: Booking) -> None:
    if booking.status == Status.CONFIRMED:
        raise AlreadyConfirmed()
    if booking.status == Status.CANCELLED:
        raise AlreadyCancelled("This booking is cancelled.")
    if booking.status == Status.EXPIRED:
        raise BookingExpired()


def is_overdue(booking: Booking, now: datetime | None = None) -> bool:
    return booking.status == Status.PENDING_PAYMENT and booking.expires_at <= (
        now or timezone.now()
    )


def payment_restart(*, booking_id, user: User) -> Payment:
    """A new payment for a pending booking's hold (the last one failed, or its page was
    lost); the hold keeps its end. A hold that has ended expires now: 409 booking_expired."""
    return _restart(booking_id, user)


def _restart(booking_id, user: User | None) -> Payment:
    with transaction.atomic():
        event, booking = _lock(booking_id, user)
        if not is_overdue(booking):
            _ensure_pending(booking)
            return _start_payment(booking, event, booking.user.email)
        _expire(event, booking)
        waitlist_serve(event=event)
    raise BookingExpired()


def latest_payment(*, booking_id, user: User) -> Payment:
    """The booking's newest payment (404 if it has none); a pending booking read after its
    hold ended is expired first, and the payment read in that transaction, so the answer is
    what it wrote."""
    booking = booking_get(booking_id=booking_id, user=user)
    with transaction.atomic():
        if is_overdue(booking):
            expire_now(booking.pk)
        payment = Payment.objects.filter(booking_id=booking.pk).first()
    if payment is None:
        raise NotFound("This booking has no payment.")
    return payment


# --- paying -------------------------------------------------------------------------------


@dataclass(frozen=True)
class LockedPayment:
    event: Event
    booking: Booking
    payment: Payment
    status_before: str


def lock_payment(token: str) -> LockedPayment:
    """A payment found by its token, with its event, types and booking locked, then its own
    row: what a provider's report may change. Inside the caller's transaction."""
    found = Payment.objects.filter(token=token).values_list("booking_id", flat=True).first()
    if found is None:
        raise NotFound("No payment with this token.")
    event, booking = _lock(found)
    payment = locks.rows(Payment.objects.filter(token=token), locks.PAYMENT).get()
    payment.booking = booking
    return LockedPayment(event, booking, payment, payment.status)


def payable(locked: LockedPayment) -> bool:
    """Whether the buyer may pay this payment now: its booking pending within its hold, the
    payment still open. A hold found ended is expired here, in the caller's transaction."""
    booking = locked.booking
    if is_overdue(booking):
        _expire(locked.event, booking)
        waitlist_serve(event=locked.event)
        locked.payment.refresh_from_db(fields=["status"])
        return False
    return booking.status == Status.PENDING_PAYMENT and locked.payment.status in OPEN_PAYMENT


def payment_retry(token: str) -> Payment:
    """A new payment for the hold of the payment `token` (from its page, after a failure)."""
    booking_id = Payment.objects.filter(token=token).values_list("booking_id", flat=True).first()
    if booking_id is None:
        raise NotFound("No payment with this token.")
    return _restart(booking_id, None)


def settle_report(token: str, status_before: str) -> str:
    """Settle a payment whose status the provider changed outside `lock_payment` (it failed
    while preparing its page), under the locks, as `settle` would have."""
    with transaction.atomic():
        locked = lock_payment(token)
        return settle(replace(locked, status_before=status_before))


def settle(locked: LockedPayment) -> str:
    """Move the booking with what the provider reported about its payment (under
    `lock_payment`'s locks, after the provider's code changed the payment). Returns what
    happened: confirmed, refunded, failed or unchanged."""
    event, booking, payment = locked.event, locked.booking, locked.payment
    now = timezone.now()
    if payment.status == PaymentStatus.CONFIRMED and locked.status_before != payment.status:
        metrics.on_commit(metrics.PAYMENTS.labels("confirmed"))
        if not payment.captured_amount:
            payment.captured_amount = payment.total
            payment.save(update_fields=["captured_amount", "modified"])
        if booking.status == Status.PENDING_PAYMENT:
            # Its seats are held for it until it is expired, even past expires_at.
            _confirm(event, booking, from_held=True, now=now)
            return "confirmed"
        if (
            booking.status == Status.EXPIRED
            and event_is_open(event, now)
            and event.available_seats >= booking.quantity
            and all(
                event.locked_types[item.ticket_type_id].available >= item.quantity
                for item in _items(booking)
            )
            # Its voucher's use went back when it expired: it needs one again.
            and (booking.voucher_id is None or vouchers.voucher_count_again(booking.voucher_id))
        ):
            _confirm(event, booking, from_held=False, now=now)
            return "confirmed"
        # Cancelled, expired with its seats gone, or paid twice: the money goes back.
        try:
            _refund(booking, payment)
        except RefundFailed:
            logger.warning("late payment refund failed", extra={"payment_id": str(payment.pk)})
            return "unchanged"  # still due: refund_due tries again
        return "refunded"
    if payment.status in FAILED_PAYMENT and locked.status_before not in FAILED_PAYMENT:
        metrics.on_commit(metrics.PAYMENTS.labels(payment.status))
        if booking.status == Status.PENDING_PAYMENT:
            notify(
                user_ids=[booking.user_id],
                event=event,
                type=Notification.Type.PAYMENT_FAILED,
                title=f"Payment failed: {event.name}",
                message=notices.payment_failed(booking, payment),
            )
            return "failed"
    return "unchanged"


def _items(booking: Booking):
    rows = getattr(booking, "item_list", None)
    if rows is None:
        rows = booking.item_list = list(booking.items.select_related("ticket_type"))
    return rows


def _confirm(event: Event, booking: Booking, *, from_held: bool, now: datetime) -> None:
    """A paid checkout becomes a confirmed booking: its seats (held for it, or free again
    after it expired) booked, its notification, the day's sales and the signal, together."""
    source = "held" if from_held else "available"
    move_seats(
        event,
        **{source: -booking.quantity},
        booked=booking.quantity,
        revenue=booking.total_amount,
        bookings=1,
    )
    for item in _items(booking):
        move_type_seats(
            event,
            item.ticket_type_id,
            **{source: -item.quantity},
            booked=item.quantity,
            revenue=item.amount,
        )
    booking.status = Status.CONFIRMED
    booking.save(update_fields=["status", "updated_at"])
    notify(
        user_ids=[booking.user_id],
        event=event,
        **notices.confirmation(event, booking.quantity, booking.total_amount, booking.pk),
    )
    converted = WaitlistEntry.objects.filter(booking=booking).exists()
    signals.booking_confirmed.send(sender=Booking, booking=booking)
    # Last: the day totals are the last locks a transaction takes (core/locks.py).
    sales.record_booking(booking, converted=converted)
    logger.info("checkout paid", extra={"booking_id": str(booking.pk)})


# --- ending unpaid ------------------------------------------------------------------------


def _expire(event: Event, booking: Booking) -> None:
    """A pending booking of a locked event ends unpaid: its seats go back (the caller serves
    the waitlist), its open payments are closed, its buyer told."""
    release_hold(event, booking, Status.EXPIRED)
    notify(
        user_ids=[booking.user_id],
        event=event,
        type=Notification.Type.BOOKING_EXPIRED,
        title=f"Checkout expired: {event.name}",
        message=notices.expired(booking),
    )
    metrics.on_commit(metrics.CHECKOUTS.labels("expired"))
    logger.info("checkout expired", extra={"booking_id": str(booking.pk)})


def release_hold(
    event: Event, booking: Booking, status: str, *, close_payments: bool = True
) -> None:
    """End a locked pending booking as `status` (expired, or cancelled before it was paid):
    its held seats become available, its voucher's use goes back (the caller locked the
    voucher, `vouchers.vouchers_lock`) and its open payments are closed (`close_payments`;
    without, the caller closes them later in its transaction, once it has taken the locks
    that come before payments)."""
    now = timezone.now()
    booking.status = status
    if status == Status.CANCELLED:
        booking.cancelled_at = now
    booking.save(update_fields=["status", "cancelled_at", "updated_at"])
    cancelled = booking.quantity if status == Status.CANCELLED else 0
    move_seats(
        event,
        available=booking.quantity,
        held=-booking.quantity,
        withdrawn=1 if cancelled else 0,
        withdrawn_tickets=cancelled,
    )
    for item in _items(booking):
        move_type_seats(event, item.ticket_type_id, available=item.quantity, held=-item.quantity)
    vouchers.voucher_give_back([booking])
    if close_payments:
        close_open_payments([booking])


def close_open_payments(bookings: list[Booking]) -> None:
    """Cancel the payments still open of bookings that ended unpaid: their pages stop taking
    money. (A provider that reports one paid anyway is refunded, `settle`.)"""
    if bookings:
        locks.acquire(locks.PAYMENT)
        Payment.objects.filter(
            booking__in=[b.pk for b in bookings], status__in=OPEN_PAYMENT
        ).update(status=PaymentStatus.CANCELLED, modified=timezone.now())


def expire_now(booking_id) -> Booking:
    """Expire one pending booking whose hold has ended (it was read after its time); the
    booking as this transaction left it, its event and items with it."""
    with transaction.atomic():
        event, booking = _lock(booking_id)
        if is_overdue(booking):
            _expire(event, booking)
            waitlist_serve(event=event)
        _items(booking)
    return booking


# Holds expired in one transaction. Each takes a few milliseconds under the event's lock, which
# the event's bookings wait for: a chunk keeps them waiting a fraction of a second, however
# many holds are due.
EXPIRE_CHUNK = 100


def _expire_event(event_id, now: datetime) -> int:
    """Expire the event's due holds, EXPIRE_CHUNK a transaction, until none is left; how many.
    The first transaction claims the event with SKIP LOCKED (nothing, if another transaction
    holds it); the next ones wait for its row, which the bookings waiting for it may take in
    between: claiming it again with SKIP LOCKED would mostly find a booking there and leave
    the rest for the next round."""
    expired = done = _expire_chunk(event_id, now, claim=True)
    while done == EXPIRE_CHUNK:
        done = _expire_chunk(event_id, now, claim=False)
        expired += done
    return expired


def _expire_chunk(event_id, now: datetime, *, claim: bool) -> int:
    with transaction.atomic():
        if claim:
            # Another copy of the command holding this event is already doing the work.
            locks.acquire(locks.EVENT)
            event = Event.objects.select_for_update(skip_locked=True).filter(pk=event_id).first()
            if event is None:
                return 0
            lock_ticket_types(event)
        else:
            event = lock_event(event_id)
        # Under the event's lock no booking of it starts or ends: the same ones stay due.
        chunk = list(
            Booking.objects.filter(event=event, status=Status.PENDING_PAYMENT, expires_at__lte=now)
            .order_by("pk")
            .values_list("pk", "voucher_id")[:EXPIRE_CHUNK]
        )
        vouchers.vouchers_lock(voucher_id for _, voucher_id in chunk)
        due_ids = [pk for pk, _ in chunk]
        due = list(locks.rows(Booking.objects.filter(pk__in=due_ids).order_by("pk")))
        for booking in due:
            booking.event = event
            _expire(event, booking)
        waitlist_serve(event=event, now=now)
    return len(due)


def expire_due(*, now: datetime | None = None) -> int:
    """Expire every checkout past its hold and pass its seats on; how many. Each event in
    short transactions of its own (`_expire_event`), claimed with SKIP LOCKED, so copies on
    several machines skip an event another is expiring and never expire a hold twice."""
    now = now or timezone.now()
    event_ids = (
        Booking.objects.filter(status=Status.PENDING_PAYMENT, expires_at__lte=now)
        .values_list("event_id", flat=True)
        .distinct()
    )
    return sum(_expire_event(event_id, now) for event_id in sorted(set(event_ids), key=str))


# --- refunds ------------------------------------------------------------------------------


def paid_payment(booking: Booking) -> Payment | None:
    """A locked booking's paid payment, locked (none for a booking confirmed without one)."""
    return (
        locks.rows(
            Payment.objects.filter(booking=booking, status=PaymentStatus.CONFIRMED), locks.PAYMENT
        )
        .order_by("created")
        .first()
    )


def _refund(booking: Booking, payment: Payment) -> None:
    """Give a paid payment back in full through its provider, then record it on the payment
    (`refunded`) and the booking (`refunded_amount`), and tell the buyer. The provider is
    asked first: a refusal raises RefundFailed with nothing written."""
    if not payment.captured_amount:
        payment.captured_amount = payment.total
    amount = payment.captured_amount
    try:
        payment.refund(amount=amount)
    except (PaymentError, ValueError) as exc:
        metrics.on_commit(metrics.REFUNDS.labels("error"))
        raise RefundFailed() from exc
    Booking.objects.filter(pk=booking.pk).update(
        refunded_amount=min(booking.total_amount, booking.refunded_amount + amount),
        updated_at=timezone.now(),
    )
    booking.refunded_amount = min(booking.total_amount, booking.refunded_amount + amount)
    metrics.on_commit(metrics.REFUNDS.labels("refunded"))
    notify(
        user_ids=[booking.user_id],
        event=booking.event,
        type=Notification.Type.BOOKING_REFUNDED,
        title=f"Refunded: {booking.event.name}",
        message=notices.refunded(booking, amount, payment.currency),
    )
    logger.info("payment refunded", extra={"booking_id": str(booking.pk)})


def refund(booking: Booking) -> None:
    """Refund a locked booking being cancelled, if it was paid; RefundFailed changes nothing.
    Runs before the cancellation's writes, so a refusal leaves the booking as it was."""
    payment = paid_payment(booking)
    if payment is not None:
        _refund(booking, payment)


def refund_due(*, event_id=None) -> int:
    """Refund every paid payment whose booking ended (cancelled, or expired before it was
    paid) and was not refunded yet, each in its own transaction: how many were refunded. One
    the provider refuses stays due for the next round."""
    due = Payment.objects.filter(
        status=PaymentStatus.CONFIRMED,
        booking__status__in=[Status.CANCELLED, Status.EXPIRED],
    )
    if event_id is not None:
        due = due.filter(booking__event_id=event_id)
    done = 0
    for booking_id, payment_id in due.values_list("booking_id", "pk").order_by("created"):
        try:
            done += refund_ended(booking_id, payment_id)
        except RefundFailed:
            logger.warning("refund failed, still due", extra={"payment_id": str(payment_id)})
    return done


def refund_ended(booking_id, payment_id) -> bool:
    """Refund one paid payment of a booking that ended unconfirmed (cancelled or expired), in
    a transaction of its own; False when another process holds it or it is settled already.
    RefundFailed when the provider refuses: it stays due."""
    with transaction.atomic():
        booking = (
            locks.rows(Booking.objects.filter(pk=booking_id).select_related("event"))
            .select_for_update(skip_locked=True)
            .first()
        )
        if booking is None or booking.status in (Status.CONFIRMED, Status.PENDING_PAYMENT):
            return False
        payment = (
            locks.rows(
                Payment.objects.filter(pk=payment_id, status=PaymentStatus.CONFIRMED),
                locks.PAYMENT,
            )
            .select_for_update(skip_locked=True)
            .first()
        )
        if payment is None:
            return False
        _refund(booking, payment)
    return True
