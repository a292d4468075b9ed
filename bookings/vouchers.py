"""Vouchers: codes staff give out that take money off an event's tickets.

A booking applies one by code (`voucher_for_booking`) under its event's lock, then the
voucher's row lock (core/locks.py: after the ticket types, before any booking row). Its use is
counted in the booking's transaction (`voucher_count_use`) and given back in the transaction
that cancels or expires the booking (`voucher_give_back`), the voucher's row locked first
(`vouchers_lock`). So `used <= max_uses` holds at every commit, however many buyers race for
the last use: the second waits on the row and then finds it used up.

Money stays Decimal throughout: a percent discount is rounded to the cent, half up, per
ticket; no ticket's price goes below zero.
"""

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.db import IntegrityError, transaction
from django.db.models import F, QuerySet
from django.db.models.functions import Lower
from django.utils import timezone

from accounts.models import User
from bookings.models import Booking, BookingItem, Voucher
from core import locks
from core.exceptions import Invalid, VoucherInvalid, VoucherUsed
from core.lookups import get_or_not_found
from events.models import Event, TicketType

CENT = Decimal("0.01")


@dataclass(frozen=True)
class Priced:
    """A booking's items as written: each line's amount and what the voucher took off."""

    items: list[BookingItem]

    @property
    def quantity(self) -> int:
        return sum(item.quantity for item in self.items)

    @property
    def discount(self) -> Decimal:
        return sum((item.discount for item in self.items), Decimal("0.00"))

    @property
    def total(self) -> Decimal:
        return sum((item.amount - item.discount for item in self.items), Decimal("0.00"))


def ticket_discount(voucher: Voucher, unit_price: Decimal) -> Decimal:
    """What `voucher` takes off one ticket at `unit_price`: never more than the price."""
    if voucher.discount_type == Voucher.DiscountType.PERCENT:
        off = (unit_price * voucher.value / 100).quantize(CENT, rounding=ROUND_HALF_UP)
    else:
        off = voucher.value
    return min(off, unit_price)


def applies_to(voucher: Voucher, ticket_type_id) -> bool:
    return voucher.ticket_type_id is None or voucher.ticket_type_id == ticket_type_id


def priced(lines: list[tuple[TicketType, int]], voucher: Voucher | None) -> Priced:
    """The items of a booking of `lines` at their types' prices now, less `voucher`'s
    discount on the tickets of its type (of every type when it has none)."""
    items = []
    for ticket_type, quantity in lines:
        amount = ticket_type.price * quantity
        discount = Decimal("0.00")
        if voucher is not None and applies_to(voucher, ticket_type.pk):
            discount = ticket_discount(voucher, ticket_type.price) * quantity
        items.append(
            BookingItem(
                ticket_type=ticket_type,
                quantity=quantity,
                unit_price=ticket_type.price,
                amount=amount,
                discount=discount,
            )
        )
    return Priced(items)


# --- applying at booking ------------------------------------------------------------------


def _lock_by_code(event: Event, code: str) -> Voucher | None:
    queryset = Voucher.objects.alias(code_lower=Lower("code")).filter(
        event=event, code_lower=code.strip().lower()
    )
    return locks.rows(queryset, locks.VOUCHER).first()


def voucher_for_booking(
    event: Event, code: str, lines: list[tuple[TicketType, int]], now
) -> Voucher:
    """The event's voucher `code` (any letter case), its row locked, that a booking of
    `lines` may apply now; else 409 voucher_invalid saying why. The caller holds the event's
    lock and its types'."""
    voucher = _lock_by_code(event, code)
    if voucher is None:
        raise VoucherInvalid("No voucher with this code for this event.")
    if not voucher.usable_at(now):
        raise VoucherInvalid("This voucher is no longer valid.")
    if voucher.used >= voucher.max_uses:
        raise VoucherInvalid("This voucher has been used up.")
    if not any(applies_to(voucher, ticket_type.pk) for ticket_type, _ in lines):
        raise VoucherInvalid("This voucher is for other tickets of this event.")
    return voucher


def voucher_count_use(voucher: Voucher) -> None:
    """Count one use of a voucher this transaction locked and found not used up."""
    voucher.used += 1
    voucher.save(update_fields=["used", "updated_at"])


def voucher_ids(bookings: QuerySet) -> list:
    """The vouchers `bookings` applied (to lock with `vouchers_lock`)."""
    return list(bookings.exclude(voucher=None).values_list("voucher_id", flat=True).distinct())


def vouchers_lock(ids: Iterable) -> None:
    """Lock vouchers by id, in id order, before the rows of the bookings that applied them:
    the caller may then give their uses back. The caller holds their event's lock, under which
    which vouchers its bookings applied cannot change (a booking's voucher never does)."""
    ids = sorted({pk for pk in ids if pk is not None})
    if ids:
        queryset = Voucher.objects.filter(pk__in=ids).order_by("pk").values_list("pk")
        list(locks.rows(queryset, locks.VOUCHER))


def voucher_give_back(bookings: list[Booking]) -> None:
    """Give back the uses of bookings that ended (cancelled or expired) in this transaction,
    whose vouchers it locked (`vouchers_lock`)."""
    uses = Counter(b.voucher_id for b in bookings if b.voucher_id is not None)
    now = timezone.now()
    for voucher_id, count in sorted(uses.items()):
        Voucher.objects.filter(pk=voucher_id).update(used=F("used") - count, updated_at=now)


def voucher_count_again(voucher_id) -> bool:
    """Count the use of a voucher (locked by the caller) again for a booking that comes back
    after it ended (paid after its hold expired), if the voucher has a use left."""
    return bool(
        Voucher.objects.filter(pk=voucher_id, used__lt=F("max_uses")).update(
            used=F("used") + 1, updated_at=timezone.now()
        )
    )


# --- staff ---------------------------------------------------------------------------------


def vouchers_of_event(*, event_id) -> QuerySet:
    get_or_not_found(Event.objects.all(), pk=event_id, message="No event with this id.")
    return Voucher.objects.filter(event_id=event_id).order_by("code", "id")


def _ticket_type(event_id, ticket_type_id) -> TicketType | None:
    """The event's type a voucher is for (None: every type); another's is a 400."""
    if ticket_type_id is None:
        return None
    ticket_type = TicketType.objects.filter(pk=ticket_type_id, event_id=event_id).first()
    if ticket_type is None:
        raise Invalid({"ticket_type_id": ["No ticket type with this id for this event."]})
    return ticket_type


def _check_value(discount_type: str, value: Decimal) -> None:
    if discount_type == Voucher.DiscountType.PERCENT and value > 100:
        raise Invalid({"value": ["A percent discount is at most 100."]})


def _saved(voucher: Voucher, **save) -> Voucher:
    """Save, answering a code the event already has as a 400 on `code`."""
    try:
        with transaction.atomic():
            voucher.save(**save)
    except IntegrityError as error:
        if "bookings_voucher_code_unique_per_event" not in str(error):
            raise
        raise Invalid({"code": ["This event already has a voucher with this code."]}) from None
    return voucher


def voucher_create(*, event_id, actor: User, ticket_type_id=None, **fields) -> Voucher:
    event = get_or_not_found(Event.objects.all(), pk=event_id, message="No event with this id.")
    ticket_type = _ticket_type(event.pk, ticket_type_id)
    _check_value(fields["discount_type"], fields["value"])
    return _saved(Voucher(event=event, ticket_type=ticket_type, **fields))


def voucher_update(*, voucher_id, actor: User, changes: dict) -> Voucher:
    """Change a voucher under its row lock, so a booking counting a use waits or is waited
    for; `max_uses` may not drop below the uses counted."""
    with transaction.atomic():
        voucher = get_or_not_found(
            locks.rows(Voucher.objects.all(), locks.VOUCHER),
            pk=voucher_id,
            message="No voucher with this id.",
        )
        if "ticket_type_id" in changes:
            voucher.ticket_type = _ticket_type(voucher.event_id, changes.pop("ticket_type_id"))
        for name, value in changes.items():
            setattr(voucher, name, value)
        _check_value(voucher.discount_type, voucher.value)
        if voucher.max_uses < voucher.used:
            raise Invalid(
                {"max_uses": [f"At least {voucher.used}: the voucher is used that many times."]}
            )
        return _saved(voucher)


def voucher_delete(*, voucher_id, actor: User) -> None:
    """Delete a voucher no booking ever applied; else 409 voucher_used (deactivate it)."""
    with transaction.atomic():
        voucher = get_or_not_found(
            locks.rows(Voucher.objects.all(), locks.VOUCHER),
            pk=voucher_id,
            message="No voucher with this id.",
        )
        if Booking.objects.filter(voucher=voucher).exists():
            raise VoucherUsed()
        voucher.delete()
