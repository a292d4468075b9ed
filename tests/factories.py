from datetime import timedelta
from decimal import Decimal

import factory
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from factory.django import DjangoModelFactory

from accounts.models import User
from events.models import Event, TicketType
from events.summary import scheduled_event_added

PASSWORD = "correct-horse-battery-staple"


class UserFactory(DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"person{n}@example.com")
    name = factory.Sequence(lambda n: f"Person {n}")
    role = User.Role.USER
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def _save_password(obj, create, extracted, **kwargs):
        if create:
            obj.save(update_fields=["password"])


class AdminFactory(UserFactory):
    role = User.Role.ADMIN


class ScannerFactory(UserFactory):
    role = User.Role.SCANNER


class EventFactory(DjangoModelFactory):
    class Meta:
        model = Event

    name = factory.Sequence(lambda n: f"Concert {n}")
    description = "An evening of music."
    venue = "Main Hall"
    event_time = factory.LazyFunction(lambda: timezone.now() + timedelta(days=30))
    total_capacity = 100
    available_seats = factory.SelfAttribute("total_capacity")
    price = Decimal("49.99")

    class Params:
        # Starts in two hours: its check-in window is open (CHECKIN_OPENS_MINUTES before).
        tonight = factory.Trait(
            event_time=factory.LazyFunction(lambda: timezone.now() + timedelta(hours=2))
        )

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        # Past and cancelled events are made here, which event_create refuses; the day summary
        # is kept the way the services keep it, so every count of the public list stays exact.
        # Its one type, "General admission", mirrors the event's counters, as event_create and
        # the migration that gave existing events their type make it.
        with transaction.atomic():
            event = super()._create(model_class, *args, **kwargs)
            TicketType.objects.create(
                event=event,
                name="General admission",
                price=event.price,
                quota=event.total_capacity,
                available=event.available_seats,
                booked=event.booked_seats,
                held=event.held_seats,
            )
            if event.status == Event.Status.SCHEDULED:
                scheduled_event_added(event.event_time)
        return event


class TicketTypeFactory(DjangoModelFactory):
    """A further type of an event (the event's own "General admission" comes with it)."""

    class Meta:
        model = TicketType

    event = factory.SubFactory(EventFactory)
    name = factory.Sequence(lambda n: f"Type {n}")
    price = Decimal("20.00")
    quota = 10
    available = factory.SelfAttribute("quota")
    position = factory.Sequence(lambda n: n + 1)

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        # The event's price is its active types' lowest, and its types' version moves on, as
        # boxoffice.services keeps them.
        ticket_type = super()._create(model_class, *args, **kwargs)
        prices = TicketType.objects.filter(event=ticket_type.event, is_active=True)
        Event.objects.filter(pk=ticket_type.event_id).update(
            price=min(prices.values_list("price", flat=True)),
            ticket_types_version=F("ticket_types_version") + 1,
        )
        return ticket_type


class VoucherFactory(DjangoModelFactory):
    class Meta:
        model = "bookings.Voucher"

    event = factory.SubFactory(EventFactory)
    code = factory.Sequence(lambda n: f"SAVE{n}")
    discount_type = "percent"
    value = Decimal("10.00")
    max_uses = 5
