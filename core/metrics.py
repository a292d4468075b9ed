"""Every Prometheus metric Evently defines, and the state read from the database at scrape time.

`GET /metrics` (evently.views.metrics) serves them. Names follow Prometheus' naming guide:
the `evently_` prefix, base units in the name, `_total` on counters, and no label whose values
grow without bound (no user or event id; the waiting room's queue gauge is capped).

Under gunicorn every worker is a process of its own: prometheus-client's multiprocess mode
keeps each process's values in files in PROMETHEUS_MULTIPROC_DIR, and the scrape sums them.
gunicorn.conf.py creates and wipes that directory when the master starts; a worker that exits
(recycled by `max_requests`) leaves its files, so what it counted stays in the sums.

A counter of something that writes counts only what committed: `on_commit` adds to it when the
transaction commits (at once outside one), never for a rollback. Refusals (`counts_outcomes`)
count when the service has returned or raised.

With METRICS_TOKEN empty, metrics are off: every metric here records nothing, the request
middleware is not installed and /metrics is a 404. The bench compares the two.
"""

import contextlib
import functools
import logging
import os
import re
import time
from collections.abc import Callable
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import MiddlewareNotUsed
from django.db import DatabaseError, transaction
from django.db.models import Count, Min
from django.utils import timezone

from core.exceptions import DomainError

logger = logging.getLogger(__name__)

ENABLED = bool(settings.METRICS_TOKEN)

# Lock waits, request times: a millisecond to the lock timeout's default (5 s) and beyond.
SECONDS_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)


class _Off:
    """A metric that records nothing (metrics are off): the same calls, no cost but the call."""

    def __init__(self, *args, **kwargs):
        pass

    def labels(self, *args, **kwargs):
        return self

    def inc(self, amount: float = 1) -> None:
        pass

    def observe(self, amount: float) -> None:
        pass


if ENABLED:
    from prometheus_client import Counter, Histogram
else:
    Counter = Histogram = _Off

# --- Requests (core.middleware.RequestMetricsMiddleware) -------------------------------------
REQUESTS = Counter(
    "evently_http_requests_total",
    "HTTP requests answered, by method, route (the URL pattern, never the path) and status.",
    ["method", "route", "status"],
)
REQUEST_SECONDS = Histogram(
    "evently_http_request_duration_seconds",
    "Time from the request reaching Django to its response, by route.",
    ["route"],
    buckets=SECONDS_BUCKETS,
)
THROTTLED = Counter(
    "evently_throttled_requests_total",
    "Requests refused with 429, by throttle scope (login, anon, user).",
    ["scope"],
)
DATABASE_UNAVAILABLE = Counter(
    "evently_database_unavailable_responses_total",
    "Requests answered 503 database_unavailable: the database could not be reached.",
)

# --- Bookings ---------------------------------------------------------------------------------
BOOKINGS = Counter(
    "evently_bookings_total",
    "Committed results of POST /api/bookings: booked, waitlisted, pending_payment.",
    ["result"],
)
BOOKING_CONFLICTS = Counter(
    "evently_booking_conflicts_total",
    "Bookings, cancels and waitlist moves refused with 409, by problem code.",
    ["code"],
)
SEAT_LOCK_WAIT = Histogram(
    "evently_seat_lock_wait_seconds",
    "Time to get an event's row lock: SELECT ... FOR UPDATE, or the plain booking's one "
    "statement that takes the seats under it (the wait is most of it under contention).",
    buckets=SECONDS_BUCKETS,
)
OFFERS = Counter(
    "evently_waitlist_offers_total",
    "Waitlist offers by outcome: made, accepted, declined, expired.",
    ["outcome"],
)
CHECKINS = Counter(
    "evently_checkins_total",
    "Ticket scans at the door by result: admitted, or the problem code of the refusal.",
    ["result"],
)

# --- Money: emitted by checkout ---------------------------------------------------------------
PAYMENTS = Counter(
    "evently_payments_total",
    "Payments by final status (confirmed, rejected, error), counted when checkout records it.",
    ["status"],
)
CHECKOUTS = Counter(
    "evently_checkouts_total",
    "Checkouts (bookings held while their buyer pays) by outcome: started, expired.",
    ["outcome"],
)
REFUNDS = Counter(
    "evently_refunds_total",
    "Refunds by final status (refunded, error), counted when checkout records it.",
    ["status"],
)

# The hot path's labelled children, resolved once.
BOOKED = BOOKINGS.labels(result="booked")
WAITLISTED = BOOKINGS.labels(result="waitlisted")


def on_commit(metric, amount: float = 1) -> None:
    """Add `amount` to `metric` (a counter, labelled) once the current transaction commits."""
    if ENABLED and amount:
        transaction.on_commit(functools.partial(metric.inc, amount))


class _SeatLockWait:
    """Times its block into SEAT_LOCK_WAIT (a class: a generator-based context manager costs
    several times the instructions, on every booking)."""

    __slots__ = ("started",)

    def __enter__(self) -> None:
        self.started = time.perf_counter()

    def __exit__(self, *exc_info) -> None:
        SEAT_LOCK_WAIT.observe(time.perf_counter() - self.started)


def seat_lock_wait():
    """A context manager timing its block as a wait for an event's row lock."""
    return _SeatLockWait() if ENABLED else contextlib.nullcontext()


def counts_outcomes(counter, *, success: str | None = None, conflicts_only: bool = False):
    """Decorate a service: each refusal it raises adds one to `counter` labelled with its
    problem code (only 409s with `conflicts_only`), and with `success`, each return adds one
    labelled with it. A lock timeout counts as `busy`, the code the API answers."""

    def decorate(service: Callable) -> Callable:
        if not ENABLED:
            return service

        @functools.wraps(service)
        def counted(*args, **kwargs):
            try:
                result = service(*args, **kwargs)
            except DomainError as exc:
                if not conflicts_only or exc.status == 409:
                    counter.labels(exc.code).inc()
                raise
            except DatabaseError as exc:
                if getattr(exc.__cause__, "sqlstate", None) == "55P03":  # lock_timeout
                    counter.labels("busy").inc()
                raise
            if success is not None:
                counter.labels(success).inc()
            return result

        return counted

    return decorate


# --- State read at scrape time ----------------------------------------------------------------
# Each app that owns such state registers a function here (in its AppConfig.ready); the scrape
# calls them, so their cost is paid every scrape interval, not on any request.

# name ("email", "webhooks") -> () -> (items not yet sent, seconds the oldest due one waits)
OUTBOXES: dict[str, Callable[[], tuple[int, float]]] = {}
# () -> (deliveries being retried, deliveries given up on in the last WEBHOOK_GIVEN_UP_WINDOW)
WEBHOOK_FAILURES: list[Callable[[], tuple[int, int]]] = []
# Given up stays counted this long (the gauge's help says so): long enough for an alert's
# `for` to see it, and then it clears by itself, though the failed rows are kept.
WEBHOOK_GIVEN_UP_WINDOW = timedelta(hours=1)
# () -> (offers held past their deadline, seconds the most overdue one is past it)
OVERDUE_OFFERS: list[Callable[[], tuple[int, float]]] = []
# () -> {event id: people queued}, for the waiting room's queues
QUEUE_LENGTHS: list[Callable[[], dict[str, int]]] = []
# The queue gauge names the longest queues only; the rest add up under event="other".
QUEUE_EVENTS_SHOWN = 20


def count_and_age(rows, *, since: str, now: datetime | None = None) -> tuple[int, float]:
    """(how many `rows`, seconds since the earliest `since` among them, never negative), in
    one query: the shape of every backlog gauge (an outbox, the offers past their deadline)."""
    now = now or timezone.now()
    found = rows.aggregate(count=Count("pk"), first=Min(since))
    first = found["first"]
    return found["count"], max(0.0, (now - first).total_seconds()) if first else 0.0


def register_outbox(name: str, state: Callable[[], tuple[int, float]]) -> None:
    OUTBOXES[name] = state


def register_webhook_failures(state: Callable[[], tuple[int, int]]) -> None:
    WEBHOOK_FAILURES[:] = [state]


def register_overdue_offers(state: Callable[[], tuple[int, float]]) -> None:
    OVERDUE_OFFERS[:] = [state]


def register_queue_lengths(state: Callable[[], dict[str, int]]) -> None:
    QUEUE_LENGTHS[:] = [state]


class StateCollector:
    """The gauges read from the database when Prometheus scrapes: outbox backlogs and ages,
    failing webhook deliveries, overdue offers, queue lengths, and whether the database
    answered at all."""

    def collect(self):
        from prometheus_client.core import GaugeMetricFamily

        up = 1
        backlog = GaugeMetricFamily(
            "evently_outbox_backlog", "Outbox items not yet sent, by outbox.", labels=["outbox"]
        )
        age = GaugeMetricFamily(
            "evently_outbox_oldest_age_seconds",
            "Seconds the oldest item that is due to be sent has waited, by outbox.",
            labels=["outbox"],
        )
        failing = GaugeMetricFamily(
            "evently_webhook_failed_deliveries",
            "Webhook deliveries whose last try failed, by state: retrying (to be tried again) "
            "and given_up (tries used up, in the last hour); a disabled endpoint's are left "
            "out.",
            labels=["state"],
        )
        overdue = GaugeMetricFamily(
            "evently_waitlist_overdue_offers",
            "Offers still holding seats past their deadline (the expiry loop frees them).",
        )
        overdue_age = GaugeMetricFamily(
            "evently_waitlist_overdue_offer_seconds",
            "Seconds the most overdue offer is past its deadline (0 when none is).",
        )
        queue = GaugeMetricFamily(
            "evently_waiting_room_queue_length",
            f"People queued, for the {QUEUE_EVENTS_SHOWN} longest queues; the rest under "
            'event="other".',
            labels=["event"],
        )
        try:
            for name, state in sorted(OUTBOXES.items()):
                items, seconds = state()
                backlog.add_metric([name], items)
                age.add_metric([name], seconds)
            for state in WEBHOOK_FAILURES:
                retrying, given_up = state()
                failing.add_metric(["retrying"], retrying)
                failing.add_metric(["given_up"], given_up)
            for state in OVERDUE_OFFERS:
                count, seconds = state()
                overdue.add_metric([], count)
                overdue_age.add_metric([], seconds)
            for state in QUEUE_LENGTHS:
                for event, length in capped(state(), QUEUE_EVENTS_SHOWN):
                    queue.add_metric([event], length)
        except DatabaseError:
            logger.warning("metrics: the database did not answer the scrape's queries")
            up = 0
        else:
            yield from (backlog, age, failing, overdue, overdue_age, queue)
        yield GaugeMetricFamily(
            "evently_database_up",
            "1 when the scrape's queries were answered by the database, 0 when they failed.",
            value=up,
        )


def capped(lengths: dict[str, int], shown: int) -> list[tuple[str, int]]:
    """The `shown` largest entries, and the sum of the others as "other" (when there are any)."""
    ranked = sorted(lengths.items(), key=lambda item: (-item[1], item[0]))
    rest = ranked[shown:]
    return [*ranked[:shown], *([("other", sum(n for _, n in rest))] if rest else [])]


# --- Requests ---------------------------------------------------------------------------------
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


@functools.lru_cache(maxsize=512)
def route_label(route: str) -> str:
    """A URL pattern as a label: `api/bookings/(?P<pk>[^/.]+)/cancel/?$` reads
    `api/bookings/<pk>/cancel`. Patterns are few and fixed, so the values are too."""
    label = re.sub(r"\(\?P<(\w+)>[^)]*\)", r"<\1>", route.lstrip("^"))
    return re.sub(r"/?\??\$$", "", label).rstrip("/") or "/"


class RequestMetricsMiddleware:
    """Counts and times every request by its route: the pattern it matched (or `unmatched`),
    never the raw path, so ids and typos in URLs add no label values."""

    def __init__(self, get_response):
        if not ENABLED:
            raise MiddlewareNotUsed("METRICS_TOKEN is empty: metrics are off")
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        match = request.resolver_match
        count_request(
            request.method,
            match.route if match is not None else "unmatched",
            response.status_code,
            time.perf_counter() - started,
        )
        return response


# The labelled metrics of each (method, route, status) seen, resolved once: `labels()` checks
# and joins its values on every call, the costliest part of counting a request. The keys are as
# few as the label values: routes are the URL patterns, unknown methods are "other", statuses
# are HTTP's.
_request_children: dict = {}


def count_request(method: str, route: str, status: int, seconds: float) -> None:
    """Count and time one request answered on `route` (its URL pattern, or "unmatched"):
    RequestMetricsMiddleware for every request Django answers, waitingroom.fastpath for the
    joins and polls it answers before Django."""
    key = (method if method in _METHODS else "other", route, status)
    children = _request_children.get(key)
    if children is None:
        children = _request_children[key] = _labelled(*key)
    duration, count = children
    duration.observe(seconds)
    count.inc()


def _labelled(method: str, route: str, status: int):
    label = route_label(route) if route != "unmatched" else route
    return REQUEST_SECONDS.labels(label), REQUESTS.labels(method, label, str(status))


def exposition() -> tuple[bytes, str]:
    """(body, content type) of a scrape: every process's metrics and the state collected now."""
    from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
    from prometheus_client.multiprocess import MultiProcessCollector

    state = CollectorRegistry(auto_describe=False)
    state.register(StateCollector())
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        processes = CollectorRegistry(auto_describe=False)
        MultiProcessCollector(processes)
        body = generate_latest(processes)
    else:  # one process (runserver, a test): its own registry
        body = generate_latest(REGISTRY) if ENABLED else b""
    return body + generate_latest(state), CONTENT_TYPE_LATEST
