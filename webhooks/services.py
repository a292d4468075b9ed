"""Every write of the webhooks app: registering endpoints, rotating their secrets, queueing a
test message, retrying a delivery, replaying failed ones."""

import base64
import secrets
import uuid
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from core.exceptions import Invalid
from core.lookups import get_or_not_found
from webhooks import network, outbox
from webhooks.models import (
    ALL_TYPES,
    TEST_TYPE,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookMessage,
)

ROTATION_OVERLAP = timedelta(hours=24)  # the old secret keeps signing this long
EDITABLE_FIELDS = {"url", "events", "description", "is_active"}

Status = WebhookDelivery.Status


def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def _events(events: list[str]) -> list[str]:
    # "*" covers every type; otherwise each type once, in the order given.
    return [ALL_TYPES] if ALL_TYPES in events else list(dict.fromkeys(events))


def _check_url(url: str) -> None:
    try:
        network.check(url)
    except network.UnsafeURL as exc:
        raise Invalid({"url": [str(exc)]}) from None


def endpoint_get(endpoint_id) -> WebhookEndpoint:
    return get_or_not_found(
        WebhookEndpoint.objects.all(), pk=endpoint_id, message="No webhook endpoint with this id."
    )


def _locked(endpoint: WebhookEndpoint) -> WebhookEndpoint:
    # FOR NO KEY UPDATE: it does not wait for, nor hold up, the bookings whose delivery rows
    # point at this endpoint (their foreign key takes KEY SHARE on it).
    return WebhookEndpoint.objects.select_for_update(no_key=True).get(pk=endpoint.pk)


def endpoint_create(
    *, actor: User, url: str, events: list[str], description: str = "", is_active: bool = True
) -> WebhookEndpoint:
    """Register an endpoint with a new secret, which the caller shows this once."""
    _check_url(url)
    return WebhookEndpoint.objects.create(
        url=url,
        events=_events(events),
        description=description,
        is_active=is_active,
        secret=new_secret(),
        created_by=actor,
    )


def endpoint_update(*, endpoint_id, actor: User, changes: dict[str, Any]) -> WebhookEndpoint:
    """Staff's edit. Enabling an endpoint clears why it was disabled and its failing streak;
    its waiting deliveries go out again."""
    unknown = set(changes) - EDITABLE_FIELDS
    if unknown:
        raise ValueError(f"not editable: {sorted(unknown)}")
    if "url" in changes:
        _check_url(changes["url"])
    if "events" in changes:
        changes["events"] = _events(changes["events"])
    with transaction.atomic():
        endpoint = endpoint_get(endpoint_id)
        endpoint = _locked(endpoint)
        if changes.get("is_active") and not endpoint.is_active:
            endpoint.disabled_reason = ""
            endpoint.failing_since = None
        for name, value in changes.items():
            setattr(endpoint, name, value)
        endpoint.save()
    return endpoint


def endpoint_delete(*, endpoint_id, actor: User) -> None:
    """Delete an endpoint with its deliveries and their attempts (the messages stay)."""
    endpoint_get(endpoint_id).delete()


def endpoint_rotate_secret(*, endpoint_id, actor: User, now: datetime | None = None):
    """A new secret; the old one keeps signing beside it for 24 hours, so receivers can
    switch without losing a message."""
    now = now or timezone.now()
    with transaction.atomic():
        endpoint = endpoint_get(endpoint_id)
        endpoint = _locked(endpoint)
        endpoint.previous_secret = endpoint.secret
        endpoint.previous_secret_expires_at = now + ROTATION_OVERLAP
        endpoint.secret = new_secret()
        endpoint.save()
    return endpoint


def endpoint_send_test(*, endpoint_id, actor: User) -> WebhookDelivery:
    """Queue a `webhook.test` message for this endpoint alone, whatever it subscribes to."""
    endpoint = endpoint_get(endpoint_id)
    now = timezone.now()
    data = {"endpoint_id": str(endpoint.pk), "message": "A test message from Evently."}
    with transaction.atomic():
        message = WebhookMessage.objects.create(
            id=uuid.uuid4(),
            type=TEST_TYPE,
            body=outbox.message_body(TEST_TYPE, now, data),
            created_at=now,
        )
        return WebhookDelivery.objects.create(
            message=message, endpoint=endpoint, next_attempt_at=now, created_at=now
        )


def delivery_retry(*, delivery_id, actor: User) -> WebhookDelivery:
    """Send a delivery again at once (the worker's next round), whatever became of it: a
    failed one, or one the receiver says it lost. It keeps its `webhook-id`."""
    with transaction.atomic():
        delivery = get_or_not_found(
            WebhookDelivery.objects.select_for_update(of=("self",)).select_related(
                "message", "endpoint"
            ),
            pk=delivery_id,
            message="No webhook delivery with this id.",
        )
        delivery.status = Status.PENDING
        delivery.next_attempt_at = timezone.now()
        delivery.claimed_until = None
        delivery.save(update_fields=["status", "next_attempt_at", "claimed_until"])
    return delivery


def deliveries_replay(
    *, since: datetime, until: datetime, endpoint_id=None, now: datetime | None = None
) -> int:
    """Queue again every failed delivery of messages written in [since, until): how an
    operator replays a day a receiver lost. Returns how many."""
    rows = WebhookDelivery.objects.filter(
        status=Status.FAILED, message__created_at__gte=since, message__created_at__lt=until
    )
    if endpoint_id is not None:
        rows = rows.filter(endpoint_id=endpoint_id)
    with transaction.atomic():
        return rows.update(
            status=Status.PENDING, next_attempt_at=now or timezone.now(), claimed_until=None
        )
