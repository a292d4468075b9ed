from rest_framework import serializers

from events.serializers import EventSummarySerializer
from waitlist.models import WaitlistEntry


class WaitlistEntrySerializer(serializers.ModelSerializer):
    event_id = serializers.UUIDField(read_only=True)
    event = EventSummarySerializer(read_only=True)
    user_id = serializers.UUIDField(read_only=True)
    ticket_type_id = serializers.UUIDField(
        read_only=True, help_text="The type the entry waits for; an offer holds its seats."
    )
    position = serializers.SerializerMethodField(
        help_text="1-based place among the event's waiting entries; null unless waiting."
    )

    class Meta:
        model = WaitlistEntry
        fields = [
            "id",
            "event_id",
            "event",
            "user_id",
            "ticket_type_id",
            "quantity",
            "priority",
            "status",
            "position",
            "joined_at",
            "offered_at",
            "offer_expires_at",
        ]
        read_only_fields = fields

    def get_position(self, entry) -> int | None:
        # Annotated by waitlist.selectors.with_position.
        if entry.status != WaitlistEntry.Status.WAITING:
            return None
        return entry.position
