"""What staff see of an event across the apps: its ticket holders, what cancelling it would
touch, and its page's summary (bookings and waitlist read together)."""

from django.db.models import Count, Q

from bookings.models import Booking, TicketCheckIn
from events.models import Event
from waitlist.models import ACTIVE_STATUSES, WaitlistEntry


def event_ticket_holders(*, event: Event) -> int:
    """How many people hold a confirmed ticket for the event (each counted once)."""
    return (
        Booking.objects.filter(event=event, status=Booking.Status.CONFIRMED)
        .values("user_id")
        .distinct()
        .count()
    )


def event_cancel_impact(*, event: Event) -> dict:
    """What cancelling the event would touch, for the confirmation staff see first.

    Confirmed bookings, their tickets and revenue are the event's own counters; the active
    waitlist entries are counted; `people` is everyone told of the cancellation, each once
    (a ticket holder who also waits counts once), counted by the database; `checked_in` the
    tickets already let in at the door, people at the venue.
    """
    holders = Booking.objects.filter(event=event, status=Booking.Status.CONFIRMED)
    entries = WaitlistEntry.objects.filter(event=event, status__in=ACTIVE_STATUSES)
    waitlist = entries.aggregate(
        entries=Count("id"), offers=Count("id", filter=Q(status=WaitlistEntry.Status.OFFERED))
    )
    people = (
        holders.order_by().values("user_id").union(entries.order_by().values("user_id")).count()
    )
    return {
        "bookings": event.confirmed_bookings,
        "tickets": event.booked_seats,
        "revenue": event.revenue,
        "waitlist_entries": waitlist["entries"],
        "offers": waitlist["offers"],
        "people": people,
        "checked_in": TicketCheckIn.objects.filter(booking__event=event).count(),
    }


def event_summary(*, event: Event) -> dict:
    """The figures at the top of an event's page: its seat counters and revenue, and its
    waitlist by status (one query)."""
    queue = WaitlistEntry.objects.filter(event=event).aggregate(
        waiting=Count("id", filter=Q(status=WaitlistEntry.Status.WAITING)),
        offered=Count("id", filter=Q(status=WaitlistEntry.Status.OFFERED)),
    )
    return {
        "sold_percent": round(event.booked_seats / event.total_capacity * 100),
        "held_percent": round(event.held_seats / event.total_capacity * 100),
        **queue,
    }
