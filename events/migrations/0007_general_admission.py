"""Every existing event gets its one ticket type, "General admission", from its price and
capacity; its bookings become one item each of that type, and its waitlist entries wait for it.

The type's counters are counted from the rows (confirmed tickets, seats held by offers), so
after this migration `available + booked + held == quota` holds for every type, and each
type's counters equal its event's.
"""

from django.db import migrations
from django.db.models import OuterRef, Q, Subquery, Sum
from django.db.models.functions import Coalesce

GENERAL_ADMISSION = "General admission"


def add_general_admission(apps, schema_editor):
    Event = apps.get_model("events", "Event")
    TicketType = apps.get_model("events", "TicketType")
    Booking = apps.get_model("bookings", "Booking")
    WaitlistEntry = apps.get_model("waitlist", "WaitlistEntry")

    booked = Booking.objects.filter(event=OuterRef("pk"), status="confirmed").values("event")
    held = WaitlistEntry.objects.filter(event=OuterRef("pk"), status="offered").values("event")
    events = Event.objects.annotate(
        tickets=Coalesce(Subquery(booked.annotate(n=Sum("quantity")).values("n")), 0),
        offered=Coalesce(Subquery(held.annotate(n=Sum("quantity")).values("n")), 0),
    ).filter(~Q(pk__in=TicketType.objects.values("event")))
    batch = []
    for event in events.iterator(chunk_size=1000):
        batch.append(
            TicketType(
                event_id=event.pk,
                name=GENERAL_ADMISSION,
                price=event.price,
                quota=event.total_capacity,
                available=event.total_capacity - event.tickets - event.offered,
                booked=event.tickets,
                held=event.offered,
            )
        )
        if len(batch) == 1000:
            TicketType.objects.bulk_create(batch)
            batch = []
    TicketType.objects.bulk_create(batch)

    # Each booking becomes one item of its event's (only) type, at the price it was booked at.
    items = apps.get_model("bookings", "BookingItem")._meta.db_table
    quote = schema_editor.quote_name
    schema_editor.execute(
        f"INSERT INTO {quote(items)} (booking_id, ticket_type_id, quantity, unit_price, amount) "
        f"SELECT b.id, t.id, b.quantity, ROUND(b.total_amount / b.quantity, 2), b.total_amount "
        f"FROM {quote(Booking._meta.db_table)} b "
        f"JOIN {quote(TicketType._meta.db_table)} t ON t.event_id = b.event_id "
        f"WHERE NOT EXISTS (SELECT 1 FROM {quote(items)} i WHERE i.booking_id = b.id)"
    )
    WaitlistEntry.objects.filter(ticket_type__isnull=True).update(
        ticket_type=Subquery(
            TicketType.objects.filter(event=OuterRef("event")).order_by("position", "id").values(
                "pk"
            )[:1]
        )
    )


def remove_types(apps, schema_editor):
    apps.get_model("waitlist", "WaitlistEntry").objects.update(ticket_type=None)
    apps.get_model("bookings", "BookingItem").objects.all().delete()
    apps.get_model("events", "TicketType").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [
        ("events", "0006_ticket_types"),
        ("bookings", "0006_booking_items"),
        ("waitlist", "0002_ticket_type"),
    ]

    operations = [migrations.RunPython(add_general_admission, remove_types)]
