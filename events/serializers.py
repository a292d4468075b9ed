import re

from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.serializers import OneLineCharField, StrictInputSerializer
from events.models import MAX_CAPACITY, MAX_TICKETS_PER_BOOKING, Event, TicketType


class EventSerializer(serializers.ModelSerializer):
    created_by = serializers.UUIDField(source="created_by_id", read_only=True, allow_null=True)

    class Meta:
        model = Event
        fields = [
            "id",
            "name",
            "description",
            "venue",
            "event_time",
            "total_capacity",
            "available_seats",
            "price",
            "status",
            "created_by",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


# ASCII digits only: Python's \d (and Decimal) also take digits such as "٣".
PRICE_PATTERN = r"^[0-9]{1,8}(\.[0-9]{1,2})?$"


@extend_schema_field(
    {
        "oneOf": [
            {"type": "string", "format": "decimal", "pattern": PRICE_PATTERN},
            {"type": "number", "minimum": 0, "maximum": 99999999.99, "multipleOf": 0.01},
        ],
        "example": "49.99",
    }
)
class PriceField(serializers.DecimalField):
    """A price from 0 to 99999999.99 with at most two decimals: a decimal string, as the
    contract has it, or a JSON number, which has always been accepted too.

    DRF alone also took strings such as " 1e2 " or ".5", and drf-spectacular documented a
    pattern that matched "" and negative prices; both now say what the schema says.
    """

    def __init__(self, **kwargs):
        super().__init__(max_digits=10, decimal_places=2, min_value=0, **kwargs)

    def to_internal_value(self, data):
        if isinstance(data, str) and not re.fullmatch(PRICE_PATTERN, data):
            self.fail("invalid")
        return super().to_internal_value(data)


class EventInputSerializer(StrictInputSerializer):
    """What an admin may set. `available_seats` and `status` are never taken from input."""

    name = OneLineCharField(max_length=200)
    description = serializers.CharField(allow_blank=True, required=False, default="")
    venue = OneLineCharField(max_length=200)
    event_time = serializers.DateTimeField(help_text="Must be in the future; naive means UTC.")
    total_capacity = serializers.IntegerField(min_value=1, max_value=MAX_CAPACITY)
    price = PriceField(help_text='A decimal string such as "49.99"; a JSON number also does.')


class EventSummarySerializer(serializers.ModelSerializer):
    """The event as embedded in bookings and waitlist entries."""

    class Meta:
        model = Event
        fields = ["id", "name", "event_time", "venue"]
        read_only_fields = fields


class TicketTypeSerializer(serializers.ModelSerializer):
    event_id = serializers.UUIDField(read_only=True)
    available = serializers.IntegerField(
        read_only=True,
        help_text="quota - confirmed tickets of the type - seats of the type held; a booking "
        "also needs the event's available_seats.",
    )
    on_sale = serializers.SerializerMethodField(
        help_text="Active, and now inside the sales window (a null bound is open)."
    )

    class Meta:
        model = TicketType
        fields = [
            "id",
            "event_id",
            "name",
            "description",
            "price",
            "quota",
            "available",
            "sales_start",
            "sales_end",
            "max_per_booking",
            "position",
            "is_active",
            "on_sale",
        ]
        read_only_fields = fields

    def get_on_sale(self, ticket_type: TicketType) -> bool:
        return ticket_type.on_sale_at(timezone.now())


class TicketTypeInputSerializer(StrictInputSerializer):
    """What an admin may set on a type; its counters are never taken from input."""

    name = serializers.CharField(max_length=100)
    description = serializers.CharField(allow_blank=True, required=False, default="")
    price = PriceField(help_text='A decimal string such as "49.99".')
    quota = serializers.IntegerField(min_value=1, max_value=MAX_CAPACITY)
    sales_start = serializers.DateTimeField(allow_null=True, required=False, default=None)
    sales_end = serializers.DateTimeField(allow_null=True, required=False, default=None)
    max_per_booking = serializers.IntegerField(
        min_value=1, max_value=MAX_TICKETS_PER_BOOKING, required=False, default=10
    )
    position = serializers.IntegerField(min_value=0, max_value=1_000_000, required=False, default=0)
    is_active = serializers.BooleanField(required=False, default=True)


class EventDetailSerializer(EventSerializer):
    """One event, with the types it sells (active ones, by position)."""

    ticket_types = serializers.SerializerMethodField()

    class Meta(EventSerializer.Meta):
        fields = [*EventSerializer.Meta.fields, "ticket_types"]
        read_only_fields = fields

    @extend_schema_field(TicketTypeSerializer(many=True))
    def get_ticket_types(self, event: Event) -> list:
        # A write's answer shows the types its transaction locked or made (`locked_types`):
        # nothing is read after the commit.
        types = getattr(event, "locked_types", None)
        types = (
            sorted(types.values(), key=lambda t: (t.position, t.pk))
            if types is not None
            else event.ticket_types.all()
        )
        active = [t for t in types if t.is_active]
        return TicketTypeSerializer(active, many=True).data
