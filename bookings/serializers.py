import re
from datetime import datetime
from decimal import Decimal

from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from bookings.checkout import payment_url
from bookings.models import MAX_TICKETS_PER_BOOKING, Booking, BookingItem, Payment, Voucher
from core.serializers import OneLineCharField, StrictInputSerializer
from events.serializers import EventSummarySerializer
from waitlist.serializers import WaitlistEntrySerializer


class BookingItemSerializer(serializers.ModelSerializer):
    ticket_type_id = serializers.UUIDField(read_only=True)
    name = serializers.CharField(source="ticket_type.name", read_only=True)

    class Meta:
        model = BookingItem
        fields = ["ticket_type_id", "name", "quantity", "unit_price", "amount"]
        read_only_fields = fields


class BookingSerializer(serializers.ModelSerializer):
    event_id = serializers.UUIDField(read_only=True)
    status = serializers.ChoiceField(
        source="shown_status",
        choices=Booking.Status.choices,
        read_only=True,
        help_text="pending_payment: a checkout holding its seats until expires_at; expired: "
        "its hold ended unpaid.",
    )
    event = EventSummarySerializer(read_only=True)
    user_id = serializers.UUIDField(read_only=True)
    items = BookingItemSerializer(
        source="item_rows",
        many=True,
        read_only=True,
        help_text="One line per ticket type; total_amount is the sum of their amounts less "
        "discount_amount.",
    )

    class Meta:
        model = Booking
        fields = [
            "id",
            "event_id",
            "event",
            "user_id",
            "quantity",
            "items",
            "total_amount",
            "discount_amount",
            "voucher_code",
            "status",
            "expires_at",
            "refunded_amount",
            "booking_time",
            "cancelled_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields
        extra_kwargs = {
            "expires_at": {
                "help_text": "A checkout's hold ends here; null once confirmed when made."
            },
            "refunded_amount": {
                "help_text": "What the provider gave back (a cancelled paid booking)."
            },
            "discount_amount": {"help_text": "What the voucher took off the items."},
            "voucher_code": {
                "help_text": "The voucher applied, as typed when booked; empty without one."
            },
        }


class MyBookingSerializer(BookingSerializer):
    tickets = serializers.IntegerField(
        source="quantity",
        read_only=True,
        help_text="Tickets the booking carries, one per seat: "
        "GET /api/bookings/{id}/tickets lists them.",
    )

    class Meta(BookingSerializer.Meta):
        fields = [*BookingSerializer.Meta.fields, "tickets"]
        read_only_fields = fields


_AMOUNT = serializers.DecimalField(max_digits=12, decimal_places=2)


def _when(value: datetime, tz=None) -> str:
    """What DRF's DateTimeField answers for an aware datetime with the ISO 8601 output format
    (the project's): the time in the current time zone (or `tz`), `Z` for UTC. Without the
    field's per-call look-ups of its format and time zone, which were most of the answer's
    cost."""
    text = value.astimezone(tz or timezone.get_current_timezone()).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def booking_body(booking: Booking) -> dict:
    """`BookingSerializer(booking).data`, built directly, for the answer to a new booking and
    its webhook message. Read-only: the same dict is answered again while the booking is as it
    was (`_body_state`), so a new booking's message and answer build it once.

    DRF rebuilds a ModelSerializer's fields, and its nested event's, on every instantiation:
    profiled, a fifth of a booking's CPU went there. The same fields in the same order, each
    formatted by the DRF field the serializer uses; tests/bookings/test_booking_body.py holds
    it to the serializer.
    """
    tz = timezone.get_current_timezone()
    state = _body_state(booking, tz)
    built = booking.__dict__.get("_built_body")
    if built is not None and built[0] == state:
        return built[1]
    body = _booking_body(booking, tz)
    booking._built_body = (state, body)
    return body


def _body_state(booking: Booking, tz) -> tuple:
    """What may change of a booking while a request holds it (its status and what goes with
    it, its items once read) and the time zone its times are shown in; the rest of its body is
    fixed when it is made."""
    return (
        booking.status,
        booking.updated_at,
        booking.expires_at,
        booking.cancelled_at,
        booking.refunded_amount,
        booking.__dict__.get("item_list"),
        booking.event,
        tz,
    )


def _booking_body(booking: Booking, tz) -> dict:
    event = booking.event

    def when(value: datetime) -> str:
        return _when(value, tz)

    return {
        "id": str(booking.pk),
        "event_id": str(booking.event_id),
        "event": {
            "id": str(event.pk),
            "name": event.name,
            "event_time": when(event.event_time),
            "venue": event.venue,
        },
        "user_id": str(booking.user_id),
        "quantity": booking.quantity,
        "items": [
            {
                "ticket_type_id": str(item.ticket_type_id),
                "name": item.ticket_type.name,
                "quantity": item.quantity,
                "unit_price": _AMOUNT.to_representation(item.unit_price),
                "amount": _AMOUNT.to_representation(item.amount),
            }
            for item in booking.item_rows
        ],
        "total_amount": _AMOUNT.to_representation(booking.total_amount),
        "discount_amount": _AMOUNT.to_representation(booking.discount_amount),
        "voucher_code": booking.voucher_code,
        "status": booking.status,
        "expires_at": when(booking.expires_at) if booking.expires_at else None,
        "refunded_amount": _AMOUNT.to_representation(booking.refunded_amount),
        "booking_time": when(booking.booking_time),
        "cancelled_at": when(booking.cancelled_at) if booking.cancelled_at else None,
        "created_at": when(booking.created_at),
        "updated_at": when(booking.updated_at),
    }


class MyBookingsQuerySerializer(serializers.Serializer):
    status = serializers.ChoiceField(
        choices=Booking.Status.choices, required=False, help_text="Only bookings in this state."
    )


class BookingItemInputSerializer(StrictInputSerializer):
    ticket_type_id = serializers.UUIDField()
    quantity = serializers.IntegerField(min_value=1, max_value=MAX_TICKETS_PER_BOOKING)


def _items_serializer(**kwargs) -> serializers.ListSerializer:
    return BookingItemInputSerializer(
        many=True, min_length=1, max_length=MAX_TICKETS_PER_BOOKING, **kwargs
    )


@extend_schema_field(_items_serializer())
class BookingItemsField(serializers.Field):
    """`items`, read by a list of BookingItemInputSerializer only when a body has them.

    Declared as that nested serializer, the list and its child would be copied and built again
    for every booking body, `items` or not: a plain booking would pay for them."""

    def to_internal_value(self, data):
        lines = _items_serializer(data=data)
        if not lines.is_valid():
            raise serializers.ValidationError(lines.errors)
        return lines.validated_data

    def to_representation(self, value):
        return _items_serializer(instance=value).data


class BookingCreateInputSerializer(StrictInputSerializer):
    """A booking: tickets of the event's only type (`quantity`), or of its types (`items`)."""

    event_id = serializers.UUIDField()
    quantity = serializers.IntegerField(
        min_value=1,
        max_value=MAX_TICKETS_PER_BOOKING,
        required=False,
        help_text="Tickets of the event's only active type (with several: 400 "
        "ticket_type_required). Give this or `items`.",
    )
    items = BookingItemsField(
        required=False,
        help_text="Tickets per type, all or nothing (lines of one type add up); more than 10 in "
        "all is 409 ticket_limit. Give this or `quantity`.",
    )
    voucher = serializers.CharField(
        required=False,
        max_length=64,
        help_text="A voucher code of the event (any letter case): its discount off the tickets "
        "of its type. Unknown, inactive, past its date or used up: 409 voucher_invalid.",
    )
    join_waitlist = serializers.BooleanField(
        default=True,
        help_text="When sold out: join the waitlist (202; one type only, without a voucher) or "
        "answer 409 sold_out.",
    )

    _ONE_OF = "Give either quantity or items, not both nor neither."

    def to_internal_value(self, data):
        # Said beside the fields' own errors, so a body missing everything hears of all of it.
        given = isinstance(data, dict) and ("quantity" in data) + ("items" in data)
        try:
            value = super().to_internal_value(data)
        except serializers.ValidationError as exc:
            if given is not False and given != 1 and isinstance(exc.detail, dict):
                exc.detail.setdefault("quantity", [self._ONE_OF])
            raise
        if given != 1:
            raise serializers.ValidationError({"quantity": [self._ONE_OF]})
        return value


class PaymentSerializer(serializers.ModelSerializer):
    """A payment of a checkout (django-payments' Payment, its status theirs)."""

    amount = serializers.DecimalField(
        source="total", max_digits=12, decimal_places=2, read_only=True
    )
    provider = serializers.CharField(source="variant", read_only=True)
    payment_url = serializers.SerializerMethodField(
        help_text="The page where the buyer pays, opened in a browser with no token."
    )

    class Meta:
        model = Payment
        fields = ["id", "status", "amount", "currency", "provider", "payment_url", "expires_at"]
        read_only_fields = fields

    def get_payment_url(self, payment: Payment) -> str:
        return payment_url(payment)


class BookingOutcomeSerializer(serializers.Serializer):
    result = serializers.ChoiceField(choices=["booked", "pending_payment", "waitlisted"])
    booking = BookingSerializer(required=False)
    payment = PaymentSerializer(
        required=False, help_text="With `pending_payment`: the payment to complete."
    )
    waitlist_entry = WaitlistEntrySerializer(required=False)


class MyBookingsSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = MyBookingSerializer(many=True)
    waitlist = WaitlistEntrySerializer(many=True, help_text="The caller's active entries.")


class VoucherSerializer(serializers.ModelSerializer):
    event_id = serializers.UUIDField(read_only=True)
    ticket_type_id = serializers.UUIDField(
        read_only=True,
        allow_null=True,
        help_text="The type whose tickets it applies to; null: every type of the event.",
    )
    used = serializers.IntegerField(
        read_only=True,
        help_text="Bookings applying it now (pending or confirmed); a cancelled or expired "
        "one gives its use back.",
    )

    class Meta:
        model = Voucher
        fields = [
            "id",
            "code",
            "event_id",
            "ticket_type_id",
            "discount_type",
            "value",
            "max_uses",
            "used",
            "valid_until",
            "is_active",
        ]
        read_only_fields = fields


# Above zero, at most eight digits before the point and two after: "0" and "0.00" are not.
DISCOUNT_PATTERN = r"^(0*[1-9][0-9]{0,7}(\.[0-9]{1,2})?|0{1,8}\.([1-9][0-9]?|0[1-9]))$"


@extend_schema_field(
    {
        "oneOf": [
            {"type": "string", "format": "decimal", "pattern": DISCOUNT_PATTERN},
            {"type": "number", "minimum": 0.01, "maximum": 99999999.99, "multipleOf": 0.01},
        ],
        "example": "20.00",
    }
)
class DiscountValueField(serializers.DecimalField):
    """A voucher's value: a decimal string (or JSON number) above zero, cents at most."""

    def __init__(self, **kwargs):
        super().__init__(max_digits=10, decimal_places=2, min_value=Decimal("0.01"), **kwargs)

    def to_internal_value(self, data):
        if isinstance(data, str) and not re.fullmatch(DISCOUNT_PATTERN, data):
            self.fail("invalid")
        return super().to_internal_value(data)


class VoucherInputSerializer(StrictInputSerializer):
    """What staff set on a voucher; `used` is never taken from input."""

    code = OneLineCharField(
        max_length=64, help_text="Unique per event in any letter case; buyers type it."
    )
    ticket_type_id = serializers.UUIDField(
        allow_null=True,
        required=False,
        default=None,
        help_text="One of the event's types; null: every type.",
    )
    discount_type = serializers.ChoiceField(choices=Voucher.DiscountType.choices)
    value = DiscountValueField(
        help_text='Percent off (at most 100) or the amount off each ticket, e.g. "5.00".'
    )
    max_uses = serializers.IntegerField(min_value=1, max_value=1_000_000, required=False, default=1)
    valid_until = serializers.DateTimeField(allow_null=True, required=False, default=None)
    is_active = serializers.BooleanField(required=False, default=True)
