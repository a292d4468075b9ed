"""Django's PostgreSQL backend, with a connection health check that asks the socket first.

With CONN_HEALTH_CHECKS on, Django checks a kept connection once per request before its first
query, by sending `SELECT 1` (`DatabaseWrapper.is_usable`): one more round trip to the database
on every request, the booking's included. A connection that sits idle between requests has
nothing to read on its socket unless the server has closed it (a restart, a terminated backend,
idle timeouts: the server's last message and then the end of the stream) or sent something of
its own. So an idle connection whose socket has nothing to read is usable, and one poll of the
socket with no wait tells it; anything else (something to read, a transaction left open, a
connection psycopg already knows is closed) gets Django's own check, which is what decides.
"""

import select

import psycopg
from django.db.backends.postgresql import base
from psycopg import pq


class DatabaseWrapper(base.DatabaseWrapper):
    def is_usable(self) -> bool:
        if self.connection is None:
            return False
        if _idle_and_quiet(self.connection):
            return True
        return super().is_usable()


_READABLE = select.POLLIN | select.POLLPRI | select.POLLERR | select.POLLHUP | select.POLLNVAL


def _idle_and_quiet(connection) -> bool:
    """True when psycopg holds the connection open and idle, outside any transaction, and its
    socket has nothing to read: no error, no hang-up, no message the server sent unasked."""
    if connection.closed or connection.info.transaction_status != pq.TransactionStatus.IDLE:
        return False
    try:
        fd = connection.fileno()
    except psycopg.OperationalError:  # the connection is gone
        return False
    poller = select.poll()
    poller.register(fd, _READABLE)
    return not poller.poll(0)
