"""Idempotency keys, throttle counters and the cache table move from the root app to core.

State only: the tables keep their names (db_table) and their rows. The root's migrations
0001-0003 still create them on a new database; evently.0004 drops them from its state.
"""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.core.management import call_command
from django.db import migrations, models


def create_cache_table(apps, schema_editor):
    # Without REDIS_URL, throttles may use a database cache table; `createcachetable` skips a
    # table that exists, so a database migrated before the move keeps its own.
    call_command("createcachetable", database=schema_editor.connection.alias, verbosity=0)


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("evently", "0003_throttle_counter"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RunPython(create_cache_table, migrations.RunPython.noop),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="IdempotencyKey",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("key", models.CharField(max_length=255)),
                        ("fingerprint", models.CharField(max_length=64)),
                        ("status_code", models.PositiveSmallIntegerField()),
                        ("content_type", models.CharField(max_length=100)),
                        ("body", models.BinaryField()),
                        ("created_at", models.DateTimeField(db_index=True, default=django.utils.timezone.now)),
                        ("user", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="+", to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        "db_table": "evently_idempotencykey",
                        "constraints": [models.UniqueConstraint(fields=("user", "key"), name="evently_idempotencykey_unique_per_user")],
                    },
                ),
                migrations.CreateModel(
                    name="ThrottleCounter",
                    fields=[
                        ("key", models.CharField(max_length=250, primary_key=True, serialize=False)),
                        ("count", models.PositiveIntegerField()),
                        ("expires_at", models.DateTimeField(db_index=True)),
                    ],
                    options={"db_table": "evently_throttlecounter"},
                ),
            ],
            database_operations=[],
        ),
    ]
