"""Read replicas: which database a query goes to.

Django routes by model, but here one model is read in two ways: the public event list may
read a replica (a few hundred milliseconds of replication lag are harmless there), while a
booking must read the same Event row locked on the primary. So nothing goes to a replica
unless the code running asks for it: a view opts in with `@replica_reads` (the public event
list and detail, the staff analytics), which picks one replica for the request; the router
then sends that view's reads there, except

- every write, which goes to the primary, and
- every read inside a transaction on the primary (a service's `transaction.atomic()`), which
  stays on the primary with the rest of the transaction.

Views that write, or must read their own writes (bookings, the waitlist, auth), never opt in.
With no DATABASE_REPLICA_URLS nothing opts in and Django routes everything to `default`.
"""

import functools
import random
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections

# The replica alias chosen for the current request, or None: read from the primary.
_replica: ContextVar[str | None] = ContextVar("evently_read_replica", default=None)

# Tables whose rows are written on every request or read back at once (sessions, the throttle
# counters of the database cache, revoked refresh tokens): never read from a replica, even in
# a view that opted in, since a lagging copy would be wrong rather than a little old.
PRIMARY_ONLY_APPS = frozenset({"sessions", "django_cache", "token_blacklist"})


def current_replica() -> str | None:
    return _replica.get()


@contextmanager
def read_from_replica(alias: str | None = None) -> Iterator[str | None]:
    """Send the reads of this block to a replica: `alias`, or one picked at random.

    Without replicas configured this does nothing, so code that opts in runs unchanged.
    """
    replicas = settings.DATABASE_REPLICAS
    if alias is None and replicas:
        alias = random.choice(replicas)
    if alias is None:
        yield None
        return
    token = _replica.set(alias)
    try:
        yield alias
    finally:
        _replica.reset(token)


def replica_reads(view: Callable) -> Callable:
    """Run a read-only view (a function or a view method) with its reads on one replica.

    Applied to the handler itself, so DRF's authentication, permission and throttle checks,
    which run before it, stay on the primary.
    """

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        with read_from_replica():
            return view(*args, **kwargs)

    wrapper.reads_from_replica = True
    return wrapper


def pin_to_current_database(queryset):
    """Bind a lazy queryset to the database chosen now.

    A queryset is routed when it is evaluated; one evaluated after the view has returned (a
    streamed response) would otherwise run outside the view's replica scope.
    """
    return queryset.using(queryset.db)


class ReplicaRouter:
    """Primary for writes and transactions; the request's replica for opted-in reads."""

    def db_for_read(self, model, **hints):
        alias = _replica.get()
        if alias is None:
            return None  # not opted in: Django's default, the primary
        if model._meta.app_label in PRIMARY_ONLY_APPS:
            return DEFAULT_DB_ALIAS
        # Inside a transaction the reads belong with its writes and locks.
        if connections[DEFAULT_DB_ALIAS].in_atomic_block:
            return DEFAULT_DB_ALIAS
        return alias

    def db_for_write(self, model, **hints):
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1, obj2, **hints):
        # Every alias holds the same data: a replica is a copy of the primary.
        return True

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        # Replicas receive the schema by replication, never by `migrate`.
        return db == DEFAULT_DB_ALIAS
