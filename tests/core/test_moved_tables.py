"""The foundation's tables moved from the root app to core without losing a row.

A database migrated before the move (evently at 0003, no core) is filled through the
historical models, then migrated to today's head: core.0001_initial and evently.0004 change
only Django's state, so every row, the tables' names and their unique constraint are still
there and read back through core's models.
"""

from datetime import timedelta

import pytest
from django.core.cache.backends.db import DatabaseCache
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from core.models import IdempotencyKey, ThrottleCounter
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

# The head before the move: the root app's last migration, and no core at all.
BEFORE_THE_MOVE = [("evently", "0003_throttle_counter"), ("core", None)]


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    executor.loader.build_graph()  # what is applied now
    return executor


def migrate_to_the_head():
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


def test_a_database_migrated_before_the_move_keeps_its_rows_through_it():
    user = UserFactory()
    expires = timezone.now() + timedelta(minutes=1)
    try:
        executor = migrate(BEFORE_THE_MOVE)
        old = executor.loader.project_state(BEFORE_THE_MOVE[0]).apps
        assert BEFORE_THE_MOVE[0] in executor.loader.applied_migrations
        assert ("core", "0001_initial") not in executor.loader.applied_migrations
        assert "core" not in old.app_configs
        old.get_model("evently", "IdempotencyKey").objects.create(
            user_id=user.pk,
            key="k-1",
            fingerprint="f" * 64,
            status_code=201,
            content_type="application/json",
            body=b'{"id": 1}',
        )
        old.get_model("evently", "ThrottleCounter").objects.create(
            key="throttle:user:1:60", count=7, expires_at=expires
        )
        DatabaseCache("evently_cache", {}).set("kept", "yes", 600)

        migrate_to_the_head()
    finally:
        migrate_to_the_head()  # leave the database as every other test expects it

    key = IdempotencyKey.objects.get()
    assert (key.user_id, key.key, key.status_code, bytes(key.body)) == (
        user.pk,
        "k-1",
        201,
        b'{"id": 1}',
    )
    counter = ThrottleCounter.objects.get()
    assert (counter.key, counter.count, counter.expires_at) == ("throttle:user:1:60", 7, expires)
    assert DatabaseCache("evently_cache", {}).get("kept") == "yes"
    assert IdempotencyKey._meta.db_table == "evently_idempotencykey"
    assert ThrottleCounter._meta.db_table == "evently_throttlecounter"
    # The unique constraint came through with its table.
    with pytest.raises(IntegrityError), transaction.atomic():
        IdempotencyKey.objects.create(
            user=user,
            key="k-1",
            fingerprint="0" * 64,
            status_code=200,
            content_type="application/json",
            body=b"",
        )


def test_a_new_database_gets_the_tables_at_the_head():
    tables = set(connection.introspection.table_names())
    assert {"evently_idempotencykey", "evently_throttlecounter", "evently_cache"} <= tables
    recorded = MigrationExecutor(connection).loader.applied_migrations
    assert ("core", "0001_initial") in recorded
    assert ("evently", "0004_models_to_core") in recorded
