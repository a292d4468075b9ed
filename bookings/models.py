import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

MAX_TICKETS_PER_BOOKING = 10
MAX_TICKETS_PER_PERSON = 10


class Booking(models.Model):
    class Status(models.TextChoices):
        CONFIRMED = "confirmed", "Confirmed"
        CANCELLED = "cancelled", "Cancelled"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    event = models.ForeignKey("events.Event", on_delete=models.PROTECT, related_name="bookings")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="bookings"
    )
    quantity = models.PositiveSmallIntegerField()
    # price * quantity when booked; a later price change does not touch it.
    total_amount = models.DecimalField(max_digits=12, decimal_places=2)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.CONFIRMED)
    booking_time = models.DateTimeField(default=timezone.now)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["event", "status"], name="bookings_event_status_idx"),
            models.Index(fields=["user", "-created_at"], name="bookings_user_created_idx"),
            # A person's tickets for an event, counted on every booking (the ten-ticket limit).
            models.Index(fields=["user", "event"], name="bookings_user_event_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity__gte=1, quantity__lte=MAX_TICKETS_PER_BOOKING),
                name="bookings_booking_quantity_range",
            ),
            models.CheckConstraint(
                condition=Q(total_amount__gte=0), name="bookings_booking_amount_non_negative"
            ),
            models.CheckConstraint(
                condition=Q(status="confirmed", cancelled_at__isnull=True)
                | Q(status="cancelled", cancelled_at__isnull=False),
                name="bookings_booking_cancelled_at_matches_status",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} x {self.event_id} for {self.user_id} ({self.status})"
