"""Structured logs: one JSON object per line, each carrying the id of the request it belongs to.

`RequestLogMiddleware` (core.middleware) sets `request_id_var` for the duration of a
request; `RequestIdFilter`, installed on the console handler by settings.LOGGING, copies it
onto every record, so a booking's "booking confirmed" line and the request's own access line
share one `request_id`. `JsonFormatter` writes the standard fields plus every `extra=`
(`booking_id`, `entry_id`, `event_id`, …) as JSON members.
"""

import logging
import threading
import time
from contextvars import ContextVar
from datetime import UTC, datetime

from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter as _JsonFormatter

# A ContextVar rather than a thread-local: correct under threads and async tasks alike.
request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)


class RequestIdFilter(logging.Filter):
    """Attach the current request's id (or None outside a request) to every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", None) is None:
            # Django logs 4xx/5xx responses on `django.request` after the middleware chain has
            # returned, so the contextvar is gone by then; those records carry the request.
            request = getattr(record, "request", None)
            record.request_id = request_id_var.get() or getattr(request, "request_id", None)
        return True


class JsonFormatter(_JsonFormatter):
    """`{"time", "level", "logger", "message", ...extras, "request_id"}` on one line."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("fmt", ["asctime", "levelname", "name", "message"])
        kwargs.setdefault(
            "rename_fields", {"asctime": "time", "levelname": "level", "name": "logger"}
        )
        # Django's `django.request` records carry the request object itself: its repr is noise
        # next to request_id, so it is left out.
        kwargs.setdefault("reserved_attrs", [*RESERVED_ATTRS, "request", "taskName"])
        super().__init__(*args, **kwargs)

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        # ISO 8601 in UTC with milliseconds, whatever the server's time zone.
        return datetime.fromtimestamp(record.created, tz=UTC).isoformat(timespec="milliseconds")


class PacedWarning:
    """A warning logged at most once every `every` seconds by this process, for a fault that
    would otherwise write a line per request (Redis unreachable); each line carries how many
    it held back since the last (`suppressed`).

    The pace is per process and kept in its memory on purpose: it only bounds the log's volume
    (a line a minute per worker instead of one per request), and nothing depends on it across
    requests or workers."""

    def __init__(self, logger: logging.Logger, every: float):
        self.logger = logger
        self.every = every
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        """As a fresh process: the next warning is logged."""
        self.last_at = float("-inf")
        self.suppressed = 0

    def __call__(self, message: str, *args) -> None:
        now = time.monotonic()
        with self._lock:
            if now - self.last_at < self.every:
                self.suppressed += 1
                return
            suppressed, self.last_at, self.suppressed = self.suppressed, now, 0
        self.logger.warning(message, *args, extra={"suppressed": suppressed})
