"""The booking's side of the waiting room: is this booking admitted?

`POST /bookings` runs `admission_required` before anything else of its handler, the
`Idempotency-Key` replay included, so a key first used before the queue was turned on cannot
replay its way past it. A valid admission token (the `Evently-Admission` header, checked with
the signing key, the body's event id and the caller's id) costs no query; without one, the
event's queue row is read to learn whether the event needs one: here, unlocked, when the
request has an Idempotency-Key, else by the booking itself (`no_queue_sql` in its statement,
`ensure_no_queue` on its locked path). Only this module, the tokens and the stores are what
bookings depends on; the queue's views and services sit above.
"""

import functools
import logging
import time
import uuid

from django.db import connection

from accounts.permissions import current_account
from core import idempotency
from core.exceptions import DomainError
from waitingroom.models import Queue
from waitingroom.stores import store
from waitingroom.tokens import AdmissionRef, read_admission_token

HEADER = "Evently-Admission"
logger = logging.getLogger(__name__)


class QueueRequired(DomainError):
    code = "queue_required"
    title = "Queue required"
    default_detail = (
        "This event is on sale through its waiting room: join it with POST "
        "/api/events/{id}/queue and book with the admission it gives (Evently-Admission)."
    )


def _event_id(request) -> uuid.UUID | None:
    data = request.data
    try:
        return uuid.UUID(str(data.get("event_id"))) if hasattr(data, "get") else None
    except ValueError:
        return None


def admission(*, event_id: uuid.UUID, user_id, header: str | None) -> AdmissionRef | None:
    """The caller's admission for `event_id` if the header holds a valid, unexpired one bound
    to them and that event, else None. No query."""
    if header:
        ref = read_admission_token(header.strip(), user_id=user_id)
        if ref is not None and ref.event_id == event_id and ref.expires_at > time.time():
            return ref
    return None


def ensure_no_queue(event_id: uuid.UUID) -> None:
    """QueueRequired if the event's waiting room is on."""
    if _queue_enabled(event_id):
        raise QueueRequired(event_id=str(event_id))


def no_queue_sql(event_id_sql: str) -> str:
    """A condition, for a statement that books the event whose id is `event_id_sql`, that its
    waiting room is off: what `ensure_no_queue` checks, read by the statement itself."""
    return f"NOT EXISTS ({_enabled_sql(event_id_sql)})"


_QUEUE = Queue._meta


def _enabled_sql(event_id_sql: str) -> str:
    """A row if the queue of the event whose id is `event_id_sql` is on: one primary-key
    lookup, written out once rather than compiled by the ORM each time."""
    return (
        f"SELECT 1 FROM {connection.ops.quote_name(_QUEUE.db_table)} "
        f"WHERE {connection.ops.quote_name(_QUEUE.pk.column)} = {event_id_sql} "
        f"AND {connection.ops.quote_name(_QUEUE.get_field('enabled').column)}"
    )


# Asked of a booking without an admission that has an Idempotency-Key (before its replay), or
# that its statement refused.
_ENABLED_SQL = _enabled_sql("%s")


def _queue_enabled(event_id: uuid.UUID) -> bool:
    with connection.cursor() as cursor:
        cursor.execute(_ENABLED_SQL, [_QUEUE.pk.get_db_prep_value(event_id, connection)])
        return cursor.fetchone() is not None


def admission_required(handler):
    """Wrap the booking handler: refuse a booking of a queued event without an admission, and
    tell the queue an admission was used, so its slot is not handed out again when it lapses.

    With an admission, the handler runs. Without one and with an `Idempotency-Key`, the queue
    is checked here, before the key can replay anything. Without either, the handler is called
    with `check_queue=True` and the booking checks it (`ensure_no_queue`, `no_queue_sql`)."""

    @functools.wraps(handler)
    def wrapper(view, request, *args, **kwargs):
        event_id = _event_id(request)
        if event_id is None:  # the serializer answers 400
            return handler(view, request, *args, **kwargs)
        ref = admission(
            event_id=event_id, user_id=request.user.pk, header=request.headers.get(HEADER)
        )
        if ref is None and request.headers.get(idempotency.HEADER) is None:
            # Nothing to replay: the booking checks the queue itself, in its own statement
            # (bookings.services.booking_create), which saves the query on every booking.
            return handler(view, request, *args, check_queue=True, **kwargs)
        if ref is None:
            try:
                ensure_no_queue(event_id)
            except QueueRequired:
                current_account(request)  # a closed account is a 401 before any other answer
                raise
        response = handler(view, request, *args, **kwargs)
        if ref is not None and 200 <= response.status_code < 300 and ref.number:
            _mark_used(ref)
        return response

    return wrapper


def _mark_used(ref: AdmissionRef) -> None:
    try:
        store().consume(event_id=ref.event_id, number=ref.number)
    except Exception as exc:  # the booking is done; a lost mark only frees its slot later
        logger.warning("waiting room: could not mark admission used: %s", exc.__class__.__name__)
