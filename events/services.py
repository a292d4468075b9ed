from datetime import datetime
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from core.exceptions import Invalid
from events import signals
from events.models import Event, TicketType
from events.summary import scheduled_event_added

GENERAL_ADMISSION = "General admission"


def check_event_time(event_time: datetime) -> None:
    """An event is created or moved only into the future."""
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
    check_event_time(event_time)
    with transaction.atomic():
        event = Event.objects.create(
            name=name,
            description=description,
            venue=venue,
            event_time=event_time,
            total_capacity=total_capacity,
            available_seats=total_capacity,
            price=price,
            created_by=created_by,
        )
        # Every event sells at least one type: clients that know only `price` keep working.
        general = TicketType.objects.create(
            event=event,
            name=GENERAL_ADMISSION,
            price=price,
            quota=total_capacity,
            available=total_capacity,
        )
        event.locked_types = {general.pk: general}
        scheduled_event_added(event.event_time)
        signals.event_created.send(sender=Event, event=event)
    return event
