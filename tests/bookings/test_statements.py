"""The booking path's hand-written statements give what the ORM code they replace gives."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import transaction
from django.db.models import Exists, F, IntegerField, OuterRef, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.forms.models import model_to_dict
from django.utils import timezone
from psycopg._queries import MAX_CACHED_STATEMENT_PARAMS

from accounts.models import User
from bookings import services, statements
from bookings.models import Booking, SalesDay
from bookings.services import booking_cancel, booking_confirm, booking_create, lock_buyer
from core.exceptions import NotFound
from events.models import Event
from events.seats import lock_event
from notifications.models import Notification
from tests.factories import EventFactory, UserFactory
from tests.invariants import assert_books_balance
from waitlist.models import ACTIVE_STATUSES, WaitlistEntry

pytestmark = pytest.mark.django_db


def _sum(queryset):
    total = queryset.order_by().values("event").annotate(n=Sum("quantity")).values("n")
    return Coalesce(Subquery(total, output_field=IntegerField()), Value(0))


def claims_by_orm(event_id, user: User):
    """What `statements.event_claims` replaces, in the ORM."""
    mine = {"event": OuterRef("pk"), "user": user}
    return (
        Event.objects.filter(pk=event_id)
        .annotate(
            tickets_held=_sum(Booking.objects.filter(**mine, status="confirmed")),
            tickets_pending=_sum(WaitlistEntry.objects.filter(**mine, status__in=ACTIVE_STATUSES)),
            account_active=Exists(User.objects.filter(pk=user.pk, is_active=True)),
        )
        .first()
    )


def _claims(event):
    fields = {f.attname: getattr(event, f.attname) for f in Event._meta.concrete_fields}
    return fields, (event.tickets_held, event.tickets_pending, event.account_active)


def test_event_claims_equal_the_orm_query_in_every_case():
    ann, bob = UserFactory(), UserFactory()
    sold = EventFactory(total_capacity=3)
    other = EventFactory(total_capacity=10)
    booking_create(event_id=sold.pk, user=ann, quantity=2)
    kept = booking_create(event_id=other.pk, user=ann, quantity=3).booking
    dropped = booking_create(event_id=other.pk, user=ann, quantity=4).booking
    booking_cancel(booking_id=dropped.pk, actor=ann)
    booking_create(event_id=sold.pk, user=bob, quantity=1)
    booking_create(event_id=sold.pk, user=ann, quantity=2)  # waits for 2
    assert kept.status == "confirmed"
    disabled = UserFactory(is_active=False)

    for event in (sold, other):
        for user in (ann, bob, disabled):
            fast = statements.event_claims(event.pk, user.pk)
            assert _claims(fast) == _claims(claims_by_orm(event.pk, user)), (event, user)
    assert _claims(statements.event_claims(sold.pk, ann.pk))[1] == (2, 2, True)
    assert statements.event_claims(sold.pk, disabled.pk).account_active is False
    assert statements.event_claims(EventFactory.build().pk, ann.pk) is None


def _book_through_orm(event, user, quantity):
    """The locked path: the ORM's INSERTs and the seat ledger's UPDATE."""
    with transaction.atomic():
        lock_buyer(user)
        locked = lock_event(event.pk)
        (ticket_type,) = locked.locked_types.values()
        return booking_confirm(
            event=locked, user=user, lines=[(ticket_type, quantity)], from_held=False
        )


def _rows(booking):
    """The booking, its notification and the event's counters, less what differs by nature
    (ids, the person, the moment)."""
    row = model_to_dict(Booking.objects.get(pk=booking.pk), exclude=["id", "event", "user"])
    del row["booking_time"]  # not editable: model_to_dict leaves created/updated_at out
    notification = Notification.objects.get(user=booking.user, type="booking_confirmed")
    note = model_to_dict(notification, exclude=["id", "event", "user", "email_next_attempt_at"])
    note["message"] = note["message"].replace(str(booking.pk), "<booking id>")  # its tickets' link
    event = Event.objects.get(pk=booking.event_id)
    counters = (event.available_seats, event.booked_seats, event.revenue, event.confirmed_bookings)
    return row, note, counters


@pytest.mark.postgres
def test_book_free_seats_writes_what_the_orm_path_writes():
    # Two identical events, one booked by the statement and one by the ORM path.
    fast_event = EventFactory(total_capacity=9, price=Decimal("12.34"), name="Same", venue="V")
    orm_event = EventFactory(
        total_capacity=9,
        price=Decimal("12.34"),
        name="Same",
        venue="V",
        event_time=fast_event.event_time,
    )
    fast_user, orm_user = UserFactory(), UserFactory()
    sales_before = SalesDay.objects.aggregate(b=Sum("bookings"), t=Sum("tickets"), r=Sum("revenue"))

    fast = booking_create(event_id=fast_event.pk, user=fast_user, quantity=3).booking
    orm = _book_through_orm(orm_event, orm_user, 3)

    assert _rows(fast) == _rows(orm)
    assert _rows(fast)[2] == (6, 3, Decimal("37.02"), 1)
    sales = SalesDay.objects.aggregate(b=Sum("bookings"), t=Sum("tickets"), r=Sum("revenue"))
    assert (sales["b"] - (sales_before["b"] or 0), sales["t"] - (sales_before["t"] or 0)) == (2, 6)
    assert sales["r"] - (sales_before["r"] or 0) == Decimal("74.04")
    for event in (fast_event, orm_event):
        assert_books_balance(event)


def _nothing_booked(event, quantity_before):
    event.refresh_from_db()
    assert (event.available_seats, event.booked_seats) == (quantity_before, 0)
    assert not Booking.objects.filter(event=event).exists()
    assert not Notification.objects.filter(event=event).exists()


def _book_fast(event, user, quantity):
    with transaction.atomic():
        lock_buyer(user)
        return services._book_free_seats(event.pk, user, quantity, None, timezone.now())


_LATER = timezone.now() + timedelta(days=60)


# Changed behind the copy's back with update(), which leaves updated_at alone.
@pytest.mark.postgres
@pytest.mark.parametrize(
    "change",
    [
        {"name": "Renamed"},
        {"venue": "Elsewhere"},
        {"event_time": _LATER},
        {"price": Decimal("99.00")},
        {"status": "cancelled"},
        {"ticket_types_version": 7},
    ],
    ids=lambda change: next(iter(change)),
)
def test_the_statement_writes_nothing_when_the_event_is_no_longer_as_read(user, change):
    event = EventFactory(total_capacity=5, price=Decimal("10.00"))
    assert statements.booking_event(event.pk).name == event.name  # the process's copy
    Event.objects.filter(pk=event.pk).update(**change)

    assert _book_fast(event, user, 2) is None
    _nothing_booked(event, 5)
    assert not SalesDay.objects.exists()


@pytest.mark.postgres
def test_the_locked_path_books_as_the_event_is_now_and_brings_the_copy_up_to_date(user):
    event = EventFactory(total_capacity=5, price=Decimal("10.00"), name="Old")
    statements.booking_event(event.pk)
    Event.objects.filter(pk=event.pk).update(
        name="New", price=Decimal("12.50"), ticket_types_version=F("ticket_types_version") + 1
    )
    event.ticket_types.update(price=Decimal("12.50"))

    booking = booking_create(event_id=event.pk, user=user, quantity=2).booking
    assert booking.total_amount == Decimal("25.00")
    notification = Notification.objects.get(user=user, type="booking_confirmed")
    assert notification.title == "Booking confirmed: New"
    copy = statements.booking_event(event.pk)
    assert (copy.name, copy.price) == ("New", Decimal("12.50"))
    assert _book_fast(event, user, 1).booking.total_amount == Decimal("12.50")
    assert_books_balance(event)


@pytest.mark.postgres
def test_the_statement_keeps_the_ticket_limit_counting_waited_for_seats(user):
    event = EventFactory(total_capacity=30)
    booking_create(event_id=event.pk, user=user, quantity=6)
    assert _book_fast(event, user, 5) is None  # 6 + 5 > 10
    assert _book_fast(event, user, 4).booking.quantity == 4  # exactly 10

    other = EventFactory(total_capacity=3)
    booking_create(event_id=other.pk, user=user, quantity=3)
    WaitlistEntry.objects.create(
        event=other, user=user, quantity=5, ticket_type=other.ticket_types.get()
    )
    Event.objects.filter(pk=other.pk).update(
        available_seats=F("available_seats") + 5, total_capacity=8
    )
    other.ticket_types.update(available=F("available") + 5, quota=8)
    assert _book_fast(other, user, 3) is None  # 3 held + 5 waited for + 3 > 10
    assert _book_fast(other, user, 2).booking.quantity == 2
    assert Booking.objects.filter(user=user).aggregate(n=Sum("quantity"))["n"] == 6 + 4 + 3 + 2


@pytest.mark.postgres
def test_the_statement_writes_nothing_for_a_closed_account(user):
    event = EventFactory(total_capacity=5)
    User.objects.filter(pk=user.pk).update(is_active=False)
    assert _book_fast(event, user, 1) is None
    _nothing_booked(event, 5)


@pytest.mark.postgres
def test_a_second_booking_of_an_event_reads_nothing_before_its_statement(
    user, other_user, django_assert_num_queries
):
    event = EventFactory(total_capacity=5)
    booking_create(event_id=event.pk, user=user, quantity=1)
    # The savepoint (the test runs in a transaction), the buyer's lock, the statement, the
    # webhook message's one statement (webhooks.outbox), the release: the event comes from
    # this process's copy.
    with django_assert_num_queries(5):
        booking_create(event_id=event.pk, user=other_user, quantity=1)
    assert_books_balance(event)


@pytest.mark.postgres
def test_an_event_deleted_behind_the_copy_is_not_found(user):
    event = EventFactory(total_capacity=5)
    statements.booking_event(event.pk)
    Event.objects.filter(pk=event.pk).delete()
    with pytest.raises(NotFound):
        booking_create(event_id=event.pk, user=user, quantity=1)
    assert not Booking.objects.exists() and not Notification.objects.exists()


def _scans(plan: dict):
    """(relation, index or None) of every scan in a plan's tree."""
    if "Scan" in plan["Node Type"] and "Relation Name" in plan:
        yield plan["Relation Name"], plan.get("Index Name")
    for child in plan.get("Plans", []):
        yield from _scans(child)


@pytest.mark.postgres
def test_the_seat_update_reads_the_event_by_its_key_and_the_buyers_tickets_by_theirs():
    # Fifty upcoming events at one time, no statistics: with the event's time compared with
    # `=`, and `event_time > now` in the statement, PostgreSQL scanned the upcoming events'
    # index (every upcoming event) for the row on each booking.
    when = timezone.now() + timedelta(days=30)
    event, *_ = [EventFactory(event_time=when, total_capacity=1000) for _ in range(50)]
    # And an event many others have booked. The buyer's tickets are counted on the index that
    # matches all three conditions (user, event, status). Over `make bench`'s data, with no
    # statistics, the earlier (user, event) index tied with (event, status) on two conditions
    # and lost to it, being larger, so each booking read every confirmed booking of the event
    # while it held the event's row lock.
    others = User.objects.bulk_create(
        User(email=f"other{i}@example.com", name=f"Other {i}") for i in range(2000)
    )
    Booking.objects.bulk_create(
        Booking(event=event, user=others[i % 2000], quantity=1, total_amount=event.price)
        for i in range(20_000)
    )
    user = UserFactory()
    sent = []

    def capture(execute, sql, params, many, context):
        sent.append((sql, params))
        return execute(sql, params, many, context)

    with transaction.atomic():
        lock_buyer(user)
        statements.booking_event(event.pk)  # the copy, read before the statement
        with transaction.get_connection().execute_wrapper(capture):
            assert services._book_free_seats(event.pk, user, 1, None, timezone.now()) is not None
        sql, params = next((s, p) for s, p in sent if s.startswith("WITH q AS"))
        with transaction.get_connection().cursor() as cursor:
            cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
            plan = cursor.fetchone()[0][0]["Plan"]

    scans = dict(_scans(plan))
    assert scans["events_event"] == "events_event_pkey"
    assert scans["bookings_booking"] == "bookings_user_event_status_idx"


@pytest.mark.postgres
def test_a_prepared_count_of_waited_seats_reads_the_buyers_entry_not_the_whole_queue():
    # After five bookings on a connection psycopg prepares the statement, and PostgreSQL may
    # then run a generic plan, made without the parameters' values.
    event = EventFactory(total_capacity=1)
    queue = User.objects.bulk_create(
        User(email=f"queue{i}@example.com", name=f"Queue {i}") for i in range(3000)
    )
    now = timezone.now()
    ticket_type = event.ticket_types.get()
    WaitlistEntry.objects.bulk_create(
        WaitlistEntry(event=event, user=person, quantity=1, joined_at=now, ticket_type=ticket_type)
        for person in queue
    )
    pending = statements._pending_sql("$1").replace("%s", "$2")
    with transaction.get_connection().cursor() as cursor:
        cursor.execute(f"PREPARE pending_seats (uuid, uuid) AS SELECT {pending}")
        try:
            cursor.execute("SET LOCAL plan_cache_mode = force_generic_plan")
            # EXECUTE takes no bound parameters; the two ids are UUIDs, safe to write in.
            cursor.execute(
                f"EXPLAIN (FORMAT JSON) EXECUTE pending_seats ('{event.pk}', '{queue[0].pk}')"
            )
            plan = cursor.fetchone()[0][0]["Plan"]
        finally:
            cursor.execute("DEALLOCATE pending_seats")

    scans = [index for relation, index in _scans(plan) if relation == "waitlist_waitlistentry"]
    assert scans == ["waitlist_waitlistentry_one_active_per_user_event"]


def test_the_plain_booking_statement_keeps_within_psycopgs_cached_parameters():
    """Past MAX_CACHED_STATEMENT_PARAMS psycopg parses the statement again on every booking."""
    assert statements._BOOK_SQL.count("%s") <= MAX_CACHED_STATEMENT_PARAMS
