import pytest
from django.db import IntegrityError, transaction
from django.db.models import F

from events.models import Event
from tests.factories import EventFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "change",
    [
        {"available_seats": F("available_seats") + 1},  # above capacity, books unbalanced
        {"available_seats": F("available_seats") - 101},  # below zero
        {"booked_seats": F("booked_seats") + 1},  # seats that came from nowhere
        {"total_capacity": 0, "available_seats": 0},
    ],
)
def test_database_refuses_unbalanced_seat_counters(change):
    event = EventFactory(total_capacity=100)
    with pytest.raises(IntegrityError), transaction.atomic():
        Event.objects.filter(pk=event.pk).update(**change)
    event.refresh_from_db()
    assert (event.available_seats, event.booked_seats, event.held_seats) == (100, 0, 0)


def test_balanced_move_of_seats_is_accepted():
    event = EventFactory(total_capacity=100)
    Event.objects.filter(pk=event.pk).update(
        available_seats=F("available_seats") - 3, booked_seats=F("booked_seats") + 3
    )
    event.refresh_from_db()
    assert (event.available_seats, event.booked_seats) == (97, 3)
