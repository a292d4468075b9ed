import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

ACTIVE_STATUSES = ("waiting", "offered")


class WaitlistEntry(models.Model):
    """A person waiting for seats of a sold-out event.

    Served in order: higher `priority` first, then earlier `joined_at` (then id, so the order
    is total). An `offered` entry holds its seats (counted in the event's `held_seats`) until
    `offer_expires_at`.
    """

    class Status(models.TextChoices):
        WAITING = "waiting", "Waiting"
        OFFERED = "offered", "Offered"
        ACCEPTED = "accepted", "Accepted"
        EXPIRED = "expired", "Expired"
        CANCELLED = "cancelled", "Cancelled"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    event = models.ForeignKey(
        "events.Event", on_delete=models.PROTECT, related_name="waitlist_entries"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="waitlist_entries"
    )
    # The type the entry waits for; an offer holds seats of the type and of the event.
    ticket_type = models.ForeignKey(
        "events.TicketType", on_delete=models.PROTECT, related_name="waitlist_entries"
    )
    quantity = models.PositiveSmallIntegerField()
    priority = models.IntegerField(default=0)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.WAITING)
    joined_at = models.DateTimeField(default=timezone.now)
    offered_at = models.DateTimeField(null=True, blank=True)
    offer_expires_at = models.DateTimeField(null=True, blank=True)
    booking = models.OneToOneField(
        "bookings.Booking",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="waitlist_entry",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-priority", "joined_at", "id"]
        verbose_name_plural = "waitlist entries"
        indexes = [
            # The queue of one event, in serving order.
            models.Index(
                "event",
                models.F("priority").desc(),
                "joined_at",
                "id",
                condition=Q(status="waiting"),
                name="waitlist_queue_idx",
            ),
            # Offers due for expiry, for expire_waitlist_offers.
            models.Index(
                fields=["offer_expires_at"],
                condition=Q(status="offered"),
                name="waitlist_offer_due_idx",
            ),
            models.Index(fields=["user", "-joined_at"], name="waitlist_user_joined_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["event", "user"],
                condition=Q(status__in=ACTIVE_STATUSES),
                name="waitlist_waitlistentry_one_active_per_user_event",
            ),
            models.CheckConstraint(
                condition=Q(quantity__gte=1, quantity__lte=10),
                name="waitlist_waitlistentry_quantity_range",
            ),
            models.CheckConstraint(
                condition=~Q(status="offered")
                | Q(offered_at__isnull=False, offer_expires_at__isnull=False),
                name="waitlist_waitlistentry_offer_has_deadline",
            ),
            models.CheckConstraint(
                condition=~Q(status="accepted") | Q(booking__isnull=False),
                name="waitlist_waitlistentry_accepted_has_booking",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} for {self.user_id} on {self.event_id} ({self.status})"

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES
