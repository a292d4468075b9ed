"""Tickets as their owner and the door see them, built from the booking and the few rows that
record something about a ticket (an attendee's name, a check-in)."""

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import (
    Case,
    Count,
    Exists,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
    prefetch_related_objects,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.models import User
from bookings.models import Booking, BookingItem, TicketAttendee, TicketCheckIn
from bookings.selectors import visible_bookings
from bookings.tickets.codes import TicketRef, ref_from_ticket_id, ticket_code, ticket_id
from core.exceptions import NotFound
from core.lookups import get_or_not_found
from events.models import Event, TicketType

VALID, CHECKED_IN, VOID = "valid", "checked_in", "void"
TICKET_STATUSES = [(VALID, "Valid"), (CHECKED_IN, "Checked in"), (VOID, "Void")]


@dataclass(frozen=True)
class Ticket:
    """One seat of a booking. `booking` comes with its event (and its user, where the door
    shows the holder)."""

    booking: Booking
    index: int
    attendee_name: str = ""
    checked_in_at: datetime | None = None

    @property
    def ref(self) -> TicketRef:
        return TicketRef(self.booking.pk, self.index)

    @property
    def id(self) -> uuid.UUID:
        return ticket_id(self.ref)

    @property
    def code(self) -> str:
        return ticket_code(self.ref)

    @property
    def number(self) -> int:
        return self.index + 1

    @property
    def booking_id(self) -> uuid.UUID:
        return self.booking.pk

    @property
    def event_id(self) -> uuid.UUID:
        return self.booking.event_id

    @property
    def status(self) -> str:
        # Valid only while its booking is confirmed: not before it is paid, nor after it ended.
        if self.booking.status != Booking.Status.CONFIRMED:
            return VOID
        return CHECKED_IN if self.checked_in_at else VALID

    @property
    def ticket_type_id(self) -> uuid.UUID | None:
        if hasattr(self.booking, "ticket_type_ref"):  # read with the ticket, `with_ticket_state`
            return self.booking.ticket_type_ref
        item = self.booking.item_of_ticket(self.index)
        return item.ticket_type_id if item else None

    @property
    def ticket_type_name(self) -> str:
        if hasattr(self.booking, "ticket_type_label"):
            return self.booking.ticket_type_label or ""
        item = self.booking.item_of_ticket(self.index)
        return item.ticket_type.name if item else ""

    @property
    def holder_name(self) -> str:
        """Who the door lets in: the named attendee, else the person who booked."""
        return self.attendee_name or self.booking.user.name


def tickets_of(bookings: list[Booking]) -> dict:
    """Each booking's tickets, in seat order, keyed by booking id: two queries for any number
    of bookings (their check-ins, their attendees' names), and one for their items and types
    unless the bookings come with them (`with_items`)."""
    load_items(bookings)
    ids = [b.pk for b in bookings]
    check_ins = dict(
        ((booking_id, index), at)
        for booking_id, index, at in TicketCheckIn.objects.filter(booking__in=ids)
        .order_by()
        .values_list("booking_id", "index", "checked_in_at")
    )
    names = dict(
        ((booking_id, index), name)
        for booking_id, index, name in TicketAttendee.objects.filter(booking__in=ids)
        .order_by()
        .values_list("booking_id", "index", "name")
    )
    return {
        b.pk: [
            Ticket(b, i, names.get((b.pk, i), ""), check_ins.get((b.pk, i)))
            for i in range(b.quantity)
        ]
        for b in bookings
    }


def load_items(bookings: list[Booking]) -> None:
    """Read the items (and their types) of those bookings that lack them, in one query."""
    missing = [b for b in bookings if getattr(b, "item_list", None) is None]
    if missing:
        prefetch_related_objects(
            missing, Prefetch("items", queryset=BookingItem.objects.select_related("ticket_type"))
        )


def booking_tickets(*, booking_id, user: User) -> list[Ticket]:
    """The tickets of a booking the user may see (their own, or any for an admin)."""
    booking = get_or_not_found(
        visible_bookings(user).select_related("event"),
        pk=booking_id,
        message="No booking with this id.",
    )
    return tickets_of([booking])[booking.pk]


def with_ticket_state(bookings: QuerySet[Booking], index: int) -> QuerySet[Booking]:
    """Bookings annotated with one ticket's attendee name and check-in time, and its type (the
    item whose seats include `index`: the last item whose earlier items' seats are at most
    `index`), as subqueries, so reading a ticket is one query."""
    attendee = TicketAttendee.objects.filter(booking=OuterRef("pk"), index=index)
    check_in = TicketCheckIn.objects.filter(booking=OuterRef("pk"), index=index)
    earlier = (
        BookingItem.objects.filter(booking=OuterRef("booking"), pk__lt=OuterRef("pk"))
        .order_by()
        .values("booking")
        .annotate(n=Sum("quantity"))
        .values("n")
    )
    item = (
        BookingItem.objects.filter(booking=OuterRef("pk"))
        .annotate(first=Coalesce(Subquery(earlier, output_field=IntegerField()), Value(0)))
        .filter(first__lte=index)
        .order_by("-pk")
    )
    return bookings.annotate(
        ticket_attendee=Subquery(attendee.values("name")[:1]),
        ticket_checked_in_at=Subquery(check_in.values("checked_in_at")[:1]),
        ticket_type_ref=Subquery(item.values("ticket_type_id")[:1]),
        ticket_type_label=Subquery(item.values("ticket_type__name")[:1]),
    )


def ticket_get(*, ticket_id, user: User, owner_only: bool = False) -> Ticket:
    """A ticket of a booking the user may see (only their own with `owner_only`); any other
    id, a booking's id among them, is a 404."""
    ref = ref_from_ticket_id(ticket_id)
    if ref is None:
        raise NotFound("No ticket with this id.")
    bookings = Booking.objects.filter(user=user) if owner_only else visible_bookings(user)
    booking = get_or_not_found(
        with_ticket_state(bookings.select_related("event", "user"), ref.index),
        pk=ref.booking_id,
        message="No ticket with this id.",
    )
    if ref.index >= booking.quantity:
        raise NotFound("No ticket with this id.")
    return Ticket(booking, ref.index, booking.ticket_attendee or "", booking.ticket_checked_in_at)


def checked_in_tickets(event_ref="pk"):
    """How many tickets of an event's confirmed bookings were let in, as a subquery on the
    event named by `event_ref` (an OuterRef of an Event query). A checked-in booking cannot be
    cancelled on its own, so only a cancelled event has check-ins this leaves out."""
    counted = (
        TicketCheckIn.objects.filter(
            booking__event=OuterRef(event_ref), booking__status=Booking.Status.CONFIRMED
        )
        .order_by()
        .values("booking__event")
        .annotate(n=Count("id"))
        .values("n")
    )
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


def tickets_let_in(*, event_id) -> int:
    """Every check-in of the event's bookings, whatever became of them since."""
    return TicketCheckIn.objects.filter(booking__event_id=event_id).count()


def door_counts(*, event_id) -> dict:
    """The door's counter, in one query: confirmed tickets, those let in, those still to come."""
    event = get_or_not_found(
        Event.objects.annotate(checked_in=checked_in_tickets()),
        pk=event_id,
        message="No event with this id.",
    )
    return counts_of(event)


def door_counts_with_types(*, event_id) -> dict:
    """`door_counts` and the same split by ticket type (`door_counts_by_type`): the door's
    counter of the API."""
    return {
        **door_counts(event_id=event_id),
        "ticket_types": door_counts_by_type(event_id=event_id),
    }


def counts_of(event: Event) -> dict:
    """`door_counts` of an event annotated with `checked_in_tickets()` as `checked_in`."""
    return {
        "event_id": event.pk,
        "tickets": event.booked_seats,
        "checked_in": event.checked_in,
        "remaining": max(event.booked_seats - event.checked_in, 0),
    }


def _item_of_check_in() -> QuerySet[BookingItem]:
    """The item whose seats include a check-in's ticket (OuterRef: the TicketCheckIn)."""
    earlier = (
        BookingItem.objects.filter(booking=OuterRef("booking"), pk__lt=OuterRef("pk"))
        .order_by()
        .values("booking")
        .annotate(n=Sum("quantity"))
        .values("n")
    )
    return (
        BookingItem.objects.filter(booking=OuterRef("booking"))
        .annotate(first=Coalesce(Subquery(earlier, output_field=IntegerField()), Value(0)))
        .filter(first__lte=OuterRef("index"))
        .order_by("-pk")
    )


def door_counts_by_type(*, event_id) -> list[dict]:
    """The door's counter split by ticket type (those with confirmed tickets or active), by
    position: two queries, the types and the check-ins of confirmed bookings counted by type."""
    let_in = dict(
        TicketCheckIn.objects.filter(
            booking__event_id=event_id, booking__status=Booking.Status.CONFIRMED
        )
        .annotate(ticket_type=Subquery(_item_of_check_in().values("ticket_type_id")[:1]))
        .order_by()
        .values_list("ticket_type")
        .annotate(n=Count("id"))
    )
    types = TicketType.objects.filter(event_id=event_id).filter(Q(is_active=True) | Q(booked__gt=0))
    return [
        {
            "ticket_type_id": t.pk,
            "name": t.name,
            "tickets": t.booked,
            "checked_in": let_in.get(t.pk, 0),
            "remaining": max(t.booked - let_in.get(t.pk, 0), 0),
        }
        for t in types.order_by("position", "id")
    ]


def recent_check_ins(*, event_id, limit: int = 8) -> list[dict]:
    """The latest tickets let in at any door of the event, newest first, in one query."""
    attendee = TicketAttendee.objects.filter(booking=OuterRef("booking"), index=OuterRef("index"))
    rows = (
        TicketCheckIn.objects.filter(booking__event_id=event_id)
        .annotate(attendee=Subquery(attendee.values("name")[:1]))
        .select_related("booking__user")
        .order_by("-checked_in_at", "-id")[:limit]
    )
    return [
        {
            "ticket_id": ticket_id(TicketRef(row.booking_id, row.index)),
            "holder": row.attendee or row.booking.user.name,
            "number": row.index + 1,
            "quantity": row.booking.quantity,
            "checked_in_at": row.checked_in_at,
        }
        for row in rows
    ]


# Confirmed bookings before the others (cancelled, expired, still waiting for payment).
_confirmed_first = Case(When(status=Booking.Status.CONFIRMED, then=0), default=1)


def desk_search(*, event_id, query: str, limit: int = 10) -> list[Ticket]:
    """Tickets of the event whose holder's name or e-mail, or attendee's name, contains
    `query`: for people at the desk without their phone. Three queries; at most `limit`
    bookings, confirmed ones first."""
    query = query.strip()
    if len(query) < 2:
        return []
    named = TicketAttendee.objects.filter(booking=OuterRef("pk"), name__icontains=query)
    bookings = list(
        Booking.objects.filter(event_id=event_id)
        .filter(Q(user__name__icontains=query) | Q(user__email__icontains=query) | Exists(named))
        .select_related("event", "user")
        .order_by(_confirmed_first, "user__name", "booking_time", "id")[:limit]
    )
    tickets = tickets_of(bookings)
    return [ticket for booking in bookings for ticket in tickets[booking.pk]]


@dataclass(frozen=True)
class CheckInWindow:
    """When an event's door lets tickets in: from CHECKIN_OPENS_MINUTES before its time to
    CHECKIN_CLOSES_MINUTES after it."""

    opens_at: datetime
    closes_at: datetime

    NOT_YET, OPEN, CLOSED = "not_open_yet", "open", "closed"

    def state(self, now: datetime | None = None) -> str:
        now = now or timezone.now()
        if now < self.opens_at:
            return self.NOT_YET
        return self.OPEN if now <= self.closes_at else self.CLOSED


def checkin_window(event: Event) -> CheckInWindow:
    return CheckInWindow(
        opens_at=event.event_time - timedelta(minutes=settings.CHECKIN_OPENS_MINUTES),
        closes_at=event.event_time + timedelta(minutes=settings.CHECKIN_CLOSES_MINUTES),
    )


def desk_events(*, now: datetime | None = None) -> QuerySet[Event]:
    """The events a door works tonight: scheduled ones whose door has not closed yet (started
    less than CHECKIN_CLOSES_MINUTES ago, 12 hours by default) that start within the next 24
    hours, soonest first, each with its door counts."""
    now = now or timezone.now()
    return (
        Event.objects.filter(
            status=Event.Status.SCHEDULED,
            event_time__gte=now - timedelta(minutes=settings.CHECKIN_CLOSES_MINUTES),
            event_time__lte=now + timedelta(hours=24),
        )
        .annotate(checked_in=checked_in_tickets())
        .order_by("event_time", "id")
    )
