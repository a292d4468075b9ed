from rest_framework import serializers

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


class EventInputSerializer(serializers.Serializer):
    """What an admin may set. `available_seats` and `status` are never taken from input."""

    name = serializers.CharField(max_length=200)
    description = serializers.CharField(allow_blank=True, required=False, default="")
    venue = serializers.CharField(max_length=200)
    event_time = serializers.DateTimeField(help_text="Must be in the future; naive means UTC.")
    total_capacity = serializers.IntegerField(min_value=1, max_value=MAX_CAPACITY)
    price = serializers.DecimalField(
        max_digits=10, decimal_places=2, min_value=0, help_text="At most two decimals."
    )


class EventSummarySerializer(serializers.ModelSerializer):
    """The event as embedded in bookings and waitlist entries."""

    class Meta:
        model = Event
        fields = ["id", "name", "event_time", "venue"]
        read_only_fields = fields
