import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone

from core.validators import OneLineCharField


class Notification(models.Model):
    """A message to one person, written in the same transaction as the change it reports."""

    class Type(models.TextChoices):
        BOOKING_CONFIRMED = "booking_confirmed", "Booking confirmed"
        BOOKING_CANCELLED = "booking_cancelled", "Booking cancelled"
        # A checkout (bookings.checkout): its hold ended unpaid, a payment failed, money back.
        BOOKING_EXPIRED = "booking_expired", "Checkout expired"
        PAYMENT_FAILED = "payment_failed", "Payment failed"
        BOOKING_REFUNDED = "booking_refunded", "Booking refunded"
        WAITLIST_JOINED = "waitlist_joined", "Joined the waitlist"
        WAITLIST_OFFER = "waitlist_offer", "Waitlist offer"
        WAITLIST_OFFER_EXPIRED = "waitlist_offer_expired", "Waitlist offer expired"
        EVENT_UPDATED = "event_updated", "Event updated"
        EVENT_CANCELLED = "event_cancelled", "Event cancelled"
        EVENT_MESSAGE = "event_message", "Message to attendees"
        # To staff: delivery switched a webhook endpoint off (webhooks.delivery).
        WEBHOOK_DISABLED = "webhook_disabled", "Webhook endpoint disabled"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # Indexed by notif_user_created_idx, which leads with it (one index entry less a write).
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="notifications",
        db_index=False,
    )
    event = models.ForeignKey(
        "events.Event", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    type = models.CharField(max_length=32, choices=Type.choices)
    # Titles are built around an event's name, which may be 200 characters itself: room for the
    # longest wording ("The waitlist for … has closed") around the longest name.
    title = OneLineCharField(max_length=255)
    message = models.TextField()
    is_read = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class EmailStatus(models.TextChoices):
        PENDING = "pending", "Pending"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"

    # E-mail delivery, at least once: a sender claims the row (`sending`, with a lease), sends,
    # then marks it `sent`. A sender that dies mid-way leaves a lapsed lease, and the row is
    # claimed again; a failure is retried with backoff until the attempts run out (`failed`).
    email_status = models.CharField(
        max_length=10, choices=EmailStatus.choices, default=EmailStatus.PENDING
    )
    email_attempts = models.PositiveSmallIntegerField(default=0)
    email_next_attempt_at = models.DateTimeField(default=timezone.now)
    email_claimed_until = models.DateTimeField(null=True, blank=True)
    email_sent_at = models.DateTimeField(null=True, blank=True)
    email_last_error = models.CharField(max_length=500, blank=True, default="")

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["user", "-created_at"], name="notif_user_created_idx"),
            models.Index(
                fields=["user"],
                condition=models.Q(is_read=False),
                name="notif_user_unread_idx",
            ),
            # What the mailer still has to do.
            models.Index(
                fields=["email_next_attempt_at"],
                condition=models.Q(email_status__in=["pending", "sending"]),
                name="notif_email_due_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.type} for {self.user_id}"
