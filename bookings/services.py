import logging
import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import prefetch_related_objects
from django.utils import timezone

from accounts.models import User
from bookings import checkout, notices, sales, signals, statements, vouchers
from bookings.models import (
    MAX_TICKETS_PER_BOOKING,
    MAX_TICKETS_PER_PERSON,
    Booking,
    BookingItem,
    Payment,
    TicketCheckIn,
    Voucher,
)
from bookings.selectors import visible_bookings
from core import locks, metrics
from core.exceptions import (
    AccountClosed,
    AlreadyCancelled,
    BookingExpired,
    CheckedIn,
    EventClosed,
    EventStarted,
    Invalid,
    NotFound,
    NotOffered,
    NotOnSale,
    NotRefundable,
    OfferExpired,
    SoldOut,
    TicketLimit,
    TicketTypeRequired,
)
from core.lookups import get_or_not_found
from events.models import Event, TicketType
from events.seats import lock_event, move_seats, move_type_seats
from notifications.delivery import deliver_after_commit
from notifications.models import Notification
from notifications.services import notify
from waitingroom.admission import QueueRequired, ensure_no_queue
from waitlist.models import WaitlistEntry
from waitlist.selectors import waitlist_entry_owned
from waitlist.services import event_is_open, expire_offer, waitlist_join, waitlist_serve

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Line:
    """One line a booking asks for: `quantity` tickets of a type."""

    ticket_type_id: uuid.UUID
    quantity: int


@dataclass(frozen=True)
class BookingOutcome:
    """What `booking_create` did: booked seats, held them for payment (a checkout, with
    `booking.payment`), or a place on the waitlist."""

    booking: Booking | None = None
    waitlist_entry: WaitlistEntry | None = None

    @property
    def result(self) -> str:
        if self.booking is None:
            return "waitlisted"
        if self.booking.status == Booking.Status.PENDING_PAYMENT:
            return "pending_payment"
        return "booked"


def lock_buyer(user: User) -> None:
    """Serialize the writes that count a person's tickets, whatever the event.

    The ten-ticket limit is checked before the event row is locked (see `booking_create`), so
    two bookings by one person racing each other must take turns here; other people's bookings
    never wait on it. Taken first in a transaction, before any event lock.
    """
    locks.lock_buyer(user.pk)


def _event_uuid(event_id) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(event_id))
    except ValueError:
        return None


def _live_claims(event_id, user: User) -> Event:
    """The event (unlocked) with what `user` holds of it (see `statements.event_claims`);
    AccountClosed (401) if their account is gone or disabled. The caller has locked the event,
    so it exists."""
    claims = statements.event_claims(event_id, user.pk)
    if not claims.account_active:
        raise AccountClosed()
    return claims


def _ensure_no_queue(event_id, user: User) -> None:
    """QueueRequired if the event's waiting room is on; a closed account hears 401 first."""
    event_pk = _event_uuid(event_id)
    if event_pk is None:
        return
    try:
        ensure_no_queue(event_pk)
    except QueueRequired:
        _ensure_account_live(user)
        raise


def _ensure_account_live(user: User) -> None:
    if not User.objects.filter(pk=user.pk, is_active=True).exists():
        raise AccountClosed()


def _ensure_within_ticket_limit(event: Event, quantity: int, *, count_waitlist: bool) -> None:
    """At most ten confirmed tickets per person and event, checked on an event read by
    `_live_claims` while the buyer's lock is held. Seats the person waits for count too
    when they book directly, so accepting their offer later always fits."""
    held = event.tickets_held
    pending = event.tickets_pending if count_waitlist else 0
    if held + pending + quantity > MAX_TICKETS_PER_PERSON:
        raise TicketLimit(
            f"You hold {held} ticket(s) for this event"
            + (f" and wait for {pending} more" if pending else "")
            + f"; at most {MAX_TICKETS_PER_PERSON} per person.",
            tickets_held=held,
        )


def _record_booking(
    *,
    event: Event,
    user: User,
    priced: vouchers.Priced,
    voucher: Voucher | None = None,
    expires_at: datetime | None = None,
) -> Booking:
    """Write a booking and its items: confirmed, with its notification, or with `expires_at`
    a checkout waiting for payment (bookings.checkout). The caller moves the seats, counts the
    voucher's use and records the sale."""
    quantity, amount = priced.quantity, priced.total
    status = Booking.Status.CONFIRMED if expires_at is None else Booking.Status.PENDING_PAYMENT
    booking = Booking.objects.create(
        event=event,
        user=user,
        quantity=quantity,
        total_amount=amount,
        status=status,
        expires_at=expires_at,
        voucher=voucher,
        voucher_code=voucher.code if voucher else "",
        discount_amount=priced.discount,
    )
    for item in priced.items:
        item.booking = booking
    BookingItem.objects.bulk_create(priced.items)
    booking.item_list = priced.items
    if status == Booking.Status.CONFIRMED:
        notify(
            user_ids=[user.pk],
            event=event,
            **notices.confirmation(event, quantity, amount, booking.pk),
        )
        signals.booking_confirmed.send(sender=Booking, booking=booking)
    return booking


def booking_confirm(
    *,
    event: Event,
    user: User,
    lines: list[tuple[TicketType, int]],
    from_held: bool,
    claims: Event | None = None,
    voucher: Voucher | None = None,
) -> Booking:
    """Record a confirmed booking on a locked event (with its types locked, `lock_event`),
    taking free or held seats (an offer) of the event and of each line's type, `voucher`'s
    discount off (locked by the caller, and its use counted here). The caller holds
    `lock_buyer(user)` and has checked that the seats are there; `claims` is its
    `_live_claims` read, if it made one."""
    claims = claims or _live_claims(event.pk, user)
    quantity = sum(q for _, q in lines)
    _ensure_within_ticket_limit(claims, quantity, count_waitlist=not from_held)
    priced = vouchers.priced(lines, voucher)
    if voucher is not None:
        vouchers.voucher_count_use(voucher)
    if checkout.is_checkout(priced.total):
        booking = _record_booking(
            event=event,
            user=user,
            priced=priced,
            voucher=voucher,
            expires_at=checkout.hold_until(timezone.now()),
        )
        checkout.hold_booking(booking, event, user, from_held=from_held)
        return booking
    source = "held" if from_held else "available"
    move_seats(event, **{source: -quantity}, booked=quantity, revenue=priced.total, bookings=1)
    for item in priced.items:
        q = item.quantity
        move_type_seats(event, item.ticket_type_id, **{source: -q}, booked=q, revenue=item.amount)
    booking = _record_booking(event=event, user=user, priced=priced, voucher=voucher)
    sales.record_booking(booking, converted=from_held)
    logger.info("booking confirmed", extra={"booking_id": str(booking.pk)})
    return booking


def _fast_type(event: Event, quantity: int | None, lines: list[Line] | None, now):
    """The one type and quantity a plain booking takes, from the process's copy of the event's
    active types, or None when the locked path must answer (several lines, an ambiguous or
    unknown type, not on sale, over the type's limit)."""
    if lines is None:
        if len(event.copy_types) != 1:
            return None
        values = event.copy_types[0]
    else:
        if len(lines) != 1:
            return None
        quantity = lines[0].quantity
        values = next((v for v in event.copy_types if v[0] == lines[0].ticket_type_id), None)
        if values is None:
            return None
    ticket_type = statements.copy_type(values)
    ticket_type.is_active = True  # the copy holds active types only
    if not ticket_type.on_sale_at(now) or quantity > ticket_type.max_per_booking:
        return None
    return ticket_type, quantity


def _book_free_seats(
    event_id,
    user: User,
    quantity: int | None,
    lines: list[Line] | None,
    now,
    own_transaction: bool = False,
    unless_queued: bool = False,
) -> BookingOutcome | None:
    """The common booking: one statement after the buyer's lock, the event row and one type's
    row locked by it only. With `own_transaction` (outside any transaction) the buyer's lock,
    the statement and the commit are one round trip (`statements.book_free_seats`).

    The event and its types are what this process has read of them before
    (`statements.booking_event`); one statement then takes the seats under the row locks, if
    the event still is as read, is open and has the seats, the type has them, the account is
    live and the buyer stays within the ticket limit, and writes the booking, its item, its
    notification and the day's sales (`statements.book_free_seats`); the transaction commits.
    None: the event is missing or closed, the request is not one line of a type on sale, or the
    statement wrote nothing, so the caller answers under the lock, which also tells which rule
    refused. PostgreSQL only: SQLite, one writer at a time anyway, always takes the locked path.
    """
    if connection.vendor != "postgresql":
        return None
    event_pk = _event_uuid(event_id)
    event = statements.booking_event(event_pk) if event_pk else None
    if event is None or not event_is_open(event, now):
        return None
    line = _fast_type(event, quantity, lines, now)
    if line is None:
        return None
    ticket_type, quantity = line
    amount = ticket_type.price * quantity
    if checkout.is_checkout(amount):
        return None  # a checkout holds its seats: the locked path writes it
    booking = Booking(
        id=uuid.uuid4(),
        event=event,
        user=user,
        quantity=quantity,
        total_amount=amount,
        status=Booking.Status.CONFIRMED,
        booking_time=now,
        created_at=now,
        updated_at=now,
    )
    notification_id = uuid.uuid4()
    booking.item_list = [
        BookingItem(
            booking=booking,
            ticket_type=ticket_type,
            quantity=quantity,
            unit_price=ticket_type.price,
            amount=amount,
        )
    ]
    with metrics.seat_lock_wait():  # the statement takes the event's and the type's row locks
        written = statements.book_free_seats(
            event=event,
            ticket_type=ticket_type,
            booking={f.attname: getattr(booking, f.attname) for f in Booking._meta.concrete_fields},
            notification={
                "id": notification_id,
                "user_id": user.pk,
                "event_id": event.pk,
                "created_at": now,
                "email_next_attempt_at": now,
                **notices.confirmation(event, quantity, amount, booking.id),
            },
            sales_day=sales.day_and_shard(now, event.pk),
            # Its receivers' writes are conditional on the booking row (bookings.signals).
            then=lambda: signals.booking_confirmed.send(sender=Booking, booking=booking),
            own_transaction=own_transaction,
            unless_queued=unless_queued,
        )
    if not written:
        return None
    booking._state.adding = False
    deliver_after_commit([notification_id])
    logger.info("booking confirmed", extra={"booking_id": str(booking.pk)})
    return BookingOutcome(booking=booking)


def _resolve_lines(
    event: Event, quantity: int | None, lines: list[Line] | None, now
) -> list[tuple[TicketType, int]]:
    """The locked event's types and quantities a booking asks for, each on sale and within its
    `max_per_booking`; `{event_id, quantity}` means the event's only active type."""
    types = event.locked_types
    if lines is None:
        active = [t for t in types.values() if t.is_active]
        if len(active) != 1:
            raise TicketTypeRequired(
                ticket_types=[str(t.pk) for t in sorted(active, key=lambda t: (t.position, t.pk))]
            )
        lines = [Line(active[0].pk, quantity)]
    resolved = []
    for index, line in enumerate(lines):
        ticket_type = types.get(line.ticket_type_id)
        if ticket_type is None:
            raise NotFound("No ticket type with this id for this event.")
        if not ticket_type.on_sale_at(now):
            raise NotOnSale(
                f"{ticket_type.name} is not on sale now.",
                ticket_type_id=str(ticket_type.pk),
                sales_start=ticket_type.sales_start,
                sales_end=ticket_type.sales_end,
            )
        if line.quantity > ticket_type.max_per_booking:
            raise Invalid(
                {
                    f"items.{index}.quantity": [
                        f"At most {ticket_type.max_per_booking} ticket(s) of {ticket_type.name} "
                        "per booking."
                    ]
                },
                f"At most {ticket_type.max_per_booking} ticket(s) of {ticket_type.name} "
                "per booking.",
            )
        resolved.append((ticket_type, line.quantity))
    return resolved


def _sold_out(event: Event) -> SoldOut:
    """409 sold_out with what is left of the event and of each active type (a type's
    `available`; a booking of it needs the event's seats too)."""
    available = {
        str(t.pk): t.available
        for t in sorted(event.locked_types.values(), key=lambda t: (t.position, t.pk))
        if t.is_active
    }
    return SoldOut(
        f"Only {event.available_seats} seat(s) are available.",
        available_seats=event.available_seats,
        available=available,
    )


def _book_or_wait(
    event_id,
    user: User,
    quantity: int | None,
    lines: list[Line] | None,
    voucher_code: str | None,
    join_waitlist: bool,
    now,
) -> BookingOutcome:
    """Book under the event's row lock (and its types', and the voucher's), or join its
    waitlist (or refuse). A booking with a voucher that does not fit is refused, not
    waitlisted: an offer is made at the type's price."""
    try:
        event = lock_event(event_id)
    except NotFound:
        # A closed account is refused before anything else, an unknown event included. The
        # account is read here, on the way to a 404, rather than before the plain booking's
        # statement (which checks it itself): a booking that goes through costs no query more.
        _ensure_account_live(user)
        raise
    statements.remember_event(event)  # the plain booking's copy, as the row is now
    claims = _live_claims(event.pk, user)
    if not event_is_open(event, now):
        raise EventClosed()
    resolved = _resolve_lines(event, quantity, lines, now)
    voucher = None
    if voucher_code is not None:
        voucher = vouchers.voucher_for_booking(event, voucher_code, resolved, now)
    total = sum(q for _, q in resolved)
    if event.available_seats >= total and all(t.available >= q for t, q in resolved):
        booking = booking_confirm(
            event=event, user=user, lines=resolved, from_held=False, claims=claims, voucher=voucher
        )
        return BookingOutcome(booking=booking)
    # Waitlisting is for one type: which type's seat would an entry of several wait for?
    if not join_waitlist or len(resolved) > 1 or voucher is not None:
        raise _sold_out(event)
    _ensure_within_ticket_limit(claims, total, count_waitlist=False)
    ticket_type = resolved[0][0]
    entry = waitlist_join(event=event, user=user, quantity=total, ticket_type=ticket_type)
    return BookingOutcome(waitlist_entry=entry)


def _merged(items: list[dict]) -> list[Line]:
    """The requested lines, those naming one type added up, in the order each type came."""
    quantities: dict = {}
    for item in items:
        key = item["ticket_type_id"]
        quantities[key] = quantities.get(key, 0) + item["quantity"]
    return [Line(key, quantity) for key, quantity in quantities.items()]


@metrics.counts_outcomes(metrics.BOOKING_CONFLICTS, conflicts_only=True)
def booking_create(
    *,
    event_id,
    user: User,
    quantity: int | None = None,
    items: list[dict] | None = None,
    voucher: str | None = None,
    join_waitlist: bool = True,
    check_queue: bool = False,
) -> BookingOutcome:
    """Book `quantity` seats of the event's only type, or the `items` ({ticket_type_id,
    quantity}) of its types, all or nothing, with the event's `voucher` code applied if
    given; or join the waitlist when a one-type request without a voucher does not fit.
    With `check_queue` (the caller has no admission to the event's waiting room), refuse with
    QueueRequired if the waiting room is on, before anything else but a closed account.

    The seat check and the seat write are one step under the event's row lock, for every
    process sharing the database. The common case (one type, the seats are free) holds that lock
    only from its statement to the commit (`_book_free_seats`); anything else, or an event that
    changed in between, is answered with the locks taken first (`_book_or_wait`).
    """
    lines = None if items is None else _merged(items)
    if lines is not None and sum(line.quantity for line in lines) > MAX_TICKETS_PER_BOOKING:
        # More than anyone may hold of an event, whatever they hold already.
        raise TicketLimit(f"At most {MAX_TICKETS_PER_PERSON} tickets per person and event.")
    now = timezone.now()
    # A booking with a voucher takes the locked path, which locks the voucher's row. Outside
    # any transaction (no Idempotency-Key), the common booking is its own transaction, one
    # round trip; if it wrote nothing, the locked path finds out why.
    alone = voucher is None and not connection.in_atomic_block
    outcome = None
    if alone:
        outcome = _book_free_seats(
            event_id, user, quantity, lines, now, own_transaction=True, unless_queued=check_queue
        )
    if outcome is None:
        if check_queue:
            _ensure_no_queue(event_id, user)
        with transaction.atomic():
            lock_buyer(user)
            plain = (
                voucher is None
                and not alone
                and _book_free_seats(event_id, user, quantity, lines, now)
            )
            outcome = plain or _book_or_wait(
                event_id, user, quantity, lines, voucher, join_waitlist, now
            )
    result = outcome.result
    metrics.on_commit(metrics.BOOKED if result == "booked" else metrics.BOOKINGS.labels(result))
    return outcome


def _cancelled_notice(event: Event, booking: Booking) -> None:
    notify(
        user_ids=[booking.user_id],
        event=event,
        type=Notification.Type.BOOKING_CANCELLED,
        title=f"Booking cancelled: {event.name}",
        message=f"Your {booking.quantity} ticket(s) for {event.name} were cancelled.",
    )


@metrics.counts_outcomes(metrics.BOOKING_CONFLICTS, conflicts_only=True)
def booking_cancel(*, booking_id, actor: User) -> Booking:
    """Cancel a confirmed booking (owner or admin); its seats go to the waitlist first and its
    tickets are void from the commit. Not once a ticket of it was let in at the door: the
    check-in locks the booking row too, so this sees every check-in that committed first."""
    booking = get_or_not_found(
        visible_bookings(actor), pk=booking_id, message="No booking with this id."
    )
    with transaction.atomic():
        event = lock_event(booking.event_id)
        vouchers.vouchers_lock([booking.voucher_id])
        booking = locks.rows(Booking.objects.filter(pk=booking.pk)).get()
        booking.event = event
        if booking.status == Booking.Status.CANCELLED:
            raise AlreadyCancelled("This booking is already cancelled.")
        if booking.status == Booking.Status.EXPIRED:
            raise BookingExpired()
        if event.event_time <= timezone.now():
            raise EventStarted("The event has started; the booking can no longer be cancelled.")
        if booking.status == Booking.Status.PENDING_PAYMENT:
            # Not paid: its held seats go back, and its open payments close.
            checkout.release_hold(event, booking, Booking.Status.CANCELLED)
            _cancelled_notice(event, booking)
            signals.bookings_cancelled.send(sender=Booking, bookings=[booking])
            waitlist_serve(event=event)
            return booking
        if TicketCheckIn.objects.filter(booking=booking).exists():
            raise CheckedIn()
        # Paid: the money goes back first. A refusal raises here, with nothing written.
        checkout.refund(booking)
        booking.status = Booking.Status.CANCELLED
        booking.cancelled_at = timezone.now()
        booking.save(update_fields=["status", "cancelled_at", "updated_at"])
        vouchers.voucher_give_back([booking])
        move_seats(
            event,
            available=booking.quantity,
            booked=-booking.quantity,
            revenue=-booking.total_amount,
            bookings=-1,
        )
        booking.item_list = list(booking.items.select_related("ticket_type"))
        for item in booking.item_list:
            move_type_seats(
                event,
                item.ticket_type_id,
                available=item.quantity,
                booked=-item.quantity,
                revenue=-item.amount,
            )
        _cancelled_notice(event, booking)
        signals.bookings_cancelled.send(sender=Booking, bookings=[booking])
        waitlist_serve(event=event)
        # Last: the day totals are the last locks a transaction takes (core/locks.py).
        sales.record_cancellations([booking], at=booking.cancelled_at)
    logger.info("booking cancelled", extra={"booking_id": str(booking.pk)})
    return booking


def booking_cancel_all(*, event: Event) -> list[Booking]:
    """Cancel every confirmed and pending booking of a locked event (the event is being
    cancelled). Each comes back with `was_pending`: a checkout not paid yet, whose held seats
    went back. The caller then, in its transaction, closes those checkouts' open payments
    (`checkout.close_open_payments`) and records the confirmed ones' cancellations in the day
    totals (`sales.record_cancellations`) once it has taken its other locks, and after the
    commit refunds the paid ones (`checkout.refund_due`)."""
    live = Booking.objects.filter(
        event=event, status__in=[Booking.Status.CONFIRMED, Booking.Status.PENDING_PAYMENT]
    )
    vouchers.vouchers_lock(vouchers.voucher_ids(live))
    bookings = list(locks.rows(live))
    # Their items, read once: the messages show them and each type gets its seats back.
    prefetch_related_objects(bookings, "items__ticket_type")
    for booking in bookings:
        booking.event = event
        booking.was_pending = booking.status == Booking.Status.PENDING_PAYMENT
        if booking.was_pending:
            checkout.release_hold(event, booking, Booking.Status.CANCELLED, close_payments=False)
    confirmed = [b for b in bookings if not b.was_pending]
    now = timezone.now()
    tickets = sum(b.quantity for b in confirmed)
    amount = sum((b.total_amount for b in confirmed), Decimal("0.00"))
    Booking.objects.filter(pk__in=[b.pk for b in confirmed]).update(
        status=Booking.Status.CANCELLED, cancelled_at=now, updated_at=now
    )
    for booking in confirmed:
        booking.status, booking.cancelled_at, booking.updated_at = (
            Booking.Status.CANCELLED,
            now,
            now,
        )
    vouchers.voucher_give_back(confirmed)  # the pending ones' went back with their holds
    if bookings:
        signals.bookings_cancelled.send(sender=Booking, bookings=bookings)
    if tickets:
        move_seats(
            event, available=tickets, booked=-tickets, revenue=-amount, bookings=-len(confirmed)
        )
        per_type: dict = {}  # type -> (tickets, amount)
        for booking in confirmed:
            for item in booking.item_rows:
                tickets, total = per_type.get(item.ticket_type_id, (0, Decimal("0.00")))
                per_type[item.ticket_type_id] = (tickets + item.quantity, total + item.amount)
        for ticket_type_id in sorted(per_type):
            quantity, total = per_type[ticket_type_id]
            move_type_seats(
                event, ticket_type_id, available=quantity, booked=-quantity, revenue=-total
            )
    return bookings


@metrics.counts_outcomes(metrics.BOOKING_CONFLICTS, conflicts_only=True)
def waitlist_offer_accept(*, entry_id, user: User):
    """Turn the caller's open offer into a confirmed booking; the held seats become booked.
    Accepting an offer is a booking, so it lives with the bookings.

    An offer past its deadline is expired on the spot (its seats passed on) and refused.
    """
    entry = waitlist_entry_owned(entry_id, user)
    with transaction.atomic():
        lock_buyer(user)
        event = lock_event(entry.event_id)
        entry = locks.rows(WaitlistEntry.objects.filter(pk=entry.pk)).get()
        if entry.status != WaitlistEntry.Status.OFFERED:
            raise NotOffered()
        now = timezone.now()
        if now < entry.offer_expires_at and event_is_open(event, now):
            ticket_type = event.locked_types[entry.ticket_type_id]
            booking = booking_confirm(
                event=event, user=user, lines=[(ticket_type, entry.quantity)], from_held=True
            )
            entry.status = WaitlistEntry.Status.ACCEPTED
            entry.booking = booking
            entry.save(update_fields=["status", "booking", "updated_at"])
            metrics.on_commit(metrics.OFFERS.labels("accepted"))
            return booking
        # Too late, or the event started: the offer ends now and its seats are released
        # (and passed on while the event is still open).
        expire_offer(event, entry)
        waitlist_serve(event=event, now=now)
        closed = not event_is_open(event, now)
    # Raised after the commit, so the expiry above stands.
    raise EventClosed() if closed else OfferExpired()


def payment_refund(*, payment_id, actor: User) -> None:
    """Staff refund a paid payment: a confirmed booking is cancelled with it (its seats go to
    the waitlist), and a booking that already ended is refunded now rather than on the expiry
    loop's next round."""
    payment = get_or_not_found(
        Payment.objects.all(), pk=payment_id, message="No payment with this id."
    )
    booking_status = Booking.objects.values_list("status", flat=True).get(pk=payment.booking_id)
    if booking_status == Booking.Status.CONFIRMED:
        booking_cancel(booking_id=payment.booking_id, actor=actor)
    elif not checkout.refund_ended(payment.booking_id, payment.pk):
        raise NotRefundable()
