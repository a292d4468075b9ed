"""What a booking's notifications say. The links in them are absolute (PUBLIC_URL): an e-mail
is read far from this server."""

from decimal import Decimal

from django.conf import settings

from notifications.models import Notification


def absolute(path: str) -> str:
    """A path of this server as a link to follow from elsewhere."""
    return settings.PUBLIC_URL + path


def tickets_url(booking_id) -> str:
    return absolute(f"/api/bookings/{booking_id}/tickets")


def confirmation(event, quantity: int, amount: Decimal, booking_id) -> dict:
    """The booking_confirmed notification's fields."""
    return {
        "type": Notification.Type.BOOKING_CONFIRMED,
        "title": f"Booking confirmed: {event.name}",
        "message": f"{quantity} ticket(s) for {event.name} on "
        f"{event.event_time:%Y-%m-%d %H:%M} UTC at {event.venue}. Total {amount}. "
        f"Your tickets: {tickets_url(booking_id)}",
    }


def payment_failed(booking, payment) -> str:
    return (
        f"The payment of {payment.total} {payment.currency} for your {booking.quantity} "
        f"ticket(s) did not go through. Your seats stay held until "
        f"{booking.expires_at:%Y-%m-%d %H:%M} UTC: you may pay again until then."
    )


def expired(booking) -> str:
    return (
        f"Your {booking.quantity} held ticket(s) were not paid for in time and were "
        "released. Nothing was charged."
    )


def refunded(booking, amount: Decimal, currency: str) -> str:
    return (
        f"{amount} {currency} for your {booking.quantity} ticket(s) was refunded in full "
        "to how you paid."
    )
