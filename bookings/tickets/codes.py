"""Ticket ids and codes, computed from a booking and a seat index: nothing is stored to issue
a ticket, so booking runs no extra statement for its tickets.

The code, which the QR code carries and the door scans, is

    base64url(booking id (16 bytes) + index (1 byte) + HMAC-SHA256(key, those 17 bytes)[:16])

44 URL-safe characters. The MAC is 128 bits under `TICKET_SIGNING_KEY` (derived from
`SECRET_KEY` when unset), so a code cannot be guessed, and knowing some codes (all of a
booking's, say) tells nothing about any other: changing one character makes a code unknown.
Checking a code is CPU only; the booking it names is then read from the database.

The ticket id is a UUID, as every id of the API is, from which the booking and the index can be
read back without a lookup table: the booking's id (a version-4 UUID, as the model and
PostgreSQL's gen_random_uuid make them) with the six bits a version-4 UUID fixes put to other
use: the version nibble holds the index (0-9) and the variant bits are set to `11`, which no
booking id has. The id is not a secret (it names the ticket in the owner's routes); the code
is.
"""

import base64
import hmac
import re
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.utils.crypto import salted_hmac

from bookings.models import MAX_TICKETS_PER_BOOKING

_MAC_BYTES = 16
_CODE = re.compile(r"[A-Za-z0-9_-]{44}")  # 33 bytes: no padding, one spelling per code
_SALT = "evently.bookings.tickets"


@dataclass(frozen=True)
class TicketRef:
    """Which ticket: the booking, and the seat within it (0 for the first)."""

    booking_id: uuid.UUID
    index: int

    def __post_init__(self):
        if not 0 <= self.index < MAX_TICKETS_PER_BOOKING:
            raise ValueError(f"a ticket index is 0 to {MAX_TICKETS_PER_BOOKING - 1}")


def _mac(payload: bytes) -> bytes:
    secret = settings.TICKET_SIGNING_KEY or settings.SECRET_KEY
    return salted_hmac(_SALT, payload, secret=secret, algorithm="sha256").digest()[:_MAC_BYTES]


def _payload(ref: TicketRef) -> bytes:
    return ref.booking_id.bytes + bytes([ref.index])


def ticket_code(ref: TicketRef) -> str:
    payload = _payload(ref)
    return base64.urlsafe_b64encode(payload + _mac(payload)).decode("ascii")


def ref_from_code(code: str) -> TicketRef | None:
    """The ticket a code names, or None for anything that is not a code this server signed."""
    if not isinstance(code, str) or not _CODE.fullmatch(code):
        return None
    raw = base64.urlsafe_b64decode(code)
    payload, mac = raw[:-_MAC_BYTES], raw[-_MAC_BYTES:]
    if not hmac.compare_digest(mac, _mac(payload)):
        return None
    if payload[16] >= MAX_TICKETS_PER_BOOKING:
        return None
    return TicketRef(uuid.UUID(bytes=payload[:16]), payload[16])


def ticket_id(ref: TicketRef) -> uuid.UUID:
    raw = bytearray(ref.booking_id.bytes)
    if raw[6] >> 4 != 4 or raw[8] >> 6 != 0b10:
        raise ValueError(f"booking id {ref.booking_id} is not a version-4 UUID")
    raw[6] = (ref.index << 4) | (raw[6] & 0x0F)
    raw[8] = 0xC0 | (raw[8] & 0x3F)
    return uuid.UUID(bytes=bytes(raw))


def ref_from_ticket_id(value) -> TicketRef | None:
    """The ticket an id names, or None when `value` is not a ticket id (a booking id, say)."""
    try:
        raw = bytearray(uuid.UUID(str(value)).bytes)
    except ValueError:
        return None
    index = raw[6] >> 4
    if raw[8] >> 6 != 0b11 or index >= MAX_TICKETS_PER_BOOKING:
        return None
    raw[6] = 0x40 | (raw[6] & 0x0F)
    raw[8] = 0x80 | (raw[8] & 0x3F)
    return TicketRef(uuid.UUID(bytes=bytes(raw)), index)
