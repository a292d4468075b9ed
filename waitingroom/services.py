"""The waiting room's writes and polls: staff configure a queue, people join and poll it.

When Redis is set but unreachable, joining and polling fail open: the caller is admitted at
once (with an admission token of number 0, which no slot accounting follows) and the log says
so, at most once every ten seconds per process, so an outage does not flood it. Bookings go on
through the booking path's own limits; the queue's fairness is what is lost until Redis is back.
"""

import logging
import math
import random
import time
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db import transaction
from redis.exceptions import RedisError

from core.exceptions import EventClosed, NotFound
from core.logging import PacedWarning
from core.lookups import get_or_not_found
from events.models import Event
from waitingroom.models import Queue
from waitingroom.stores import (
    QueueFigures,
    QueueNotOpen,
    RedisStore,
    Standing,
    store,
    utc_from_seconds,
)
from waitingroom.tokens import admission_token, place_token, read_place_token

logger = logging.getLogger(__name__)
# That Redis is unreachable, logged at most once every ten seconds per process.
_outage_warning = PacedWarning(logger, every=10.0)


class QueueClosed(NotFound):
    default_detail = "This event has no waiting room open."


class UnknownPlace(NotFound):
    default_detail = "No such place in a queue."


@dataclass(frozen=True)
class QueueView:
    """What a person sees of their place."""

    token: str
    status: str  # waiting | admitted
    position: int
    estimated_wait_seconds: int
    admission_token: str | None
    admission_expires_at: datetime | None
    retry_after: int
    created: bool


def _log_outage(exc: Exception) -> None:
    _outage_warning(
        "waiting room: Redis unreachable (%s); admitting without queueing",
        exc.__class__.__name__,
    )


def estimated_wait(standing: Standing) -> int:
    """Seconds until this place is admitted: its position over the pace of admissions, which
    is the rate, or the pace measured over the last minute when that is lower (people who take
    their time to come back slow the queue), but never under half the rate. The measure counts
    once the queue has let in a minute's worth of people."""
    if standing.admitted or standing.position == 0:
        return 0
    pace = standing.rate
    if standing.served >= standing.rate and 0 < standing.admitted_last_minute < standing.rate:
        pace = max(standing.admitted_last_minute, standing.rate / 2)
    return math.ceil(standing.position * 60 / pace)


# The longest Retry-After: a long wait's estimate is refreshed at least this often.
RETRY_AFTER_LONGEST = 30


def retry_after(wait_seconds: int) -> int:
    """When to poll again: at the moment the place should be admitted, its estimated wait, so
    that one poll usually finds it admitted. The rate itself spreads a crowd that joined
    together: its places come due one after another, so its polls come back at the rate of
    admissions, not all at once; up to a tenth more at random keeps a long wait's polls from
    bunching where the estimate rounds to whole seconds (as Retry-After counts them). A wait
    longer than 30 seconds is looked at again within 30 (three quarters of it at the least),
    so a queue that speeds up, as lapsed admissions give slots back, is noticed."""
    if wait_seconds <= 0:
        return 1
    if wait_seconds > RETRY_AFTER_LONGEST:
        return round(RETRY_AFTER_LONGEST * random.uniform(0.75, 1.0))
    return min(RETRY_AFTER_LONGEST, wait_seconds + round(wait_seconds * random.uniform(0.0, 0.1)))


def _view(*, event_id, user_id, standing: Standing) -> QueueView:
    wait = estimated_wait(standing)
    token = None
    expires = standing.admission_expires_at
    if expires is not None:
        token = admission_token(
            event_id=event_id, number=standing.number, expires_at=expires, user_id=user_id
        )
    return QueueView(
        token=place_token(event_id=event_id, number=standing.number, user_id=user_id),
        status="admitted" if token else "waiting",
        position=standing.position,
        estimated_wait_seconds=wait,
        admission_token=token,
        admission_expires_at=utc_from_seconds(expires),
        retry_after=retry_after(wait),
        created=standing.created,
    )


def _fail_open(*, event_id, user_id, exc: Exception) -> QueueView:
    _log_outage(exc)
    expires = int(time.time()) + settings.QUEUE_ADMISSION_TTL_SECONDS
    return QueueView(
        token=place_token(event_id=event_id, number=0, user_id=user_id),
        status="admitted",
        position=0,
        estimated_wait_seconds=0,
        admission_token=admission_token(
            event_id=event_id, number=0, expires_at=expires, user_id=user_id
        ),
        admission_expires_at=utc_from_seconds(expires),
        retry_after=1,
        created=True,
    )


def queue_join(*, event_id, user) -> QueueView:
    """Take a place in the event's queue, or find the one the person already has."""
    try:
        standing = store().join(event_id=event_id, user_id=user.pk)
    except QueueNotOpen:
        raise QueueClosed() from None
    except RedisError as exc:
        return _fail_open(event_id=event_id, user_id=user.pk, exc=exc)
    return _view(event_id=event_id, user_id=user.pk, standing=standing)


def queue_poll(*, token: str, user) -> QueueView:
    """Where the caller's place stands now; 404 for a token that is not theirs."""
    ref = read_place_token(token, user_id=user.pk)
    if ref is None:
        raise UnknownPlace()
    if ref.number == 0:  # given while Redis was unreachable: admitted already
        return _fail_open(event_id=ref.event_id, user_id=user.pk, exc=RedisError("earlier"))
    try:
        standing = store().poll(event_id=ref.event_id, number=ref.number)
    except QueueNotOpen:
        raise QueueClosed() from None
    except RedisError as exc:
        return _fail_open(event_id=ref.event_id, user_id=user.pk, exc=exc)
    return _view(event_id=ref.event_id, user_id=user.pk, standing=standing)


def queue_join_counted(*, event_id, user_id: str, counter: str, limit: int, window: int):
    """`queue_join` on the Redis store with the caller's per-user throttle counted in the same
    round trip, for the WSGI fast path (waitingroom.fastpath). None for every answer but the
    plain one: no queue open or none in Redis yet, or the caller throttled: Django's view
    answers those. A RedisError is the caller's to handle (it hands the join to Django, which
    fails open)."""
    standing = RedisStore().join_counted(
        event_id=event_id, user_id=user_id, counter=counter, limit=limit, window=window
    )
    if standing is None:
        return None
    return _view(event_id=event_id, user_id=user_id, standing=standing)


def queue_poll_counted(*, token: str, user_id: str, counter: str, limit: int, window: int):
    """`queue_poll` as `queue_join_counted` joins: None also for a token that is not the
    caller's, or a place given while Redis was unreachable."""
    ref = read_place_token(token, user_id=user_id)
    if ref is None or ref.number == 0:
        return None
    standing = RedisStore().poll_counted(
        event_id=ref.event_id, number=ref.number, counter=counter, limit=limit, window=window
    )
    if standing is None:
        return None
    return _view(event_id=ref.event_id, user_id=user_id, standing=standing)


@dataclass(frozen=True)
class QueueStatus:
    """What staff see of a queue."""

    queue_enabled: bool
    queue_rate: int
    paused: bool
    waiting: int
    admitted: int
    admitted_last_minute: int


def queue_status(*, event_id) -> QueueStatus:
    get_or_not_found(Event.objects.only("pk"), pk=event_id)
    queue = Queue.objects.filter(event_id=event_id).first() or Queue(event_id=event_id)
    try:
        figures = store().figures(event_id=event_id)
    except RedisError as exc:
        _log_outage(exc)
        figures = QueueFigures(0, 0, 0)
    return QueueStatus(
        queue_enabled=queue.enabled,
        queue_rate=queue.rate,
        paused=queue.paused,
        waiting=figures.waiting,
        admitted=figures.served,
        admitted_last_minute=figures.admitted_last_minute,
    )


def queue_configure(
    *, event_id, enabled: bool | None = None, rate: int | None = None, paused: bool | None = None
) -> QueueStatus:
    """Turn an event's queue on or off, set its rate, pause or resume it. The counter is
    re-anchored now, so a new rate or a pause applies from this moment on."""
    event = get_or_not_found(Event.objects.only("pk", "status"), pk=event_id)
    if event.status != Event.Status.SCHEDULED and enabled:
        raise EventClosed("A cancelled event has no sale to queue for.")
    with transaction.atomic():
        queue, _ = Queue.objects.select_for_update().get_or_create(event_id=event.pk)
        queue_store = store()
        if not settings.REDIS_URL:
            queue_store.configure(queue)  # re-anchors on the row saved below
        if enabled is not None:
            queue.enabled = enabled
        if rate is not None:
            queue.rate = rate
        if paused is not None:
            queue.paused = paused
        queue.save()
        if settings.REDIS_URL:
            try:
                queue_store.configure(queue)
            except RedisError as exc:
                _log_outage(exc)
    return queue_status(event_id=event.pk)
