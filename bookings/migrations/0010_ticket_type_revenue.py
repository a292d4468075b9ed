"""Each ticket type's `revenue` counter (events 0008) starts at what its confirmed items
already add up to; from here the booking services move it with `booked`."""

from django.db import migrations
from django.db.models import OuterRef, Subquery, Sum, Value
from django.db.models.functions import Coalesce


def fill_revenue(apps, schema_editor):
    TicketType = apps.get_model("events", "TicketType")
    BookingItem = apps.get_model("bookings", "BookingItem")
    confirmed = (
        BookingItem.objects.filter(ticket_type=OuterRef("pk"), booking__status="confirmed")
        .order_by()
        .values("ticket_type")
        .annotate(total=Sum("amount"))
        .values("total")
    )
    TicketType.objects.update(revenue=Coalesce(Subquery(confirmed), Value(0)))


class Migration(migrations.Migration):
    dependencies = [
        ("bookings", "0009_vouchers"),
        ("events", "0008_tickettype_revenue"),
    ]

    operations = [migrations.RunPython(fill_revenue, migrations.RunPython.noop)]
