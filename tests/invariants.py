"""The seat books of an event, checked against the rows behind them."""

from django.db.models import Count, Q, Sum
from django.db.models.functions import Coalesce

from bookings.models import Booking, BookingItem, Voucher
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
    ) + (
        Booking.objects.filter(event=event, status="pending_payment").aggregate(n=Sum("quantity"))[
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
    # Fairness: after every commit no waiting entry fits in the free seats of the event and of
    # its type (while open), checked per type below.
    assert_types_balance(event)


def assert_types_balance(event: Event) -> None:
    """Each type's counters against its rows: confirmed tickets of the type (booking items of
    confirmed bookings) and their amounts, and seats of the type held by offers; and no
    waiting entry that fits both its type's and the event's free seats."""
    event.refresh_from_db()
    types = list(event.ticket_types.all())
    assert types, "every event has a ticket type"
    for ticket_type in types:
        confirmed = BookingItem.objects.filter(
            ticket_type=ticket_type, booking__status="confirmed"
        ).aggregate(n=Sum("quantity"), amount=Sum("amount"))
        booked = confirmed["n"] or 0
        # The revenue counter staff figures read: the confirmed items' amounts.
        assert ticket_type.revenue == (confirmed["amount"] or 0), (ticket_type, confirmed)
        held = (
            WaitlistEntry.objects.filter(ticket_type=ticket_type, status="offered").aggregate(
                n=Sum("quantity")
            )["n"]
            or 0
        ) + (
            BookingItem.objects.filter(
                ticket_type=ticket_type, booking__status="pending_payment"
            ).aggregate(n=Sum("quantity"))["n"]
            or 0
        )
        assert (ticket_type.booked, ticket_type.held) == (booked, held), (ticket_type, booked, held)
        assert ticket_type.available + booked + held == ticket_type.quota
        if event.status == "scheduled" and ticket_type.is_active:
            free = min(event.available_seats, ticket_type.available)
            fits = WaitlistEntry.objects.filter(
                ticket_type=ticket_type, status="waiting", quantity__lte=free
            )
            assert not free or not fits.exists(), (ticket_type, free)
    # The items add up to their bookings: the total is their amounts less their discounts.
    for booking in Booking.objects.filter(event=event).prefetch_related("items"):
        items = list(booking.items.all())
        if items:
            assert sum(i.quantity for i in items) == booking.quantity, booking
            assert sum(i.discount for i in items) == booking.discount_amount, booking
            assert sum(i.amount - i.discount for i in items) == booking.total_amount, booking


def assert_vouchers_balance(event: Event) -> None:
    """Each voucher of the event counts the live bookings (pending or confirmed) applying it,
    and never more than its max_uses."""
    for voucher in Voucher.objects.filter(event=event):
        live = Booking.objects.filter(
            voucher=voucher, status__in=["pending_payment", "confirmed"]
        ).count()
        assert voucher.used == live, (voucher.code, voucher.used, live)
        assert 0 <= voucher.used <= voucher.max_uses, (voucher.code, voucher.used)
