from django.db.models import QuerySet

from accounts.models import User
from bookings.models import Booking
from core.lookups import get_or_not_found


def visible_bookings(user: User) -> QuerySet[Booking]:
    """Bookings `user` may see: their own, or all of them for an admin."""
    return Booking.objects.all() if user.is_admin else Booking.objects.filter(user=user)


def bookings_of(*, user: User, status: str | None = None) -> QuerySet[Booking]:
    bookings = Booking.objects.filter(user=user).select_related("event")
    if status:
        bookings = bookings.filter(status=status)
    return bookings.order_by("-created_at", "-id")


def booking_get(*, booking_id, user: User) -> Booking:
    """A booking the user may see (their own, or any for an admin); others are 404."""
    return get_or_not_found(
        visible_bookings(user).select_related("event"),
        pk=booking_id,
        message="No booking with this id.",
    )
