from django.conf import settings
from django.db import models
from django.utils import timezone


class IdempotencyKey(models.Model):
    """The first response to a request sent with an `Idempotency-Key`, kept for 24 hours.

    Written in the same transaction as the change the request made, so a crash leaves either
    both or neither: a retry then replays the response or does the work once.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    # sha256 of method, path and body: the same key with another request is refused.
    fingerprint = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField()
    content_type = models.CharField(max_length=100)
    body = models.BinaryField()
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        # The table and constraint keep the names they had in evently/ (see migration
        # core.0001_initial), so old and new code share them during a deploy.
        db_table = "evently_idempotencykey"
        constraints = [
            models.UniqueConstraint(
                fields=["user", "key"], name="evently_idempotencykey_unique_per_user"
            )
        ]

    def __str__(self) -> str:
        return f"{self.key} ({self.status_code})"


class ThrottleCounter(models.Model):
    """A client's requests in one fixed window of a throttle rate, when there is no Redis.

    Counted by one upsert a request (core.throttling); windows that have ended are deleted
    by `manage.py prune_throttle_counters`, never on the request path.
    """

    key = models.CharField(max_length=250, primary_key=True)
    count = models.PositiveIntegerField()
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        db_table = "evently_throttlecounter"

    def __str__(self) -> str:
        return f"{self.key}: {self.count}"
