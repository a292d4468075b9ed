"""Webhook endpoints, the messages written for them, and each try at delivering one.

A message is written in the transaction of the change it reports, once, with a delivery row
for every endpoint subscribed to its type at that moment (`webhooks.outbox`). The deliveries
are the outbox the `deliver_webhooks` worker claims, as the notification e-mails' rows are;
each try is kept as an attempt, so staff can see what a receiver answered.
"""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

# The types a subscription may name. booking.expired and payment.refunded are written once
# checkout lands; an endpoint may subscribe to them already.
EVENT_TYPES = (
    "booking.confirmed",
    "booking.cancelled",
    "booking.expired",
    "payment.refunded",
    "ticket.checked_in",
    "waitlist.offered",
    "waitlist.offer_expired",
    "event.created",
    "event.updated",
    "event.cancelled",
)
ALL_TYPES = "*"
TEST_TYPE = "webhook.test"  # sent only to the endpoint staff test, whatever it subscribes to


class WebhookEndpoint(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    url = models.URLField(max_length=2000)
    description = models.CharField(max_length=200, blank=True, default="")
    # A list of EVENT_TYPES, or ["*"]; matched by the message's statement (jsonb @>).
    events = models.JSONField(default=list)
    is_active = models.BooleanField(default=True)
    # `whsec_` + base64 of 32 random bytes. Kept readable: an HMAC needs the key itself.
    secret = models.CharField(max_length=100)
    # After a rotation the old secret signs too, until previous_secret_expires_at.
    previous_secret = models.CharField(max_length=100, blank=True, default="")
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True)
    # Why the endpoint was switched off by the worker (410, failing for days), else empty.
    disabled_reason = models.CharField(max_length=200, blank=True, default="")
    # When its deliveries started failing without a success since; None while it answers.
    failing_since = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.url

    def secrets(self, now=None) -> list[str]:
        """The secrets a message is signed with now: the current one, and the previous one
        for the 24 hours after a rotation."""
        now = now or timezone.now()
        keep_old = self.previous_secret and self.previous_secret_expires_at
        if keep_old and self.previous_secret_expires_at > now:
            return [self.secret, self.previous_secret]
        return [self.secret]


class WebhookMessage(models.Model):
    """One change, as sent: `body` is the exact JSON every try sends and signs, and `id` is
    the `webhook-id` header, the same on every retry (receivers deduplicate by it)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    type = models.CharField(max_length=40)
    body = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.type} {self.id}"


class WebhookDelivery(models.Model):
    """A message on its way to one endpoint: the outbox row the worker claims."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SENDING = "sending", "Sending"
        DELIVERED = "delivered", "Delivered"
        FAILED = "failed", "Failed"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # Indexed by the unique constraint, which leads with it.
    message = models.ForeignKey(
        WebhookMessage, on_delete=models.CASCADE, related_name="deliveries", db_index=False
    )
    # Indexed by webhooks_delivery_endpoint_idx, which leads with it.
    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries", db_index=False
    )
    # At least once: a worker claims the row (`sending`, with a lease), sends, then records
    # the outcome. A worker that dies mid-way leaves a lapsed lease, and the row is claimed
    # again; a failure is retried on the schedule until the tries run out (`failed`).
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    claimed_until = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    # When its last try failed; None until one fails and again once one succeeds. Pending with
    # it set, the delivery is being retried; failed, it was given up on then.
    failed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["endpoint", "-created_at"], name="webhooks_delivery_endpoint_idx"),
            # The deliveries given up on, by when: the metrics scrape counts the last hour's.
            models.Index(
                fields=["failed_at"],
                condition=Q(status="failed"),
                name="webhooks_delivery_given_up_idx",
            ),
            # What the worker still has to do.
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(status__in=["pending", "sending"]),
                name="webhooks_delivery_due_idx",
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["message", "endpoint"], name="webhooks_webhookdelivery_once_per_endpoint"
            )
        ]

    def __str__(self) -> str:
        return f"{self.message_id} to {self.endpoint_id}"


class WebhookAttempt(models.Model):
    """One request made for a delivery, and what came of it."""

    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="tries")
    attempted_at = models.DateTimeField()
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField()
    error = models.CharField(max_length=500, blank=True, default="")

    class Meta:
        ordering = ["attempted_at", "id"]

    def __str__(self) -> str:
        return f"{self.status_code or self.error} at {self.attempted_at}"
