"""The public list counts its events from the day summary (events.ScheduledDay): every write
keeps the summary exact, and the count equals a plain COUNT(*) whatever the time of day."""

import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.db import IntegrityError, transaction

from bookings.services import booking_create
from boxoffice.services import event_cancel, event_delete, event_update
from events.models import Event, ScheduledDay
from events.services import event_create
from events.summary import rebuild_scheduled_days
from tests.concurrency import run_concurrently
from tests.factories import AdminFactory, EventFactory, UserFactory

pytestmark = pytest.mark.django_db

NOON = datetime(2031, 5, 10, 12, 0, tzinfo=UTC)


def at(days: int, hour: int, minute: int = 0) -> datetime:
    """A time `days` after NOON's day, at hour:minute UTC."""
    return NOON.replace(hour=hour, minute=minute) + timedelta(days=days)


def summary() -> dict:
    return {day: n for day, n in ScheduledDay.objects.values_list("day", "events") if n}


def assert_summary_matches_a_rebuild() -> None:
    kept = summary()
    with transaction.atomic():
        rebuild_scheduled_days()
        rebuilt = summary()
        transaction.set_rollback(True)
    assert kept == rebuilt


def plain_count() -> int:
    return Event.objects.filter(
        status=Event.Status.SCHEDULED, event_time__gt=datetime.now(UTC)
    ).count()


def listed_count(api, query: str = "") -> int:
    response = api.get(f"/api/events?limit=0&{query}")
    assert response.status_code == 200, response.content
    return response.json()["count"]


def create(admin, when: datetime) -> Event:
    return event_create(
        created_by=admin,
        name="Gig",
        venue="Main Hall",
        event_time=when,
        total_capacity=5,
        price=Decimal("10.00"),
    )


@pytest.fixture
def noon():
    with time_machine.travel(NOON, tick=False) as traveller:
        yield traveller


def test_count_follows_creates_cancels_deletes_and_moves(anon_api, admin_user, noon):
    later_today = create(admin_user, at(0, 18))
    tomorrow = create(admin_user, at(1, 9))
    next_week = create(admin_user, at(7, 20))
    far = create(admin_user, at(40, 10))
    assert listed_count(anon_api) == plain_count() == 4

    event_update(event_id=tomorrow.pk, actor=admin_user, changes={"event_time": at(3, 9)})
    event_update(event_id=later_today.pk, actor=admin_user, changes={"event_time": at(9, 1)})
    event_update(event_id=far.pk, actor=admin_user, changes={"event_time": at(0, 23, 59)})
    event_update(event_id=next_week.pk, actor=admin_user, changes={"event_time": at(7, 8)})
    assert listed_count(anon_api) == plain_count() == 4
    assert summary() == {at(days, 0).date(): 1 for days in (0, 3, 7, 9)}

    event_cancel(event_id=next_week.pk, actor=admin_user)
    assert listed_count(anon_api) == plain_count() == 3
    event_delete(event_id=next_week.pk, actor=admin_user)  # cancelled: no longer counted
    event_delete(event_id=far.pk, actor=admin_user)
    booking_create(event_id=tomorrow.pk, user=UserFactory(), quantity=1)
    assert event_delete(event_id=tomorrow.pk, actor=admin_user) == "cancelled"
    assert listed_count(anon_api) == plain_count() == 1
    assert_summary_matches_a_rebuild()


def test_events_earlier_today_that_have_started_are_not_counted(anon_api, admin_user, noon):
    create(admin_user, at(0, 13))
    create(admin_user, at(0, 20))
    create(admin_user, at(1, 9))
    create(admin_user, at(5, 9))
    EventFactory(event_time=at(0, 11))  # started an hour ago
    assert listed_count(anon_api) == plain_count() == 4

    noon.move_to(at(0, 16))
    assert listed_count(anon_api) == plain_count() == 3
    noon.move_to(at(1, 10))  # the next day: yesterday's row and this morning's event are past
    assert listed_count(anon_api) == plain_count() == 1
    noon.move_to(at(6, 0))
    assert listed_count(anon_api) == plain_count() == 0


def test_past_and_cancelled_factory_events_are_not_counted(anon_api, noon):
    EventFactory(event_time=at(-3, 10))
    EventFactory(event_time=at(2, 10), status=Event.Status.CANCELLED)
    EventFactory(event_time=at(2, 11))
    assert listed_count(anon_api) == plain_count() == 1
    assert_summary_matches_a_rebuild()


@pytest.fixture
def spread(noon):
    """Events at midnight, early morning and late evening of each of 12 days from today."""
    for days in range(12):
        for hour, minute in ((0, 0), (6, 30), (23, 59)):
            EventFactory(event_time=at(days, hour, minute))


@pytest.mark.parametrize(
    "window",
    [
        {},
        {"starts_after": at(3, 0)},  # exactly midnight, which is included
        {"starts_after": at(3, 0, 1)},
        {"starts_after": at(-5, 0)},  # before now: now is the bound
        {"starts_before": at(5, 0)},  # exactly midnight, which is included
        {"starts_before": at(5, 23, 59)},
        {"starts_before": at(0, 23, 0)},  # within today
        {"starts_after": at(2, 6, 30), "starts_before": at(9, 6, 30)},
        {"starts_after": at(2, 7), "starts_before": at(3, 7)},  # two days, none whole
        {"starts_after": at(4, 1), "starts_before": at(4, 23)},  # one day
        {"starts_after": at(8, 0), "starts_before": at(2, 0)},  # reversed: nothing
        {"starts_after": "9999-12-31T23:59:00-05:00"},  # clamped to the last day there is
        {"starts_before": "9999-12-31T23:59:00-05:00"},
        {"starts_after": at(1, 2), "starts_before": at(6, 0), "ordering": "-price"},
    ],
)
def test_time_window_counts_equal_a_plain_count(anon_api, spread, window):
    query = "&".join(
        f"{k}={v.isoformat() if isinstance(v, datetime) else v}" for k, v in window.items()
    ).replace("+", "%2B")
    # Any other filter, here one every event matches, takes the plain COUNT(*).
    assert listed_count(anon_api, query) == listed_count(anon_api, f"{query}&venue=Main")
    if not window:
        assert listed_count(anon_api) == plain_count() == 36 - 2  # today's first two are past


def test_summary_equals_a_rebuild_after_a_mixed_sequence(anon_api, admin_user, noon):
    rng = random.Random(7)
    events = []
    for _ in range(60):
        action = rng.choice(["create", "create", "factory", "move", "cancel", "delete"])
        when = at(rng.randint(0, 6), rng.randint(13, 23), rng.randint(0, 59))
        if action == "create" or not events:
            events.append(create(admin_user, when))
        elif action == "factory":
            status = rng.choice(list(Event.Status))
            events.append(EventFactory(event_time=when - timedelta(days=3), status=status))
        else:
            event = rng.choice(events)
            event.refresh_from_db()
            if action == "move" and event.status == Event.Status.SCHEDULED:
                event_update(event_id=event.pk, actor=admin_user, changes={"event_time": when})
            elif action == "cancel":
                event_cancel(event_id=event.pk, actor=admin_user)
            elif action == "delete":
                event_delete(event_id=event.pk, actor=admin_user)
                events.remove(event)
    assert_summary_matches_a_rebuild()
    assert listed_count(anon_api) == plain_count() > 0


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_creates_on_one_day_all_count(anon_api):
    admin = AdminFactory()
    when = datetime.now(UTC) + timedelta(days=10)
    results = run_concurrently([lambda: create(admin, when)] * 8)
    assert all(isinstance(r, Event) for r in results), results
    assert summary() == {when.date(): 8}
    assert listed_count(anon_api) == 8


def test_rebuild_counts_events_written_without_the_services(noon):
    EventFactory.create_batch(3, event_time=at(2, 10))
    ScheduledDay.objects.all().delete()  # as if the events had been inserted with SQL
    rebuild_scheduled_days()
    assert summary() == {at(2, 0).date(): 3}


def test_a_day_never_counts_below_zero(noon):
    event = EventFactory(event_time=at(2, 10))
    ScheduledDay.objects.update(events=0)
    with pytest.raises(IntegrityError), transaction.atomic():
        event_cancel(event_id=event.pk, actor=None)


def test_a_missing_day_fails_loudly(noon):
    event = EventFactory(event_time=at(2, 10))
    ScheduledDay.objects.all().delete()
    with pytest.raises(IntegrityError, match="rebuild_scheduled_days"), transaction.atomic():
        event_delete(event_id=event.pk, actor=None)
