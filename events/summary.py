"""Keeps events.ScheduledDay exact, and counts upcoming events with it.

The services call `scheduled_event_added`, `_removed` and `_moved` inside the transactions that
create, delete or cancel an event or move its time, so each UTC day's row always equals the
scheduled events on that day. A count then reads a row per whole day instead of a row per event.
"""

from collections import Counter
from datetime import UTC, date, datetime, time, timedelta

from django.apps import apps as global_apps
from django.apps.registry import Apps
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, Func, IntegerField, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce, TruncDate

from core import locks
from events.models import Event, ScheduledDay

ONE_DAY = timedelta(days=1)

_TABLE = ScheduledDay._meta.db_table
# One statement creates the day's row or adds to it, so concurrent creates never lose a count.
_ADD = (
    f"INSERT INTO {_TABLE} (day, events) VALUES (%s, %s) "
    f"ON CONFLICT (day) DO UPDATE SET events = {_TABLE}.events + excluded.events"
)
# Not an upsert: the row an INSERT proposes must pass the CHECK even when it then conflicts.
# The day's row exists, since the event being removed was counted in it.
_SUBTRACT = f"UPDATE {_TABLE} SET events = events - %s WHERE day = %s"


def utc_day(moment: datetime) -> date:
    return moment.astimezone(UTC).date()


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def _change(deltas: Counter) -> None:
    locks.acquire(locks.DAY_TOTALS)
    with connection.cursor() as cursor:
        for day, delta in sorted(deltas.items()):  # fixed order: no deadlocks
            value = connection.ops.adapt_datefield_value(day)
            if delta > 0:
                cursor.execute(_ADD, [value, delta])
            elif delta < 0:
                cursor.execute(_SUBTRACT, [-delta, value])
                if cursor.rowcount != 1:
                    raise IntegrityError(
                        f"{_TABLE} has no row for {day}: repair it with "
                        "events.summary.rebuild_scheduled_days()"
                    )


def scheduled_event_added(event_time: datetime) -> None:
    _change(Counter({utc_day(event_time): 1}))


def scheduled_event_removed(event_time: datetime) -> None:
    _change(Counter({utc_day(event_time): -1}))


def scheduled_event_moved(old_time: datetime, new_time: datetime) -> None:
    deltas = Counter({utc_day(new_time): 1})
    deltas[utc_day(old_time)] -= 1
    _change(deltas)


def rebuild_scheduled_days(apps: Apps = global_apps) -> None:
    """Recount every day from the events table.

    For the migration that added the summary (which passes its historical `apps`), after events
    were written with SQL (the benchmark's bulk inserts), or to repair the summary. Exact even
    while others write: on PostgreSQL the events table takes no writes until this commits.
    """
    event_model = apps.get_model("events", "Event")
    day_model = apps.get_model("events", "ScheduledDay")
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(f"LOCK TABLE {event_model._meta.db_table} IN SHARE MODE")
        day_model.objects.all().delete()
        days = (
            event_model.objects.filter(status="scheduled")
            .values(day=TruncDate("event_time", tzinfo=UTC))
            .annotate(events=Count("*"))
            .order_by("day")
        )
        day_model.objects.bulk_create(day_model(**row) for row in days)


def count_scheduled(events: QuerySet[Event], *, since: datetime, until: datetime | None) -> int:
    """`events.count()`, reading the whole days in the middle from the summary.

    `events` must be the scheduled events whose event_time falls in a window from `since` to
    `until` (None: no end), bounds included or not, narrowed by nothing else. Every UTC day
    strictly between the days of `since` and `until` then lies wholly inside the window, so
    its events are its summary row; those of the two boundary days are counted one by one (a
    range scan of the upcoming index over at most two days). One query, so one snapshot.
    """
    first_day = utc_day(since)
    last_day = utc_day(until) if until is not None else None
    if first_day == date.max or (last_day is not None and last_day - first_day <= ONE_DAY):
        return events.count()  # no whole day in between
    days = ScheduledDay.objects.filter(day__gt=first_day)
    boundary_days = Q(event_time__lt=_day_start(first_day + ONE_DAY))
    if last_day is not None:
        days = days.filter(day__lt=last_day)
        boundary_days |= Q(event_time__gte=_day_start(last_day))
    whole_days = days.order_by().values(total=Func("events", function="SUM"))
    return events.filter(boundary_days).aggregate(
        count=Count("*") + Coalesce(Subquery(whole_days), 0, output_field=IntegerField())
    )["count"]
