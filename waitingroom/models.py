"""The waiting room's own rows: an event's queue settings and, without Redis, its places.

Nothing here is the event's row or a row a booking locks: a poll reads these (or Redis) only,
and a booking reads `Queue` once, unlocked, when it comes without a valid admission.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q


class Queue(models.Model):
    """One event's waiting room. Staff set `enabled`, `rate` and `paused`; the rest is the
    serving counter's state, kept here by the PostgreSQL store (the Redis store keeps its own
    copy in Redis and reads this row only to start, or after Redis lost its keys).

    People served at time t: min(joined, anchor_served + freed + whole people the rate has let
    in since `anchor_at` while not paused). Changing the rate or pausing re-anchors the counter
    at the moment of the change, so neither rewrites the past.
    """

    event = models.OneToOneField(
        "events.Event", on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    enabled = models.BooleanField(default=False)
    rate = models.PositiveIntegerField(default=60, help_text="People admitted a minute.")
    paused = models.BooleanField(default=False)
    joined = models.PositiveIntegerField(default=0)
    anchor_served = models.PositiveIntegerField(default=0)
    anchor_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(rate__gte=1), name="waitingroom_queue_rate_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"queue of {self.event_id}"


class Place(models.Model):
    """A person's place in an event's queue (PostgreSQL store): `number` is the arrival order,
    1, 2, 3… per event. Admission is recorded when the person first learns of it."""

    queue = models.ForeignKey(Queue, on_delete=models.CASCADE, related_name="places")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    number = models.PositiveIntegerField()
    joined_at = models.DateTimeField(auto_now_add=True)
    admitted_at = models.DateTimeField(null=True, blank=True)
    admission_expires_at = models.DateTimeField(null=True, blank=True)
    booked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["queue", "user"], name="waitingroom_place_one_per_user"
            ),
            models.UniqueConstraint(fields=["queue", "number"], name="waitingroom_place_number"),
        ]
        indexes = [
            # The admissions that may lapse unused: the freed slots a poll counts.
            models.Index(
                fields=["queue", "admission_expires_at"],
                condition=Q(booked_at__isnull=True, admission_expires_at__isnull=False),
                name="waitingroom_place_pending",
            ),
            models.Index(
                fields=["queue", "admitted_at"],
                condition=Q(admitted_at__isnull=False),
                name="waitingroom_place_admitted",
            ),
        ]

    def __str__(self) -> str:
        return f"place {self.number} of {self.queue_id}"
