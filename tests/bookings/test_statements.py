"""The booking path's hand-written statements give what the ORM code they replace gives."""

from decimal import Decimal

import pytest
from django.db import transaction
from django.db.models import Exists, IntegerField, OuterRef, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.forms.models import model_to_dict
from django.utils import timezone

from accounts.models import User
from analytics.models import SalesDay
from bookings import services, statements
from bookings.models import Booking
from bookings.services import booking_cancel, booking_confirm, booking_create, lock_buyer
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
        return booking_confirm(
            event=lock_event(event.pk), user=user, quantity=quantity, from_held=False
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


@pytest.mark.postgres
def test_book_free_seats_writes_nothing_when_the_event_changed_since_it_was_read(user, monkeypatch):
    event = EventFactory(total_capacity=5)
    stale = statements.event_claims(event.pk, user.pk)
    Event.objects.get(pk=event.pk).save()  # a staff edit: updated_at moves on
    monkeypatch.setattr(services, "_event_with_claims", lambda event_id, user: stale)
    with transaction.atomic():
        assert services._book_free_seats(event.pk, user, 2, timezone.now()) is None
    assert not Booking.objects.exists() and not Notification.objects.exists()
    assert not SalesDay.objects.exists()
    event.refresh_from_db()
    assert (event.available_seats, event.booked_seats) == (5, 0)
