"""Writing webhook messages, inside the transaction of the change they report.

One message row per change, and in the same statement one delivery row per endpoint that is
active and subscribed to its type then; with no such endpoint nothing is written. On
PostgreSQL that is one statement (`_FAN_OUT_SQL`), the only one a booking pays for its
webhook: the booking is the write a flash sale repeats, and bookings/statements.py keeps it
to two statements. Elsewhere (SQLite, a laptop) the ORM does the same in three.
"""

import json
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime

from django.db import connection, models
from django.utils import timezone
from rest_framework.utils.encoders import JSONEncoder

from webhooks.models import (
    ALL_TYPES,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookMessage,
)


def _q(name: str) -> str:
    return connection.ops.quote_name(name)


def _column(model, field: str) -> str:
    return _q(model._meta.get_field(field).column)


def timestamp_text(at: datetime) -> str:
    """ISO 8601 in UTC with `Z`, as the API writes its times."""
    text = at.astimezone(UTC).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def message_body(type: str, at: datetime, data: dict) -> str:
    """The exact JSON every try of the message sends and signs."""
    body = {"type": type, "timestamp": timestamp_text(at), "data": data}
    return json.dumps(body, cls=JSONEncoder, ensure_ascii=False, separators=(",", ":"))


def subscribes(events: list, type: str) -> bool:
    return ALL_TYPES in events or type in events


def _fan_out_sql(count: int, only_with: type[models.Model] | None = None) -> str:
    e, m, d = WebhookEndpoint, WebhookMessage, WebhookDelivery
    row = "(%s::uuid, %s, %s, %s::timestamptz)"
    exists = ""
    if only_with is not None:
        meta = only_with._meta
        exists = f"AND EXISTS (SELECT 1 FROM {_q(meta.db_table)} WHERE {_q(meta.pk.column)} = %s) "
    return (
        f"WITH endpoint AS (SELECT {_column(e, 'id')} AS id FROM {_q(e._meta.db_table)} "
        f"WHERE {_column(e, 'is_active')} AND ({_column(e, 'events')} @> %s::jsonb "
        f"OR {_column(e, 'events')} @> %s::jsonb)), "
        f"message AS (INSERT INTO {_q(m._meta.db_table)} ({_column(m, 'id')}, "
        f"{_column(m, 'type')}, {_column(m, 'body')}, {_column(m, 'created_at')}) "
        f"SELECT * FROM (VALUES {', '.join([row] * count)}) AS v "
        f"WHERE EXISTS (SELECT 1 FROM endpoint) {exists}RETURNING {_column(m, 'id')} AS id, "
        f"{_column(m, 'created_at')} AS at) "
        f"INSERT INTO {_q(d._meta.db_table)} ({_column(d, 'id')}, {_column(d, 'message')}, "
        f"{_column(d, 'endpoint')}, {_column(d, 'status')}, {_column(d, 'attempts')}, "
        f"{_column(d, 'next_attempt_at')}, {_column(d, 'created_at')}) "
        f"SELECT gen_random_uuid(), message.id, endpoint.id, %s, 0, message.at, message.at "
        f"FROM message CROSS JOIN endpoint"
    )


_SQL: dict[tuple, str] = {}


def record(
    type: str,
    objects: Iterable[dict],
    at: datetime | None = None,
    only_with: models.Model | None = None,
) -> None:
    """Write one message of `type` per object (its `data`), for every subscribed endpoint,
    in the caller's transaction. At most one statement on PostgreSQL.

    With `only_with` (a model instance), nothing is written unless its row exists when the
    statement runs: for a caller that sends this before it knows whether its own write
    happened (bookings.statements' one round trip)."""
    at = at or timezone.now()
    rows = [(uuid.uuid4(), type, message_body(type, at, data), at) for data in objects]
    if not rows:
        return
    model = None if only_with is None else only_with._meta.model
    if connection.vendor == "postgresql":
        key = (len(rows), model)
        sql = _SQL.get(key) or _fan_out_sql(len(rows), model)
        if len(rows) <= 8:  # the common sizes, built once
            _SQL[key] = sql
        params = [json.dumps([type]), json.dumps([ALL_TYPES])]
        for row in rows:
            params.extend(row)
        if only_with is not None:
            params.append(only_with.pk)
        params.append(WebhookDelivery.Status.PENDING)
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
        return
    if only_with is not None and not model._default_manager.filter(pk=only_with.pk).exists():
        return
    endpoints = [
        e.pk for e in WebhookEndpoint.objects.filter(is_active=True) if subscribes(e.events, type)
    ]
    if not endpoints:
        return
    messages = WebhookMessage.objects.bulk_create(
        WebhookMessage(id=id, type=type, body=body, created_at=at) for id, type, body, at in rows
    )
    WebhookDelivery.objects.bulk_create(
        WebhookDelivery(message=message, endpoint_id=endpoint, next_attempt_at=at, created_at=at)
        for message in messages
        for endpoint in endpoints
    )
