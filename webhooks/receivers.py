"""The domain apps' signals, turned into webhook messages in the same transaction.

`data` is each object as the API shows it, built by the API's own serializers, so a receiver
can reuse its client types. Nothing here carries more than the API shows staff: ids rather
than e-mail addresses, and never a password hash or a token; a ticket's `code` (what the QR
code holds and the door scans) is left out of `ticket.checked_in`.
"""

from django.dispatch import receiver

from bookings import signals as bookings_signals
from bookings.serializers import booking_body
from bookings.tickets.serializers import TicketSerializer
from events import signals as events_signals
from events.serializers import EventDetailSerializer
from waitlist import signals as waitlist_signals
from waitlist.serializers import WaitlistEntrySerializer
from webhooks import outbox


@receiver(bookings_signals.booking_confirmed)
def booking_confirmed(sender, booking, **kwargs):
    # booking_body is BookingSerializer's output, built without DRF's per-call cost: this
    # runs on every booking (tests/bookings/test_booking_body.py holds the two together), and
    # the API's answer to the booking is the same body, built once.
    # Sent with the common booking's own write, before its outcome is known (bookings.signals):
    # the message is written only if the booking row is.
    outbox.record("booking.confirmed", [booking_body(booking)], only_with=booking)


@receiver(bookings_signals.bookings_cancelled)
def bookings_cancelled(sender, bookings, **kwargs):
    outbox.record("booking.cancelled", [booking_body(b) for b in bookings])


def ticket_data(ticket) -> dict:
    data = dict(TicketSerializer(ticket).data)
    del data["code"]  # a credential for the door, not something to pass around
    return data


@receiver(bookings_signals.ticket_checked_in)
def ticket_checked_in(sender, ticket, **kwargs):
    outbox.record("ticket.checked_in", [ticket_data(ticket)])


def _entries(event, entries) -> list[dict]:
    for entry in entries:
        entry.event = event  # the locked event they belong to: no query per entry
    return [dict(d) for d in WaitlistEntrySerializer(entries, many=True).data]


@receiver(waitlist_signals.offers_made)
def offers_made(sender, event, entries, **kwargs):
    outbox.record("waitlist.offered", _entries(event, entries))


@receiver(waitlist_signals.offer_expired)
def offer_expired(sender, event, entry, **kwargs):
    outbox.record("waitlist.offer_expired", _entries(event, [entry]))


def _event(type: str, event) -> None:
    # The event as GET /api/events/{id} shows it, its ticket types included.
    outbox.record(type, [EventDetailSerializer(event).data])


@receiver(events_signals.event_created)
def event_created(sender, event, **kwargs):
    _event("event.created", event)


@receiver(events_signals.event_updated)
def event_updated(sender, event, **kwargs):
    _event("event.updated", event)


@receiver(events_signals.event_cancelled)
def event_cancelled(sender, event, **kwargs):
    _event("event.cancelled", event)
