from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone

from accounts.models import User
from bookings.models import Booking, BookingItem
from core.lookups import get_or_not_found


def visible_bookings(user: User) -> QuerySet[Booking]:
    """Bookings `user` may see: their own, or all of them for an admin."""
    return Booking.objects.all() if user.is_admin else Booking.objects.filter(user=user)


def with_items(bookings: QuerySet[Booking]) -> QuerySet[Booking]:
    """Bookings with their items and each item's type: one more query for any number."""
    return bookings.prefetch_related(
        Prefetch("items", queryset=BookingItem.objects.select_related("ticket_type"))
    )


def _shown_as(status: str) -> Q:
    """Bookings the API shows in `status` (Booking.shown_status): a checkout past its hold is
    expired even before the expiry loop has run."""
    pending, expired = Booking.Status.PENDING_PAYMENT, Booking.Status.EXPIRED
    now = timezone.now()
    if status == pending:
        return Q(status=pending, expires_at__gt=now)
    if status == expired:
        return Q(status=expired) | Q(status=pending, expires_at__lte=now)
    return Q(status=status)


def bookings_of(*, user: User, status: str | None = None) -> QuerySet[Booking]:
    bookings = with_items(Booking.objects.filter(user=user).select_related("event"))
    if status:
        bookings = bookings.filter(_shown_as(status))
    return bookings.order_by("-created_at", "-id")


def booking_get(*, booking_id, user: User) -> Booking:
    """A booking the user may see (their own, or any for an admin); others are 404."""
    return get_or_not_found(
        with_items(visible_bookings(user).select_related("event")),
        pk=booking_id,
        message="No booking with this id.",
    )
