"""`Idempotency-Key` support for the writes a client may need to retry safely.

A client that timed out can send the same request again with the same key: the first
response is replayed byte for byte (with `Idempotent-Replayed: true`) and nothing changes.
Keys are scoped to the caller and kept 24 hours. Only successful responses are remembered;
a refused request (4xx) consumed nothing, so retrying it runs it again.

The key row must commit with the change or not at all, so the handler's transaction is a
savepoint of the key's: any lock the handler takes (a booking's event row) is held until the
answer is rendered and the key row written, one statement longer than without a key.

A closed (deactivated or deleted) account is refused before a key answers for it: the replay,
the 422 of a reused key and the 409 of one in flight each check the account first. A request
that runs its handler leaves that check to the handler (the booking makes it inside its own
statements), so the common keyed request costs no extra query.
"""

import functools
import hashlib
import json
import re
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.db import transaction
from django.http import HttpResponse
from django.utils import timezone
from rest_framework.exceptions import APIException, ValidationError

from core import locks
from core.exceptions import (
    AccountClosed,
    DomainError,
    IdempotencyKeyInFlight,
    IdempotencyKeyReused,
)
from core.models import IdempotencyKey

HEADER = "Idempotency-Key"
RETENTION = timedelta(hours=24)
_VALID_KEY = re.compile(r"[\x20-\x7e]{1,255}")


def _fingerprint(request) -> str:
    body = json.dumps(request.data, sort_keys=True, separators=(",", ":"), default=str)
    raw = f"{request.method}\n{request.path.rstrip('/')}\n{body}"
    return hashlib.sha256(raw.encode()).hexdigest()


def _try_claim(user_id, key: str) -> bool:
    """Hold a lock on (user, key) until the transaction ends; False if another request has it,
    so the second of two concurrent requests learns at once that the first is in flight."""
    return locks.try_lock_idempotency_key(user_id, key)


def _ensure_account_live(user) -> None:
    """401 for a caller whose account was deleted or deactivated since its token was made."""
    if not get_user_model()._default_manager.filter(pk=user.pk, is_active=True).exists():
        raise AccountClosed()


def _replay(stored: IdempotencyKey) -> HttpResponse:
    response = HttpResponse(
        bytes(stored.body), status=stored.status_code, content_type=stored.content_type
    )
    response["Idempotent-Replayed"] = "true"
    return response


def _remember(view, request, response, user, key, fingerprint, args, kwargs) -> None:
    # Render now, as DRF would, so the stored bytes are exactly what is sent.
    response = view.finalize_response(request, response, *args, **kwargs)
    response.render()
    IdempotencyKey.objects.create(
        user=user,
        key=key,
        fingerprint=fingerprint,
        status_code=response.status_code,
        content_type=response["Content-Type"],
        body=response.content,
    )


def idempotent(handler):
    """Make a DRF view handler honor `Idempotency-Key`."""

    @functools.wraps(handler)
    def wrapper(view, request, *args, **kwargs):
        key = request.headers.get(HEADER)
        if key is None:
            return handler(view, request, *args, **kwargs)
        if not _VALID_KEY.fullmatch(key):
            raise ValidationError({HEADER: ["Must be 1 to 255 printable ASCII characters."]})
        fingerprint = _fingerprint(request)
        user = request.user
        with transaction.atomic():
            if not _try_claim(user.pk, key):
                _ensure_account_live(user)
                raise IdempotencyKeyInFlight()
            stored = IdempotencyKey.objects.filter(user=user, key=key).first()
            if stored and stored.created_at > timezone.now() - RETENTION:
                _ensure_account_live(user)
                if stored.fingerprint != fingerprint:
                    raise IdempotencyKeyReused()
                return _replay(stored)
            if stored:  # older than the retention: the key is free again
                stored.delete()
            try:
                response = handler(view, request, *args, **kwargs)
            except (DomainError, APIException) as exc:
                # A refusal: the service already undid its own work, except what it meant to
                # keep (an overdue offer expired on the spot), which commits with this block.
                refusal = exc
            else:
                refusal = None
                if 200 <= response.status_code < 300:
                    _remember(view, request, response, user, key, fingerprint, args, kwargs)
        if refusal is not None:
            raise refusal
        return response

    return wrapper


def idempotency_keys_prune(*, now=None) -> int:
    """Delete keys past their 24 hours."""
    cutoff = (now or timezone.now()) - RETENTION
    deleted, _ = IdempotencyKey.objects.filter(created_at__lt=cutoff).delete()
    return deleted
