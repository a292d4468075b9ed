"""The waiting room's two signed tokens, checked with a key and nothing else.

- The queue token names a place (event, arrival number) and is bound to the person who joined:
  `GET /queue/{token}` reads the place from it without looking anything up.
- The admission token lets its person book that event until it expires. `POST /bookings`
  verifies it with the event id of the body and the caller's id alone, so a token is worthless
  for another event or in another person's hands, and changing any character breaks its MAC.

Both are base64url of a fixed layout followed by 128 bits of HMAC-SHA256, keyed from
`SECRET_KEY` with a salt of each kind, so one cannot stand in for the other. The key is
Django's `salted_hmac` key (SHA-256 of salt and secret), derived once per salt and secret
rather than on every token: a poll checks one token and may sign another, and deriving the
key, with `salted_hmac`'s conversions around it, was most of what that cost.
"""

import base64
import binascii
import hashlib
import hmac
import struct
import uuid
from dataclasses import dataclass

from django.conf import settings

_MAC_BYTES = 16
_QUEUE_SALT = "evently.waitingroom.place"
_ADMISSION_SALT = "evently.waitingroom.admission"
_PLACE = struct.Struct(">16sQ")  # event id, arrival number
_ADMISSION = struct.Struct(">16sQQ")  # event id, arrival number, expiry (unix seconds)


@dataclass(frozen=True)
class PlaceRef:
    event_id: uuid.UUID
    number: int


@dataclass(frozen=True)
class AdmissionRef:
    event_id: uuid.UUID
    number: int
    expires_at: int  # unix seconds


_keys: dict[tuple[str, str], bytes] = {}


def _key(salt: str) -> bytes:
    """`salted_hmac`'s key for `salt` and the current SECRET_KEY (which tests may change)."""
    secret = settings.SECRET_KEY
    key = _keys.get((salt, secret))
    if key is None:
        key = _keys[salt, secret] = hashlib.sha256((salt + secret).encode()).digest()
    return key


def _mac(salt: str, payload: bytes, user_id) -> bytes:
    """What `salted_hmac(salt, payload + user id, algorithm="sha256")` gives, cut to 128 bits."""
    return hmac.digest(_key(salt), payload + str(user_id).encode(), "sha256")[:_MAC_BYTES]


def _encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _decode(token: str, size: int) -> bytes | None:
    if not isinstance(token, str) or len(token) > 100:
        return None
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except (binascii.Error, ValueError):
        return None
    return raw if len(raw) == size + _MAC_BYTES else None


def _open(salt: str, layout: struct.Struct, token: str, user_id) -> tuple | None:
    raw = _decode(token, layout.size)
    if raw is None:
        return None
    payload, mac = raw[: layout.size], raw[layout.size :]
    if not hmac.compare_digest(mac, _mac(salt, payload, user_id)):
        return None
    return layout.unpack(payload)


def place_token(*, event_id: uuid.UUID, number: int, user_id) -> str:
    payload = _PLACE.pack(event_id.bytes, number)
    return _encode(payload + _mac(_QUEUE_SALT, payload, user_id))


def read_place_token(token: str, *, user_id) -> PlaceRef | None:
    """The place, if `token` is one and belongs to `user_id`; else None."""
    fields = _open(_QUEUE_SALT, _PLACE, token, user_id)
    return PlaceRef(uuid.UUID(bytes=fields[0]), fields[1]) if fields else None


def admission_token(*, event_id: uuid.UUID, number: int, expires_at: int, user_id) -> str:
    payload = _ADMISSION.pack(event_id.bytes, number, expires_at)
    return _encode(payload + _mac(_ADMISSION_SALT, payload, user_id))


def read_admission_token(token: str, *, user_id) -> AdmissionRef | None:
    """The admission, if `token` is one and belongs to `user_id` (expired or not); else None."""
    fields = _open(_ADMISSION_SALT, _ADMISSION, token, user_id)
    return AdmissionRef(uuid.UUID(bytes=fields[0]), fields[1], fields[2]) if fields else None
