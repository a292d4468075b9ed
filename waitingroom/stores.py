"""Where the queue's counters live: Redis when `REDIS_URL` is set, else PostgreSQL.

Both follow one model (the queue counter and the serving counter of AWS's virtual waiting
room): joining takes the next arrival number; the number of people served at a moment is
computed when asked, from the rate and the time since the counter was last anchored, so no
process has to advance it. People served who take an admission and let it lapse unused give
their slot back (`freed`), so the rate counts people who can book, not tokens thrown away.

    served(now) = min(joined, anchor_served + freed + floor((now - anchor_at) * rate / 60))

(the last term is 0 while paused). A join into an empty queue re-anchors first, so the credit
of an idle queue does not let a crowd in at once; a change of rate or a pause re-anchors at the
moment of the change.

A poll on the Redis store is one script call and no database query; on PostgreSQL it reads the
queue's own rows. Neither reads or locks the event's row.
"""

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from waitingroom.models import Place, Queue


@dataclass(frozen=True)
class Standing:
    """Where a place stands now. `admission_expires_at` (unix seconds) is set once admitted."""

    number: int
    served: int
    joined: int
    rate: int
    paused: bool
    admitted_last_minute: int
    admission_expires_at: int | None
    created: bool = False

    @property
    def admitted(self) -> bool:
        return self.admission_expires_at is not None

    @property
    def position(self) -> int:
        return max(0, self.number - self.served)


@dataclass(frozen=True)
class QueueFigures:
    joined: int
    served: int
    admitted_last_minute: int

    @property
    def waiting(self) -> int:
        return self.joined - self.served


class QueueNotOpen(Exception):
    """The event has no queue turned on."""


def _ttl() -> int:
    return settings.QUEUE_ADMISSION_TTL_SECONDS


def served_at(*, joined, anchor_served, anchor_at, rate, paused, freed, now) -> int:
    """People served at `now` (seconds); the formula of the module's docstring."""
    advanced = 0 if paused or anchor_at is None else math.floor(max(0, now - anchor_at) * rate / 60)
    return min(joined, anchor_served + freed + advanced)


# --- Redis ---------------------------------------------------------------------------------

# Every script reads the time from Redis, so web servers with clocks apart agree on the counter.
# KEYS: cfg (hash), users (hash user -> number), pending (zset number -> expiry ms, admissions
# not yet used), issued (hash number -> expiry ms), log (zset number -> admitted at ms).
_COMMON = """
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function load(cfg)
  local v = redis.call('HMGET', cfg, 'enabled', 'rate', 'paused', 'joined', 'anchor_served',
                       'anchor_at', 'freed')
  if not v[1] then return nil end
  return {enabled = v[1] == '1', rate = tonumber(v[2]), paused = v[3] == '1',
          joined = tonumber(v[4] or '0'), anchor_served = tonumber(v[5] or '0'),
          anchor_at = tonumber(v[6] or '0'), freed = tonumber(v[7] or '0')}
end
local function sweep(q, cfg, pending, now)
  -- admissions that lapsed unused give their slot back
  local lapsed = redis.call('ZREMRANGEBYSCORE', pending, '-inf', now)
  if lapsed > 0 then
    q.freed = tonumber(redis.call('HINCRBY', cfg, 'freed', lapsed))
  end
end
local function served(q, now)
  local advanced = 0
  if not q.paused then advanced = math.floor((now - q.anchor_at) * q.rate / 60000) end
  return math.min(q.joined, q.anchor_served + q.freed + advanced)
end
local function standing(q, number, keys, now, ttl, created)
  if number > q.joined then
    -- a place from before Redis lost its keys: later arrivals queue behind it
    q.joined = number
    redis.call('HSET', keys[1], 'joined', number)
  end
  local s = served(q, now)
  local expires = false
  if number <= s then
    expires = redis.call('HGET', keys[4], number)
    if not expires then
      expires = now + ttl
      redis.call('HSET', keys[4], number, expires)
      redis.call('ZADD', keys[3], expires, number)
      redis.call('ZADD', keys[5], now, number)
    end
  end
  redis.call('ZREMRANGEBYSCORE', keys[5], '-inf', now - 60000)
  local last_minute = redis.call('ZCARD', keys[5])
  return {number, s, q.joined, q.rate, q.paused and 1 or 0, last_minute, expires, created}
end
"""

# With a sixth key and a limit of 0 or more (ARGV[3]), the caller's throttle counter for the
# window is counted first, as core.throttling counts it (INCR, EXPIRE ARGV[4] seconds when new),
# and a caller over the limit gets {-3} with the queue untouched: the WSGI fast path
# (waitingroom.fastpath) counts and joins, or counts and polls, in one round trip.
_COUNT_CALLER = """
local function over_limit()
  if not KEYS[6] or tonumber(ARGV[3]) < 0 then return false end
  local count = redis.call('INCR', KEYS[6])
  if count == 1 then redis.call('EXPIRE', KEYS[6], ARGV[4]) end
  return count > tonumber(ARGV[3])
end
"""

_JOIN = (
    _COMMON
    + _COUNT_CALLER
    + """
local q = load(KEYS[1])
if not q then return {-1} end
if not q.enabled then return {-2} end
if over_limit() then return {-3} end
local now = now_ms()
local ttl = tonumber(ARGV[2])
sweep(q, KEYS[1], KEYS[3], now)
local number = tonumber(redis.call('HGET', KEYS[2], ARGV[1]) or '0')
local created = 0
if number == 0 then
  if served(q, now) >= q.joined then
    -- an empty queue: start the rate from this arrival
    q.anchor_served = q.joined - q.freed
    q.anchor_at = now
    redis.call('HSET', KEYS[1], 'anchor_served', q.anchor_served, 'anchor_at', now)
  end
  number = tonumber(redis.call('HINCRBY', KEYS[1], 'joined', 1))
  q.joined = number
  redis.call('HSET', KEYS[2], ARGV[1], number)
  created = 1
end
return standing(q, number, KEYS, now, ttl, created)
"""
)

_POLL = (
    _COMMON
    + _COUNT_CALLER
    + """
local q = load(KEYS[1])
if not q then return {-1} end
if not q.enabled then return {-2} end
if over_limit() then return {-3} end
local now = now_ms()
sweep(q, KEYS[1], KEYS[3], now)
return standing(q, tonumber(ARGV[1]), KEYS, now, tonumber(ARGV[2]), 0)
"""
)

_CONFIGURE = (
    _COMMON
    + """
local now = now_ms()
local q = load(KEYS[1])
if q then
  sweep(q, KEYS[1], KEYS[3], now)
  local s = served(q, now)
  redis.call('HSET', KEYS[1], 'anchor_served', s - q.freed, 'anchor_at', now)
else
  redis.call('HSET', KEYS[1], 'joined', ARGV[4], 'anchor_served', ARGV[4], 'anchor_at', now,
             'freed', 0)
end
redis.call('HSET', KEYS[1], 'enabled', ARGV[1], 'rate', ARGV[2], 'paused', ARGV[3])
return 1
"""
)

_FIGURES = (
    _COMMON
    + """
local q = load(KEYS[1])
if not q then return {0, 0, 0} end
local now = now_ms()
sweep(q, KEYS[1], KEYS[3], now)
redis.call('ZREMRANGEBYSCORE', KEYS[5], '-inf', now - 60000)
return {q.joined, served(q, now), redis.call('ZCARD', KEYS[5])}
"""
)

_CONSUME = """
redis.call('ZREM', KEYS[1], ARGV[1])
return 1
"""

_clients: dict[str, object] = {}


def _redis():
    """One client (and connection pool) per process and URL; short timeouts, so an
    unreachable Redis is noticed in a second rather than a request's lifetime."""
    import redis

    client = _clients.get(settings.REDIS_URL)
    if client is None:
        client = redis.Redis.from_url(
            settings.REDIS_URL, socket_timeout=1, socket_connect_timeout=1
        )
        client.waitingroom_scripts = {
            name: client.register_script(source)
            for name, source in (
                ("join", _JOIN),
                ("poll", _POLL),
                ("configure", _CONFIGURE),
                ("figures", _FIGURES),
                ("consume", _CONSUME),
            )
        }
        _clients[settings.REDIS_URL] = client
    return client


def _keys(event_id) -> list[str]:
    # One hash tag per event, so a Redis Cluster keeps an event's keys on one node.
    base = f"evently:wr:{{{event_id}}}:"
    return [base + name for name in ("cfg", "users", "pending", "issued", "log")]


def _standing(reply) -> Standing:
    number, served, joined, rate, paused, last_minute, expires, created = reply
    return Standing(
        number=int(number),
        served=int(served),
        joined=int(joined),
        rate=int(rate),
        paused=bool(int(paused)),
        admitted_last_minute=int(last_minute),
        admission_expires_at=int(expires) // 1000 if expires else None,
        created=bool(int(created)),
    )


class RedisStore:
    name = "redis"

    def _run(self, script, event_id, args, *more_keys):
        keys = [*_keys(event_id), *more_keys]
        return _redis().waitingroom_scripts[script](keys=keys, args=args)

    def _load(self, event_id) -> None:
        """Redis has no state for this queue (never configured there, or its keys were lost):
        seed it from the queue's row."""
        queue = Queue.objects.filter(event_id=event_id).first()
        if queue is None or not queue.enabled:
            raise QueueNotOpen()
        self.configure(queue)

    def join(self, *, event_id, user_id) -> Standing:
        for _ in range(2):
            reply = self._run("join", event_id, [str(user_id), _ttl() * 1000])
            if reply[0] == -2:
                raise QueueNotOpen()
            if reply[0] != -1:
                return _standing(reply)
            self._load(event_id)
        raise QueueNotOpen()

    def poll(self, *, event_id, number: int) -> Standing:
        for _ in range(2):
            reply = self._run("poll", event_id, [number, _ttl() * 1000])
            if reply[0] == -2:
                raise QueueNotOpen()
            if reply[0] != -1:
                return _standing(reply)
            self._load(event_id)
        raise QueueNotOpen()

    def join_counted(self, *, event_id, user_id, counter: str, limit: int, window: int):
        """A join with the caller's throttle counted in the same script call (`counter`, the
        throttle's Redis key; at most `limit` a `window` of seconds). None when Redis alone
        cannot answer: no state there for this queue (`join` seeds it from the row), the queue
        off, or the caller over the limit (the queue is not touched then)."""
        return self._counted("join", event_id, str(user_id), counter, limit, window)

    def poll_counted(self, *, event_id, number: int, counter: str, limit: int, window: int):
        """A poll with the caller's throttle counted, as `join_counted` counts a join."""
        return self._counted("poll", event_id, number, counter, limit, window)

    def _counted(self, script, event_id, subject, counter, limit, window) -> Standing | None:
        reply = self._run(script, event_id, [subject, _ttl() * 1000, limit, window], counter)
        return _standing(reply) if reply[0] >= 0 else None

    def configure(self, queue: Queue) -> None:
        self._run(
            "configure",
            queue.event_id,
            [int(queue.enabled), queue.rate, int(queue.paused), queue.joined],
        )

    def figures(self, *, event_id) -> QueueFigures:
        joined, served, last_minute = self._run("figures", event_id, [])
        return QueueFigures(int(joined), int(served), int(last_minute))

    def consume(self, *, event_id, number: int) -> None:
        _redis().waitingroom_scripts["consume"](keys=[_keys(event_id)[2]], args=[number])


# --- PostgreSQL ----------------------------------------------------------------------------


def _seconds(moment: datetime | None) -> float | None:
    return moment.timestamp() if moment else None


def _db_counts(queue: Queue, now: datetime) -> tuple[int, int]:
    """(freed, admitted in the last minute) from the queue's places: one query."""
    counts = Place.objects.filter(queue=queue).aggregate(
        freed=Count("pk", filter=Q(booked_at__isnull=True, admission_expires_at__lte=now)),
        last_minute=Count("pk", filter=Q(admitted_at__gt=now - timedelta(minutes=1))),
    )
    return counts["freed"], counts["last_minute"]


def _db_served(queue: Queue, freed: int, now: datetime) -> int:
    return served_at(
        joined=queue.joined,
        anchor_served=queue.anchor_served,
        anchor_at=_seconds(queue.anchor_at),
        rate=queue.rate,
        paused=queue.paused,
        freed=freed,
        now=now.timestamp(),
    )


class DatabaseStore:
    """Without Redis: the queue's own rows. Joining takes the next number with an UPDATE of
    the queue's row (joins take turns there; polls never write it)."""

    name = "database"

    def _open_queue(self, event_id, *, lock: bool = False) -> Queue:
        rows = Queue.objects.filter(event_id=event_id, enabled=True)
        queue = (rows.select_for_update() if lock else rows).first()
        if queue is None:
            raise QueueNotOpen()
        return queue

    def _standing(self, queue: Queue, place: Place, now: datetime, created=False) -> Standing:
        freed, last_minute = _db_counts(queue, now)
        served = _db_served(queue, freed, now)
        if place.number <= served and place.admission_expires_at is None:
            expires = now + timedelta(seconds=_ttl())
            expires = expires.replace(microsecond=0)
            updated = Place.objects.filter(pk=place.pk, admission_expires_at__isnull=True).update(
                admitted_at=now, admission_expires_at=expires
            )
            if updated:
                place.admission_expires_at = expires
                last_minute += 1
            else:
                place.refresh_from_db(fields=["admission_expires_at"])
        expires_at = place.admission_expires_at
        return Standing(
            number=place.number,
            served=served,
            joined=queue.joined,
            rate=queue.rate,
            paused=queue.paused,
            admitted_last_minute=last_minute,
            admission_expires_at=int(expires_at.timestamp()) if expires_at else None,
            created=created,
        )

    def join(self, *, event_id, user_id) -> Standing:
        now = timezone.now()
        place = Place.objects.filter(queue_id=event_id, user_id=user_id).first()
        if place is not None:
            return self._standing(self._open_queue(event_id), place, now)
        with transaction.atomic():
            queue = self._open_queue(event_id, lock=True)
            place = Place.objects.filter(queue=queue, user_id=user_id).first()
            created = place is None
            if created:
                freed, _ = _db_counts(queue, now)
                if _db_served(queue, freed, now) >= queue.joined:
                    queue.anchor_served, queue.anchor_at = queue.joined - freed, now
                queue.joined += 1
                queue.save(update_fields=["joined", "anchor_served", "anchor_at", "updated_at"])
                place = Place.objects.create(queue=queue, user_id=user_id, number=queue.joined)
        return self._standing(queue, place, now, created=created)

    def poll(self, *, event_id, number: int) -> Standing:
        queue = self._open_queue(event_id)
        place = Place.objects.filter(queue=queue, number=number).first()
        if place is None:
            raise QueueNotOpen()
        return self._standing(queue, place, timezone.now())

    def configure(self, queue: Queue) -> None:
        """Re-anchor the counter at this moment; the caller holds the queue's row locked and
        saves it."""
        now = timezone.now()
        freed, _ = _db_counts(queue, now)
        before = Queue.objects.get(pk=queue.pk)
        served = _db_served(before, freed, now) if before.anchor_at else before.joined
        queue.anchor_served, queue.anchor_at = served - freed, now

    def figures(self, *, event_id) -> QueueFigures:
        queue = Queue.objects.filter(event_id=event_id).first()
        if queue is None:
            return QueueFigures(0, 0, 0)
        now = timezone.now()
        freed, last_minute = _db_counts(queue, now)
        return QueueFigures(queue.joined, _db_served(queue, freed, now), last_minute)

    def consume(self, *, event_id, number: int) -> None:
        Place.objects.filter(queue_id=event_id, number=number, booked_at__isnull=True).update(
            booked_at=timezone.now()
        )


def store():
    return RedisStore() if settings.REDIS_URL else DatabaseStore()


def utc_from_seconds(value: int | None) -> datetime | None:
    return datetime.fromtimestamp(value, tz=UTC) if value is not None else None
