"""The seat books of an event, checked against the rows behind them."""

from django.db.models import Count, Q, Sum
from django.db.models.functions import Coalesce

from bookings.models import Booking
from events.models import Event
from waitlist.models import WaitlistEntry


def assert_books_balance(event: Event) -> None:
    event.refresh_from_db()
    confirmed = (
        Booking.objects.filter(event=event, status="confirmed").aggregate(n=Sum("quantity"))["n"]
        or 0
    )
    held = (
        WaitlistEntry.objects.filter(event=event, status="offered").aggregate(n=Sum("quantity"))[
            "n"
        ]
        or 0
    )
    assert event.booked_seats == confirmed, (event.booked_seats, confirmed)
    revenue = (
        Booking.objects.filter(event=event, status="confirmed").aggregate(s=Sum("total_amount"))[
            "s"
        ]
        or 0
    )
    assert event.revenue == revenue, (event.revenue, revenue)
    assert event.held_seats == held, (event.held_seats, held)
    counted = Booking.objects.filter(event=event).aggregate(
        confirmed=Count("id", filter=Q(status="confirmed")),
        cancelled=Count("id", filter=Q(status="cancelled")),
        cancelled_tickets=Coalesce(Sum("quantity", filter=Q(status="cancelled")), 0),
    )
    assert (event.confirmed_bookings, event.cancelled_bookings, event.cancelled_tickets) == (
        counted["confirmed"],
        counted["cancelled"],
        counted["cancelled_tickets"],
    ), counted
    assert event.available_seats + confirmed + held == event.total_capacity
    assert 0 <= event.available_seats <= event.total_capacity
    # Fairness: after every commit no waiting entry fits in the free seats (while open).
    if event.status == "scheduled" and event.available_seats:
        fits = WaitlistEntry.objects.filter(
            event=event, status="waiting", quantity__lte=event.available_seats
        )
        assert not fits.exists(), list(fits.values("quantity", "priority"))
