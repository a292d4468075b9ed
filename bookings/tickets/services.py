"""Writes about tickets: letting one in at the door, naming who will use it.

Issuing tickets is not here: a booking's tickets exist as soon as it is confirmed (see
`bookings.tickets.codes`), and they are void as soon as it is cancelled, in the cancel's own
transaction, since a ticket's status is read from its booking.
"""

import logging
import uuid
from dataclasses import replace

from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import User
from bookings import signals
from bookings.models import Booking, TicketAttendee, TicketCheckIn
from bookings.tickets.codes import TicketRef
from bookings.tickets.selectors import Ticket, checkin_window, ticket_get, with_ticket_state
from core import locks, metrics
from core.exceptions import (
    AlreadyCheckedIn,
    CheckInClosed,
    EventStarted,
    TicketVoid,
    UnknownTicket,
    WrongEvent,
)
from events.models import Event

logger = logging.getLogger(__name__)


def _locked_booking(ref: TicketRef) -> Booking | None:
    """The ticket's booking with its event, its user and the ticket's attendee, its row locked
    for the rest of the transaction (FOR UPDATE OF the booking alone).

    The lock is what keeps a cancel and a check-in of the same booking from both succeeding:
    `booking_cancel` and an event's cancel lock the booking too (after the event) and then
    look for check-ins, so whichever comes second sees what the first committed. The event
    row is not locked: bookings and staff edits never wait on the door.
    """
    locks.acquire(locks.EVENT_ROWS)  # the booking only: no event lock before it
    bookings = Booking.objects.select_related("event", "user").select_for_update(of=("self",))
    return with_ticket_state(bookings, ref.index).filter(pk=ref.booking_id).first()


def _record_check_in(booking: Booking, index: int, actor: User) -> TicketCheckIn:
    # The unique constraint bookings_ticketcheckin_once refuses a second row for the ticket,
    # whichever scanner, worker or machine inserts it: that, not a read before the insert, is
    # what lets a ticket in exactly once.
    return TicketCheckIn.objects.create(booking=booking, index=index, checked_in_by=actor)


@metrics.counts_outcomes(metrics.CHECKINS, success="admitted")
def ticket_check_in(*, ref: TicketRef | None, event_id=None, actor: User) -> Ticket:
    """Let a ticket in, once. Refusals, in this order: no such ticket (`ref` None: an unknown,
    malformed or forged code), a ticket of another event than `event_id` (when given), a void
    ticket, a scan outside the event's check-in window (with its bounds: nothing is written,
    so the ticket still lets its holder in on the night), a ticket already let in (with the
    time it was).

    Two statements when it succeeds, the locked read and the insert (nothing is read first to
    see whether the ticket is in already: the insert finds out), and whatever the
    `ticket_checked_in` signal's receivers write (a webhook message: one more).
    """
    if ref is None:
        raise UnknownTicket()
    try:
        with transaction.atomic():
            booking = _locked_booking(ref)
            if booking is None or ref.index >= booking.quantity:
                raise UnknownTicket()
            event = booking.event
            if event_id is not None and uuid.UUID(str(event_id)) != booking.event_id:
                raise WrongEvent(
                    f"This ticket is for {event.name} on {event.event_time:%Y-%m-%d %H:%M} UTC.",
                    ticket_event={"id": event.pk, "name": event.name},
                )
            if booking.status != Booking.Status.CONFIRMED or event.status == Event.Status.CANCELLED:
                raise TicketVoid()
            _refuse_outside_window(event)
            check_in = _record_check_in(booking, ref.index, actor)
            ticket = Ticket(
                booking, ref.index, booking.ticket_attendee or "", check_in.checked_in_at
            )
            signals.ticket_checked_in.send(sender=Booking, ticket=ticket)
    except IntegrityError:
        first = TicketCheckIn.objects.filter(booking_id=ref.booking_id, index=ref.index).first()
        if first is None:
            raise  # another constraint: a bug, not a second scan
        raise AlreadyCheckedIn(
            f"This ticket was checked in at {first.checked_in_at:%H:%M:%S} UTC.",
            checked_in_at=first.checked_in_at,
            holder={"name": booking.ticket_attendee or booking.user.name},
        ) from None
    logger.info(
        "ticket checked in",
        extra={"booking_id": str(booking.pk), "ticket": ref.index, "event_id": str(event.pk)},
    )
    return ticket


def _refuse_outside_window(event: Event) -> None:
    window = checkin_window(event)
    state = window.state()
    if state == window.OPEN:
        return
    if state == window.NOT_YET:
        detail = f"Check-in for {event.name} opens at {window.opens_at:%Y-%m-%d %H:%M} UTC."
    else:
        detail = f"Check-in for {event.name} closed at {window.closes_at:%Y-%m-%d %H:%M} UTC."
    raise CheckInClosed(detail, opens_at=window.opens_at, closes_at=window.closes_at)


def ticket_name_attendee(*, ticket_id, user: User, attendee_name: str) -> Ticket:
    """Name the person who will use a ticket (its owner only; an empty name clears it).

    Before the event starts and before the ticket is used: the door reads the name.
    """
    ticket = ticket_get(ticket_id=ticket_id, user=user, owner_only=True)
    booking = ticket.booking
    if booking.status != Booking.Status.CONFIRMED:
        raise TicketVoid()
    if booking.event.event_time <= timezone.now():
        raise EventStarted("The event has started; its tickets can no longer be renamed.")
    if ticket.checked_in_at is not None:
        raise AlreadyCheckedIn(checked_in_at=ticket.checked_in_at)
    name = attendee_name.strip()
    with transaction.atomic():
        if name:
            TicketAttendee.objects.update_or_create(
                booking=booking, index=ticket.index, defaults={"name": name}
            )
        else:
            TicketAttendee.objects.filter(booking=booking, index=ticket.index).delete()
    return replace(ticket, attendee_name=name)
