"""Staff analytics. Every figure is aggregated by the database; Python only shapes the rows."""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from django.db.models import (
    Count,
    DecimalField,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from bookings.models import Booking, SalesDay
from bookings.selectors import with_items
from bookings.tickets.selectors import checked_in_tickets
from core.lookups import get_or_not_found
from events.models import Event, TicketType
from waitlist.models import WaitlistEntry

ZERO = Decimal("0.00")
MONEY = DecimalField(max_digits=14, decimal_places=2)


def _ratio(part: int, whole: int) -> float:
    return round(part / whole, 4) if whole else 0.0


def events_with_sales() -> QuerySet[Event]:
    """Every event, past and cancelled too, with its sales figures, in one query.

    Confirmed tickets and revenue are the event's own counters (`booked_seats`, `revenue`),
    kept exact by the seat ledger, so no booking is read.
    """
    waiting = (
        WaitlistEntry.objects.filter(event=OuterRef("pk"), status=WaitlistEntry.Status.WAITING)
        .order_by()
        .values("event")
        .annotate(n=Count("id"))
        .values("n")
    )
    return Event.objects.annotate(
        waitlist_waiting=Coalesce(Subquery(waiting, output_field=IntegerField()), Value(0)),
    ).order_by("-event_time", "id")


def event_bookings(*, event_id, status: str | None = None) -> QuerySet[Booking]:
    event = get_or_not_found(Event.objects.all(), pk=event_id, message="No event with this id.")
    bookings = with_items(Booking.objects.filter(event=event).select_related("event", "user"))
    if status:
        bookings = bookings.filter(status=status)
    return bookings.order_by("-booking_time", "-id")


def event_analytics(*, event_id) -> dict:
    """An event's figures from its own counters (kept exact by the seat ledger in the booking
    transactions), so the cost does not grow with its bookings; the waitlist is counted, and
    the tickets let in at the door, in the same query as the event."""
    event = get_or_not_found(
        Event.objects.annotate(checked_in=checked_in_tickets()),
        pk=event_id,
        message="No event with this id.",
    )
    waitlist = dict.fromkeys(WaitlistEntry.Status.values, 0)
    waitlist.update(
        WaitlistEntry.objects.filter(event=event)
        .order_by()
        .values_list("status")
        .annotate(n=Count("id"))
    )
    all_bookings = event.confirmed_bookings + event.cancelled_bookings
    return {
        "event_id": event.pk,
        "total_capacity": event.total_capacity,
        "available_seats": event.available_seats,
        "held_seats": event.held_seats,
        "confirmed_bookings": event.confirmed_bookings,
        "cancelled_bookings": event.cancelled_bookings,
        "confirmed_tickets": event.booked_seats,
        "cancelled_tickets": event.cancelled_tickets,
        "revenue": event.revenue,
        "utilization": _ratio(event.booked_seats, event.total_capacity),
        "cancellation_rate": _ratio(event.cancelled_bookings, all_bookings),
        "checked_in_tickets": event.checked_in,
        "check_in_rate": _ratio(event.checked_in, event.booked_seats),
        "waitlist": waitlist,
        "checkout": checkout_figures(event=event),
        "ticket_types": ticket_type_figures(event_id=event.pk),
    }


def checkout_figures(*, event: Event) -> dict:
    """An event's checkouts (with a payment provider) in one query: held now while their
    buyers pay, expired unpaid, and refunded. Revenue counts none of them: only what was paid
    and kept. The rows read are those checkouts and the refunded bookings, not every booking."""
    status = Booking.Status
    pending = Q(status=status.PENDING_PAYMENT, expires_at__gt=timezone.now())
    expired = Q(status=status.EXPIRED) | Q(status=status.PENDING_PAYMENT) & ~pending
    refunded = Q(refunded_amount__gt=0)
    figures = (
        Booking.objects.filter(event=event)
        .filter(Q(status__in=[status.PENDING_PAYMENT, status.EXPIRED]) | refunded)
        .aggregate(
            pending_bookings=Count("id", filter=pending),
            pending_tickets=Coalesce(Sum("quantity", filter=pending), 0),
            expired_bookings=Count("id", filter=expired),
            expired_tickets=Coalesce(Sum("quantity", filter=expired), 0),
            refunded_bookings=Count("id", filter=refunded),
            refunded_amount=Coalesce(Sum("refunded_amount", filter=refunded), ZERO),
        )
    )
    figures["refunded_amount"] = Decimal(figures["refunded_amount"]).quantize(ZERO)
    return figures


def ticket_type_figures(*, event_id) -> list[dict]:
    """Each type of an event (inactive ones too), by position, with its sales: its counters,
    the revenue of its confirmed items among them, so the query reads the types alone."""
    rows = (
        TicketType.objects.filter(event_id=event_id)
        .order_by("position", "id")
        .values(
            "id", "name", "price", "quota", "available", "booked", "held", "is_active", "revenue"
        )
    )
    return [
        {
            "ticket_type_id": row["id"],
            "name": row["name"],
            "price": row["price"],
            "quota": row["quota"],
            "available": row["available"],
            "confirmed_tickets": row["booked"],
            "held_seats": row["held"],
            "revenue": row["revenue"],
            "is_active": row["is_active"],
        }
        for row in rows
    ]


def _event_figures(row: dict, **extra) -> dict:
    """An event's row from `.values(...)` as the analytics routes and dashboard show it."""
    return {
        "event_id": row["id"],
        "name": row["name"],
        "event_time": row["event_time"],
        "total_capacity": row["total_capacity"],
        "confirmed_tickets": row["booked_seats"],
        **extra,
        "utilization": _ratio(row["booked_seats"], row["total_capacity"]),
    }


def popular_events(*, limit: int) -> list[dict]:
    """The events with the most confirmed tickets, in one SQL query."""
    rows = (
        events_with_sales()
        .exclude(status=Event.Status.CANCELLED)
        .order_by("-booked_seats", "event_time", "id")
        .values("id", "name", "event_time", "total_capacity", "booked_seats", "revenue")[:limit]
    )
    return [_event_figures(row, revenue=row["revenue"]) for row in rows]


@dataclass(frozen=True)
class Period:
    start: date
    end: date  # inclusive

    @property
    def bounds(self) -> tuple[datetime, datetime]:
        return (
            datetime.combine(self.start, time.min, tzinfo=UTC),
            datetime.combine(self.end + timedelta(days=1), time.min, tzinfo=UTC),
        )

    def days(self) -> list[date]:
        return [self.start + timedelta(days=i) for i in range((self.end - self.start).days + 1)]


def sales_overview(*, period: Period) -> dict:
    """Totals and a per-day series (UTC days, empty days present) for a period.

    bookings/tickets: bookings made in the period, whatever became of them; revenue: of those,
    the ones still confirmed; cancellations: bookings cancelled in the period; waitlist
    conversions: offers accepted in the period. Read from the day totals that every sale keeps
    exact (bookings.SalesDay): at most SHARDS rows a day, however many bookings there are.
    """
    days = {
        row.pop("day"): row
        for row in SalesDay.objects.filter(day__gte=period.start, day__lte=period.end)
        .order_by()
        .values("day")
        .annotate(
            bookings=Sum("bookings"),
            tickets=Sum("tickets"),
            revenue=Sum("revenue"),
            cancellations=Sum("cancellations"),
            waitlist_conversions=Sum("conversions"),
        )
    }
    empty = {
        "bookings": 0,
        "tickets": 0,
        "revenue": ZERO,
        "cancellations": 0,
        "waitlist_conversions": 0,
    }
    series = [{"date": day, **days.get(day, empty)} for day in period.days()]
    totals = {key: sum((row[key] for row in series), empty[key]) for key in empty}
    totals["revenue"] = Decimal(totals["revenue"]).quantize(ZERO)
    for row in series:
        row["revenue"] = Decimal(row["revenue"]).quantize(ZERO)
    return {"from": period.start, "to": period.end, **totals, "series": series}


def waitlist_conversion() -> dict[str, int]:
    """What became of every waitlist offer ever made, counted by status in one query.

    An entry with `offered_at` set was offered seats at least once; its status tells whether
    the person took them (accepted), let the offer lapse (expired), declined or was cancelled
    (cancelled), or still holds it (offered).
    """
    status = WaitlistEntry.Status
    return WaitlistEntry.objects.filter(offered_at__isnull=False).aggregate(
        offered=Count("id"),
        accepted=Count("id", filter=Q(status=status.ACCEPTED)),
        expired=Count("id", filter=Q(status=status.EXPIRED)),
        still_offered=Count("id", filter=Q(status=status.OFFERED)),
        cancelled=Count("id", filter=Q(status=status.CANCELLED)),
    )


def upcoming_utilization(*, limit: int = 15) -> list[dict]:
    """The next scheduled events, soonest first, with how full they are, in one query.

    Confirmed tickets are the event's own `booked_seats` counter; `held_seats` are seats
    held by open waitlist offers.
    """
    rows = (
        Event.objects.filter(status=Event.Status.SCHEDULED, event_time__gt=timezone.now())
        .order_by("event_time", "id")
        .values("id", "name", "event_time", "total_capacity", "booked_seats", "held_seats")[:limit]
    )
    return [_event_figures(row, held_seats=row["held_seats"]) for row in rows]


def upcoming_ticket_types(*, limit: int = 30) -> list[dict]:
    """The types of the upcoming scheduled events that sell more than one, soonest event first,
    each with its sales (its counters, and its confirmed items' revenue), in one query."""
    several = (
        TicketType.objects.filter(event=OuterRef("event"))
        .order_by()
        .values("event")
        .annotate(n=Count("id"))
        .values("n")
    )
    rows = (
        TicketType.objects.filter(
            event__status=Event.Status.SCHEDULED, event__event_time__gt=timezone.now()
        )
        .annotate(types=Subquery(several, output_field=IntegerField()))
        .filter(types__gt=1)
        .order_by("event__event_time", "event_id", "position", "id")
        .values(
            "id", "event_id", "event__name", "name", "price", "quota", "booked", "held", "revenue"
        )[:limit]
    )
    return [
        {
            "ticket_type_id": row["id"],
            "event_id": row["event_id"],
            "event_name": row["event__name"],
            "name": row["name"],
            "price": row["price"],
            "quota": row["quota"],
            "confirmed_tickets": row["booked"],
            "held_seats": row["held"],
            "revenue": row["revenue"],
            "sold_percent": round(100 * row["booked"] / row["quota"]) if row["quota"] else 0,
        }
        for row in rows
    ]


def past_attendance(*, limit: int = 10, now: datetime | None = None) -> dict:
    """Who came to the latest past events that sold tickets, in one query: each event's
    confirmed tickets, those let in at the door and the no-shows (confirmed, never checked
    in), and the same added up over those events."""
    now = now or timezone.now()
    rows = list(
        Event.objects.filter(status=Event.Status.SCHEDULED, event_time__lte=now, booked_seats__gt=0)
        .annotate(checked_in=checked_in_tickets())
        .order_by("-event_time", "id")
        .values("id", "name", "event_time", "total_capacity", "booked_seats", "checked_in")[:limit]
    )
    events = [
        _event_figures(
            row,
            checked_in=row["checked_in"],
            no_shows=row["booked_seats"] - row["checked_in"],
            no_show_rate=_ratio(row["booked_seats"] - row["checked_in"], row["booked_seats"]),
        )
        for row in rows
    ]
    tickets = sum(e["confirmed_tickets"] for e in events)
    no_shows = sum(e["no_shows"] for e in events)
    return {
        "events": events,
        "tickets": tickets,
        "checked_in": tickets - no_shows,
        "no_shows": no_shows,
        "no_show_rate": _ratio(no_shows, tickets),
    }


def console_today() -> dict:
    """The figures on the staff console's front page, for the current UTC day.

    Bookings, tickets, revenue and cancellations made today (the day totals, as the dashboard
    reads them); the next scheduled event and how full it is; the waitlist offers waiting for
    an answer (open offers still within their time; one past it waits for the expiry loop)
    and the people still waiting. Four small queries, none growing with the data.
    """
    now = timezone.now()
    today = now.astimezone(UTC).date()
    day = sales_overview(period=Period(start=today, end=today))
    upcoming = upcoming_utilization(limit=1)
    status = WaitlistEntry.Status
    return {
        "date": today,
        "bookings": day["bookings"],
        "tickets": day["tickets"],
        "revenue": day["revenue"],
        "cancellations": day["cancellations"],
        "next_event": upcoming[0] if upcoming else None,
        # Each count reads its own partial index (open offers, the waiting queues).
        "offers_waiting": WaitlistEntry.objects.filter(
            status=status.OFFERED, offer_expires_at__gt=now
        ).count(),
        "people_waiting": WaitlistEntry.objects.filter(status=status.WAITING).count(),
    }
