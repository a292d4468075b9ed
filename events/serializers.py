import re

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.serializers import OneLineCharField, StrictInputSerializer
from events.models import MAX_CAPACITY, Event


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
