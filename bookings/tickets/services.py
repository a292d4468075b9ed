"""Writes about tickets: naming who will use one.

Issuing tickets is not here: a booking's tickets exist as soon as it is confirmed (see
`bookings.tickets.codes`), and they are void as soon as it is cancelled, in the cancel's own
transaction, since a ticket's status is read from its booking.
"""

from dataclasses import replace

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from bookings.models import Booking, TicketAttendee
from bookings.tickets.selectors import Ticket, ticket_get
from evently.exceptions import AlreadyCheckedIn, EventStarted, TicketVoid


def ticket_name_attendee(*, ticket_id, user: User, attendee_name: str) -> Ticket:
    """Name the person who will use a ticket (its owner only; an empty name clears it).

    Before the event starts and before the ticket is used: the door reads the name.
    """
    ticket = ticket_get(ticket_id=ticket_id, user=user, owner_only=True)
    booking = ticket.booking
    if booking.status == Booking.Status.CANCELLED:
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
