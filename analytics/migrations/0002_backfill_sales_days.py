from collections import defaultdict
from datetime import UTC
from decimal import Decimal

from django.db import migrations

SHARDS = 16


def backfill(apps, schema_editor):
    """Build the day totals from the bookings made before they were kept."""
    Booking = apps.get_model("bookings", "Booking")
    WaitlistEntry = apps.get_model("waitlist", "WaitlistEntry")
    SalesDay = apps.get_model("analytics", "SalesDay")
    rows = defaultdict(lambda: defaultdict(Decimal))
    for booking in Booking.objects.all().iterator():
        key = (booking.booking_time.astimezone(UTC).date(), booking.event_id.int % SHARDS)
        rows[key]["bookings"] += 1
        rows[key]["tickets"] += booking.quantity
        if booking.status == "confirmed":
            rows[key]["revenue"] += booking.total_amount
        else:
            day = booking.cancelled_at.astimezone(UTC).date()
            rows[(day, booking.event_id.int % SHARDS)]["cancellations"] += 1
    accepted = WaitlistEntry.objects.filter(status="accepted").select_related("booking")
    for entry in accepted.iterator():
        key = (entry.booking.booking_time.astimezone(UTC).date(), entry.event_id.int % SHARDS)
        rows[key]["conversions"] += 1
    SalesDay.objects.bulk_create(
        SalesDay(day=day, shard=shard, **{k: v for k, v in counters.items()})
        for (day, shard), counters in rows.items()
    )


class Migration(migrations.Migration):
    dependencies = [
        ("analytics", "0001_sales_day"),
        ("bookings", "0001_initial"),
        ("waitlist", "0001_initial"),
    ]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
