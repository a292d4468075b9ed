"""The waiting room's reads that are not a person's own place: what the metrics scrape asks."""

import logging

from django.conf import settings
from django.db.models import Count, IntegerField, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from redis.exceptions import RedisError

from waitingroom.models import Place, Queue
from waitingroom.stores import served_at, store

logger = logging.getLogger(__name__)


def queue_lengths() -> dict[str, int]:
    """{event id: people waiting} for every queue that is on (paused ones included), read
    from the store the queue lives in, for the metrics scrape; the scrape names the longest
    (core.metrics.QUEUE_EVENTS_SHOWN) and adds up the rest.

    On Redis, one script call per queue that is on (the staff panel's figures); on
    PostgreSQL, one query for all of them. When Redis does not answer, no queue is reported
    rather than the scrape failing: waiting rooms fail open then, and the log says so."""
    if settings.REDIS_URL:
        return _redis_lengths()
    return _database_lengths()


def _redis_lengths() -> dict[str, int]:
    queue_store = store()
    lengths = {}
    try:
        for event_id in Queue.objects.filter(enabled=True).values_list("event_id", flat=True):
            lengths[str(event_id)] = queue_store.figures(event_id=event_id).waiting
    except RedisError as exc:
        logger.warning(
            "metrics: Redis did not answer the waiting room's figures (%s)",
            exc.__class__.__name__,
        )
        return {}
    return lengths


def _database_lengths() -> dict[str, int]:
    now = timezone.now()
    # Admissions that lapsed unused give their slot back, as in the store's own count: one
    # range of the partial index waitingroom_place_pending per queue.
    freed = (
        Place.objects.filter(
            queue=OuterRef("pk"), booked_at__isnull=True, admission_expires_at__lte=now
        )
        .order_by()
        .values("queue")
        .annotate(n=Count("pk"))
        .values("n")
    )
    queues = Queue.objects.filter(enabled=True).annotate(
        freed=Coalesce(Subquery(freed, output_field=IntegerField()), Value(0))
    )
    return {
        str(queue.event_id): queue.joined
        - served_at(
            joined=queue.joined,
            anchor_served=queue.anchor_served,
            anchor_at=queue.anchor_at.timestamp() if queue.anchor_at else None,
            rate=queue.rate,
            paused=queue.paused,
            freed=queue.freed,
            now=now.timestamp(),
        )
        for queue in queues
    }
