"""The migration that gives every existing event its "General admission" type."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

BEFORE = [
    ("events", "0005_scheduled_day"),
    ("bookings", "0005_user_event_status_index"),
    ("waitlist", "0001_initial"),
]
AFTER = [("events", "0007_general_admission"), ("waitlist", "0003_ticket_type_required")]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.mark.django_db(transaction=True)
def test_existing_events_get_a_general_admission_type_with_their_bookings_and_offers():
    old = _migrate(BEFORE)
    User = old.get_model("accounts", "User")
    Event = old.get_model("events", "Event")
    Booking = old.get_model("bookings", "Booking")
    WaitlistEntry = old.get_model("waitlist", "WaitlistEntry")
    ann = User.objects.create(email="ann@example.com", name="Ann", password="x")
    bob = User.objects.create(email="bob@example.com", name="Bob", password="x")
    cy = User.objects.create(email="cy@example.com", name="Cy", password="x")
    soon = timezone.now() + timedelta(days=3)
    # 10 seats: 3 + 2 booked (one booking of 4 cancelled), 2 held by an offer, 3 free.
    gala = Event.objects.create(
        name="Gala",
        venue="Hall",
        event_time=soon,
        total_capacity=10,
        available_seats=3,
        booked_seats=5,
        held_seats=2,
        price=Decimal("12.50"),
        revenue=Decimal("57.50"),
        confirmed_bookings=2,
        cancelled_bookings=1,
        cancelled_tickets=4,
    )
    Booking.objects.create(event=gala, user=ann, quantity=3, total_amount=Decimal("37.50"))
    # Booked at an older price: the item keeps what was paid.
    Booking.objects.create(event=gala, user=bob, quantity=2, total_amount=Decimal("20.00"))
    Booking.objects.create(
        event=gala,
        user=cy,
        quantity=4,
        total_amount=Decimal("50.00"),
        status="cancelled",
        cancelled_at=timezone.now(),
    )
    WaitlistEntry.objects.create(
        event=gala,
        user=cy,
        quantity=2,
        status="offered",
        offered_at=timezone.now(),
        offer_expires_at=soon,
    )
    WaitlistEntry.objects.create(event=gala, user=ann, quantity=1, status="cancelled")
    empty = Event.objects.create(
        name="Empty",
        venue="Hall",
        event_time=soon,
        total_capacity=5,
        available_seats=5,
        price=Decimal("0.00"),
    )

    new = _migrate(AFTER)
    TicketType = new.get_model("events", "TicketType")
    BookingItem = new.get_model("bookings", "BookingItem")
    NewEntry = new.get_model("waitlist", "WaitlistEntry")

    general = TicketType.objects.get(event_id=gala.pk)
    assert (general.name, general.price, general.quota, general.is_active) == (
        "General admission",
        Decimal("12.50"),
        10,
        True,
    )
    assert (general.available, general.booked, general.held) == (3, 5, 2)
    items = {
        (i.booking.user_id, i.quantity, i.unit_price, i.amount, i.ticket_type_id)
        for i in BookingItem.objects.select_related("booking")
    }
    assert items == {
        (ann.pk, 3, Decimal("12.50"), Decimal("37.50"), general.pk),
        (bob.pk, 2, Decimal("10.00"), Decimal("20.00"), general.pk),
        (cy.pk, 4, Decimal("12.50"), Decimal("50.00"), general.pk),
    }
    assert set(NewEntry.objects.values_list("ticket_type_id", flat=True)) == {general.pk}
    other = TicketType.objects.get(event_id=empty.pk)
    assert (other.price, other.quota, other.available, other.booked, other.held) == (
        Decimal("0.00"),
        5,
        5,
        0,
        0,
    )

    # Back to the latest schema for the rest of the run, and the books balance there too.
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
    from events.models import Event as CurrentEvent
    from tests.invariants import assert_books_balance

    for event in CurrentEvent.objects.all():
        assert_books_balance(event)
