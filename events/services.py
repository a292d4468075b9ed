from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from accounts.models import User
from evently.exceptions import CapacityBelowTaken, EventCancelled, Invalid
from evently.lookups import get_or_not_found
from events.models import Event

EDITABLE_FIELDS = {"name", "description", "venue", "event_time", "total_capacity", "price"}


def _ensure_future(event_time: datetime) -> None:
    if event_time <= timezone.now():
        raise Invalid({"event_time": ["Must be in the future."]})


def event_create(
    *,
    created_by: User,
    name: str,
    venue: str,
    event_time: datetime,
    total_capacity: int,
    price: Decimal,
    description: str = "",
) -> Event:
    _ensure_future(event_time)
    return Event.objects.create(
        name=name,
        description=description,
        venue=venue,
        event_time=event_time,
        total_capacity=total_capacity,
        available_seats=total_capacity,
        price=price,
        created_by=created_by,
    )


def event_update(*, event_id, actor: User, changes: dict[str, Any]) -> Event:
    """Apply an admin's edit with the event row locked.

    Capacity may not drop below the seats taken (booked plus held by offers); a raise adds the
    difference to `available_seats`.
    """
    unknown = set(changes) - EDITABLE_FIELDS
    if unknown:
        raise ValueError(f"not editable: {sorted(unknown)}")
    with transaction.atomic():
        event = get_or_not_found(
            Event.objects.select_for_update(), pk=event_id, message="No event with this id."
        )
        if event.status == Event.Status.CANCELLED:
            raise EventCancelled()
        if "event_time" in changes and changes["event_time"] != event.event_time:
            _ensure_future(changes["event_time"])

        new_capacity = changes.pop("total_capacity", event.total_capacity)
        if new_capacity < event.taken_seats:
            raise CapacityBelowTaken(
                f"Capacity cannot drop below {event.taken_seats}: that many seats are booked "
                "or held.",
                taken_seats=event.taken_seats,
            )
        delta = new_capacity - event.total_capacity
        for field, value in changes.items():
            setattr(event, field, value)
        if delta:
            event.total_capacity = new_capacity
            event.available_seats = F("available_seats") + delta
        event.save()
        event.refresh_from_db()
    return event


def event_delete(*, event_id, actor: User) -> None:
    with transaction.atomic():
        event = get_or_not_found(
            Event.objects.select_for_update(), pk=event_id, message="No event with this id."
        )
        event.delete()
