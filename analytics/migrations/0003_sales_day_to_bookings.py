"""SalesDay now belongs to bookings (bookings 0007): it leaves analytics' state, while its
table and rows stay, owned by bookings' model."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("analytics", "0002_backfill_sales_days"),
        ("bookings", "0007_sales_day_from_analytics"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="SalesDay")],
            database_operations=[],
        ),
    ]
