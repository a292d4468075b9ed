"""Named locks held until the transaction ends, seen by every worker sharing the database.

PostgreSQL: transaction-level advisory locks keyed by a hash of the name. SQLite needs none:
its transactions start IMMEDIATE, so one writer runs at a time anyway.
"""

import hashlib

from django.db import connection


def _key(name: str) -> int:
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


def lock(name: str) -> None:
    """Wait until the lock `name` is ours; it is released when the transaction ends."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_key(name)])


def try_lock(name: str) -> bool:
    """Take the lock `name` if no other transaction holds it; False if one does."""
    if connection.vendor != "postgresql":
        return True
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [_key(name)])
        return cursor.fetchone()[0]
