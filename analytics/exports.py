"""An event's bookings as CSV, for the admin API and the admin site alike."""

from collections.abc import Iterator

from django.db.models import QuerySet
from django.http import StreamingHttpResponse

from bookings.models import Booking
from core.csv import csv_response

BOOKING_COLUMNS = (
    "booking_id",
    "user_id",
    "user_email",
    "user_name",
    "quantity",
    "ticket_types",
    "total_amount",
    "status",
    "booking_time",
    "cancelled_at",
)


def booking_rows(bookings: QuerySet[Booking]) -> Iterator[list]:
    for booking in bookings.iterator(chunk_size=2000):
        yield [
            booking.pk,
            booking.user_id,
            booking.user.email,
            booking.user.name,
            booking.quantity,
            "; ".join(f"{i.quantity} x {i.ticket_type.name}" for i in booking.item_rows),
            booking.total_amount,
            booking.status,
            booking.booking_time.isoformat(),
            booking.cancelled_at.isoformat() if booking.cancelled_at else "",
        ]


def bookings_csv_response(bookings: QuerySet[Booking], *, filename: str) -> StreamingHttpResponse:
    return csv_response(BOOKING_COLUMNS, booking_rows(bookings), filename=filename)
