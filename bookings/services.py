import logging
import uuid
from dataclasses import dataclass
from decimal import Decimal

from django.db import connection, transaction
from django.utils import timezone

from accounts.models import User
from analytics import day_totals
from bookings import signals, statements
from bookings.models import MAX_TICKETS_PER_PERSON, Booking, TicketCheckIn
from bookings.selectors import visible_bookings
from core import locks, metrics
from core.exceptions import (
    AccountClosed,
    AlreadyCancelled,
    CheckedIn,
    EventClosed,
    EventStarted,
    NotFound,
    NotOffered,
    OfferExpired,
    SoldOut,
    TicketLimit,
)
from core.lookups import get_or_not_found
from events.models import Event
from events.seats import lock_event, move_seats
from notifications.delivery import deliver_after_commit
from notifications.models import Notification
from notifications.services import notify
from waitlist.models import WaitlistEntry
from waitlist.selectors import waitlist_entry_owned
from waitlist.services import event_is_open, expire_offer, waitlist_join, waitlist_serve

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class BookingOutcome:
    """What `booking_create` did: booked seats, or a place on the waitlist."""

    booking: Booking | None = None
    waitlist_entry: WaitlistEntry | None = None

    @property
    def result(self) -> str:
        return "booked" if self.booking else "waitlisted"


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


def _confirmation(event: Event, quantity: int, amount: Decimal, booking_id) -> dict:
    return {
        "type": Notification.Type.BOOKING_CONFIRMED,
        "title": f"Booking confirmed: {event.name}",
        "message": f"{quantity} ticket(s) for {event.name} on "
        f"{event.event_time:%Y-%m-%d %H:%M} UTC at {event.venue}. Total {amount}. "
        f"Your tickets: /api/bookings/{booking_id}/tickets",
    }


def _record_booking(*, event: Event, user: User, quantity: int) -> Booking:
    """Write a confirmed booking and its notification; the caller moves the seats and records
    the sale."""
    amount = event.price * quantity
    booking = Booking.objects.create(event=event, user=user, quantity=quantity, total_amount=amount)
    notify(user_ids=[user.pk], event=event, **_confirmation(event, quantity, amount, booking.pk))
    signals.booking_confirmed.send(sender=Booking, booking=booking)
    return booking


def booking_confirm(
    *, event: Event, user: User, quantity: int, from_held: bool, claims: Event | None = None
) -> Booking:
    """Record a confirmed booking on a locked event, taking free or held seats (an offer).
    The caller holds `lock_buyer(user)`; `claims` is its `_live_claims` read, if it made one."""
    claims = claims or _live_claims(event.pk, user)
    _ensure_within_ticket_limit(claims, quantity, count_waitlist=not from_held)
    amount = event.price * quantity
    if from_held:
        move_seats(event, held=-quantity, booked=quantity, revenue=amount, bookings=1)
    else:
        move_seats(event, available=-quantity, booked=quantity, revenue=amount, bookings=1)
    booking = _record_booking(event=event, user=user, quantity=quantity)
    day_totals.record_booking(booking, converted=from_held)
    logger.info("booking confirmed", extra={"booking_id": str(booking.pk)})
    return booking


def _book_free_seats(event_id, user: User, quantity: int, now) -> BookingOutcome | None:
    """The common booking: one statement after the buyer's lock, the event row locked by it
    only.

    The event is what this process has read of it before (`statements.booking_event`); one
    statement then takes the seats under the row lock, if the event still is as read, is open
    and has the seats, the account is live and the buyer stays within the ticket limit, and
    writes the booking, its notification and the day's sales (`statements.book_free_seats`);
    the transaction commits. None: the event is missing or closed, or the statement wrote
    nothing, so the caller answers under the lock, which also tells which rule refused.
    PostgreSQL only: SQLite, one writer at a time anyway, always takes the locked path.
    """
    if connection.vendor != "postgresql":
        return None
    event_pk = _event_uuid(event_id)
    event = statements.booking_event(event_pk) if event_pk else None
    if event is None or not event_is_open(event, now):
        return None
    amount = event.price * quantity
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
    with metrics.seat_lock_wait():  # the statement takes the event's row lock
        written = statements.book_free_seats(
            event=event,
            booking={f.attname: getattr(booking, f.attname) for f in Booking._meta.concrete_fields},
            notification={
                "id": notification_id,
                "user_id": user.pk,
                "event_id": event.pk,
                "created_at": now,
                "email_next_attempt_at": now,
                **_confirmation(event, quantity, amount, booking.id),
            },
            sales_day=day_totals.day_and_shard(now, event.pk),
        )
    if not written:
        return None
    booking._state.adding = False
    signals.booking_confirmed.send(sender=Booking, booking=booking)
    deliver_after_commit([notification_id])
    logger.info("booking confirmed", extra={"booking_id": str(booking.pk)})
    return BookingOutcome(booking=booking)


def _book_or_wait(event_id, user: User, quantity: int, join_waitlist: bool, now) -> BookingOutcome:
    """Book under the event's row lock, or join its waitlist (or refuse)."""
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
    if event.available_seats >= quantity:
        booking = booking_confirm(
            event=event, user=user, quantity=quantity, from_held=False, claims=claims
        )
        return BookingOutcome(booking=booking)
    if not join_waitlist:
        raise SoldOut(
            f"Only {event.available_seats} seat(s) are available.",
            available_seats=event.available_seats,
        )
    _ensure_within_ticket_limit(claims, quantity, count_waitlist=False)
    return BookingOutcome(waitlist_entry=waitlist_join(event=event, user=user, quantity=quantity))


@metrics.counts_outcomes(metrics.BOOKING_CONFLICTS, conflicts_only=True)
def booking_create(
    *, event_id, user: User, quantity: int, join_waitlist: bool = True
) -> BookingOutcome:
    """Book `quantity` seats, or join the waitlist when there are not enough.

    The seat check and the seat write are one step under the event's row lock, for every
    process sharing the database. The common case (the seats are free) holds that lock only
    from its UPDATE to the commit (`_book_free_seats`); anything else, or an event that changed
    in between, is answered with the lock taken first (`_book_or_wait`).
    """
    now = timezone.now()
    with transaction.atomic():
        lock_buyer(user)
        outcome = _book_free_seats(event_id, user, quantity, now) or _book_or_wait(
            event_id, user, quantity, join_waitlist, now
        )
    metrics.on_commit(metrics.BOOKED if outcome.booking else metrics.WAITLISTED)
    return outcome


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
        booking = locks.rows(Booking.objects.filter(pk=booking.pk)).get()
        booking.event = event
        if booking.status == Booking.Status.CANCELLED:
            raise AlreadyCancelled("This booking is already cancelled.")
        if event.event_time <= timezone.now():
            raise EventStarted("The event has started; the booking can no longer be cancelled.")
        if TicketCheckIn.objects.filter(booking=booking).exists():
            raise CheckedIn()
        booking.status = Booking.Status.CANCELLED
        booking.cancelled_at = timezone.now()
        booking.save(update_fields=["status", "cancelled_at", "updated_at"])
        move_seats(
            event,
            available=booking.quantity,
            booked=-booking.quantity,
            revenue=-booking.total_amount,
            bookings=-1,
        )
        notify(
            user_ids=[booking.user_id],
            event=event,
            type=Notification.Type.BOOKING_CANCELLED,
            title=f"Booking cancelled: {event.name}",
            message=f"Your {booking.quantity} ticket(s) for {event.name} were cancelled.",
        )
        signals.bookings_cancelled.send(sender=Booking, bookings=[booking])
        waitlist_serve(event=event)
        # Last: the day totals are the last locks a transaction takes (core/locks.py).
        day_totals.record_cancellations([booking], at=booking.cancelled_at)
    logger.info("booking cancelled", extra={"booking_id": str(booking.pk)})
    return booking


def booking_cancel_all(*, event: Event) -> list[Booking]:
    """Cancel every confirmed booking of a locked event (the event is being cancelled). The
    caller records the cancellations in the day totals (`day_totals.record_cancellations`) once it
    has taken its other locks."""
    bookings = list(
        locks.rows(Booking.objects.filter(event=event, status=Booking.Status.CONFIRMED))
    )
    now = timezone.now()
    tickets = sum(b.quantity for b in bookings)
    amount = sum((b.total_amount for b in bookings), Decimal("0.00"))
    Booking.objects.filter(pk__in=[b.pk for b in bookings]).update(
        status=Booking.Status.CANCELLED, cancelled_at=now, updated_at=now
    )
    for booking in bookings:
        booking.status, booking.cancelled_at, booking.updated_at = (
            Booking.Status.CANCELLED,
            now,
            now,
        )
        booking.event = event
    if bookings:
        signals.bookings_cancelled.send(sender=Booking, bookings=bookings)
    if tickets:
        move_seats(
            event, available=tickets, booked=-tickets, revenue=-amount, bookings=-len(bookings)
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
            booking = booking_confirm(
                event=event, user=user, quantity=entry.quantity, from_held=True
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
