from rest_framework import serializers

from bookings.tickets.selectors import TICKET_STATUSES
from evently.serializers import StrictInputSerializer


class TicketSerializer(serializers.Serializer):
    id = serializers.UUIDField(help_text="Names the ticket in /api/tickets/{id} routes.")
    booking_id = serializers.UUIDField()
    event_id = serializers.UUIDField()
    number = serializers.IntegerField(help_text="The seat within the booking: 1, 2, ...")
    code = serializers.CharField(
        help_text="What the QR code holds and the door scans: 44 URL-safe characters, signed."
    )
    status = serializers.ChoiceField(choices=TICKET_STATUSES)
    attendee_name = serializers.CharField(
        help_text="Who will use the ticket, when its owner named them; else empty."
    )
    checked_in_at = serializers.DateTimeField(allow_null=True)


class TicketUpdateInputSerializer(StrictInputSerializer):
    attendee_name = serializers.CharField(
        max_length=150,
        allow_blank=True,
        required=False,
        help_text="Empty clears the name; left out, nothing changes.",
    )
