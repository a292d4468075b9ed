"""The root hands its two models to core (core.0001_initial): state only, tables kept."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("evently", "0003_throttle_counter"),
        ("core", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(name="IdempotencyKey"),
                migrations.DeleteModel(name="ThrottleCounter"),
            ],
            database_operations=[],
        ),
    ]
