"""SalesDay moves from analytics to bookings, its writer: the model changes apps, the table
(analytics_salesday), its rows and its constraint stay where they are. Only the state moves;
analytics 0003 removes the model from analytics' state, after this adds it here."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("bookings", "0006_booking_items"),
        ("analytics", "0002_backfill_sales_days"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="SalesDay",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("day", models.DateField()),
                        ("shard", models.PositiveSmallIntegerField()),
                        ("bookings", models.PositiveIntegerField(default=0)),
                        ("tickets", models.PositiveIntegerField(default=0)),
                        (
                            "revenue",
                            models.DecimalField(decimal_places=2, default=0, max_digits=16),
                        ),
                        ("cancellations", models.PositiveIntegerField(default=0)),
                        ("conversions", models.PositiveIntegerField(default=0)),
                    ],
                    options={
                        "db_table": "analytics_salesday",
                        "constraints": [
                            models.UniqueConstraint(
                                fields=("day", "shard"), name="analytics_salesday_unique_day"
                            )
                        ],
                    },
                ),
            ],
            database_operations=[],
        ),
    ]
