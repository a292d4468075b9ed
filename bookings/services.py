import logging
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.db.models import OuterRef, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.models import User
from analytics import ledger as sales
from bookings.models import MAX_TICKETS_PER_PERSON, Booking
from evently.exceptions import AlreadyCancelled, EventClosed, EventStarted, SoldOut, TicketLimit
from evently.lookups import get_or_not_found
from events.models import Event
from events.seats import lock_event, move_seats, take_free_seats
from notifications.models import Notification
from notifications.services import notify
from waitlist.models import ACTIVE_STATUSES, WaitlistEntry
from waitlist.services import event_is_open, waitlist_join, waitlist_serve

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class BookingOutcome:
    """What `booking_create` did: booked seats, or a place on the waitlist."""

    booking: Booking | None = None
    waitlist_entry: WaitlistEntry | None = None

    @property
    def result(self) -> str:
        return "booked" if self.booking else "waitlisted"


def _tickets_claimed(event: Event, user: User, *, count_waitlist: bool) -> tuple[int, int]:
    """(confirmed tickets, seats waited for) of `user` for `event`, in one query."""
    held = (
        Booking.objects.filter(event=OuterRef("pk"), user=user, status=Booking.Status.CONFIRMED)
        .order_by()
        .values("event")
        .annotate(n=Sum("quantity"))
        .values("n")
    )
    waiting = WaitlistEntry.objects.filter(
        event=OuterRef("pk"), user=user, status__in=ACTIVE_STATUSES
    ).values("quantity")[:1]
    row = (
        Event.objects.filter(pk=event.pk)
        .values(
            held=Coalesce(Subquery(held), 0),
            pending=Coalesce(Subquery(waiting), 0) if count_waitlist else Value(0),
        )
        .get()
    )
    return row["held"], row["pending"]


def _ensure_within_ticket_limit(
    event: Event, user: User, quantity: int, *, count_waitlist: bool
) -> None:
    """At most ten confirmed tickets per person and event. Seats the person waits for count
    too when they book directly, so accepting their offer later always fits."""
    held, pending = _tickets_claimed(event, user, count_waitlist=count_waitlist)
    if held + pending + quantity > MAX_TICKETS_PER_PERSON:
        raise TicketLimit(
            f"You hold {held} ticket(s) for this event"
            + (f" and wait for {pending} more" if pending else "")
            + f"; at most {MAX_TICKETS_PER_PERSON} per person.",
            tickets_held=held,
        )


def _record_booking(*, event: Event, user: User, quantity: int, converted: bool) -> Booking:
    """Write a confirmed booking, its day's sales and its notification; the caller has moved
    the seats. `converted`: the booking is an accepted waitlist offer."""
    booking = Booking.objects.create(
        event=event, user=user, quantity=quantity, total_amount=event.price * quantity
    )
    sales.record_booking(booking, converted=converted)
    notify(
        user_ids=[user.pk],
        event=event,
        type=Notification.Type.BOOKING_CONFIRMED,
        title=f"Booking confirmed: {event.name}",
        message=f"{quantity} ticket(s) for {event.name} on {event.event_time:%Y-%m-%d %H:%M} "
        f"UTC at {event.venue}. Total {booking.total_amount}.",
    )
    logger.info("booking confirmed", extra={"booking_id": str(booking.pk)})
    return booking


def booking_confirm(*, event: Event, user: User, quantity: int, from_held: bool) -> Booking:
    """Record a confirmed booking on a locked event, taking free or held seats (an offer)."""
    _ensure_within_ticket_limit(event, user, quantity, count_waitlist=not from_held)
    amount = event.price * quantity
    if from_held:
        move_seats(event, held=-quantity, booked=quantity, revenue=amount)
    else:
        move_seats(event, available=-quantity, booked=quantity, revenue=amount)
    return _record_booking(event=event, user=user, quantity=quantity, converted=from_held)


def booking_create(
    *, event_id, user: User, quantity: int, join_waitlist: bool = True
) -> BookingOutcome:
    """Book `quantity` seats, or join the waitlist when there are not enough.

    Everything happens under the event's row lock, so the seat check, the per-person limit and
    the write are one step for every process sharing the database. The common case (the seats
    are free) takes the lock and the seats in one statement; if the person then turns out to be
    over their limit, the transaction rolls the seats back.
    """
    now = timezone.now()
    with transaction.atomic():
        event = take_free_seats(event_id, quantity, now)
        if event is not None:
            _ensure_within_ticket_limit(event, user, quantity, count_waitlist=True)
            return BookingOutcome(
                booking=_record_booking(event=event, user=user, quantity=quantity, converted=False)
            )

        event = lock_event(event_id)
        if not event_is_open(event, now):
            raise EventClosed()
        if event.available_seats >= quantity:  # seats came free since the statement above
            return BookingOutcome(
                booking=booking_confirm(event=event, user=user, quantity=quantity, from_held=False)
            )
        if not join_waitlist:
            raise SoldOut(
                f"Only {event.available_seats} seat(s) are available.",
                available_seats=event.available_seats,
            )
        _ensure_within_ticket_limit(event, user, quantity, count_waitlist=False)
        return BookingOutcome(
            waitlist_entry=waitlist_join(event=event, user=user, quantity=quantity)
        )


def visible_bookings(user: User):
    """Bookings `user` may see: their own, or all of them for an admin."""
    return Booking.objects.all() if user.is_admin else Booking.objects.filter(user=user)


def booking_cancel(*, booking_id, actor: User) -> Booking:
    """Cancel a confirmed booking (owner or admin); its seats go to the waitlist first."""
    booking = get_or_not_found(
        visible_bookings(actor), pk=booking_id, message="No booking with this id."
    )
    with transaction.atomic():
        event = lock_event(booking.event_id)
        booking = Booking.objects.select_for_update().get(pk=booking.pk)
        if booking.status == Booking.Status.CANCELLED:
            raise AlreadyCancelled("This booking is already cancelled.")
        if event.event_time <= timezone.now():
            raise EventStarted("The event has started; the booking can no longer be cancelled.")
        booking.status = Booking.Status.CANCELLED
        booking.cancelled_at = timezone.now()
        booking.save(update_fields=["status", "cancelled_at", "updated_at"])
        sales.record_cancellations([booking], at=booking.cancelled_at)
        move_seats(
            event,
            available=booking.quantity,
            booked=-booking.quantity,
            revenue=-booking.total_amount,
        )
        notify(
            user_ids=[booking.user_id],
            event=event,
            type=Notification.Type.BOOKING_CANCELLED,
            title=f"Booking cancelled: {event.name}",
            message=f"Your {booking.quantity} ticket(s) for {event.name} were cancelled.",
        )
        waitlist_serve(event=event)
    logger.info("booking cancelled", extra={"booking_id": str(booking.pk)})
    return booking


def booking_cancel_all(*, event: Event) -> list[Booking]:
    """Cancel every confirmed booking of a locked event (the event is being cancelled)."""
    bookings = list(
        Booking.objects.filter(event=event, status=Booking.Status.CONFIRMED).select_for_update()
    )
    now = timezone.now()
    tickets = sum(b.quantity for b in bookings)
    amount = sum((b.total_amount for b in bookings), Decimal("0.00"))
    Booking.objects.filter(pk__in=[b.pk for b in bookings]).update(
        status=Booking.Status.CANCELLED, cancelled_at=now, updated_at=now
    )
    sales.record_cancellations(bookings, at=now)
    if tickets:
        move_seats(event, available=tickets, booked=-tickets, revenue=-amount)
    return bookings
