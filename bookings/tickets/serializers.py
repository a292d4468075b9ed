from rest_framework import serializers

from bookings.tickets.selectors import TICKET_STATUSES
from core.serializers import OneLineCharField, StrictInputSerializer


class TicketSerializer(serializers.Serializer):
    id = serializers.UUIDField(help_text="Names the ticket in /api/tickets/{id} routes.")
    booking_id = serializers.UUIDField()
    event_id = serializers.UUIDField()
    number = serializers.IntegerField(help_text="The seat within the booking: 1, 2, ...")
    code = serializers.CharField(
        help_text="What the QR code holds and the door scans: 44 URL-safe characters, signed."
    )
    status = serializers.ChoiceField(choices=TICKET_STATUSES)
    ticket_type_id = serializers.UUIDField(allow_null=True)
    ticket_type_name = serializers.CharField(help_text="The ticket's type, as the door shows it.")
    attendee_name = serializers.CharField(
        help_text="Who will use the ticket, when its owner named them; else empty."
    )
    checked_in_at = serializers.DateTimeField(allow_null=True)


class TicketUpdateInputSerializer(StrictInputSerializer):
    attendee_name = OneLineCharField(
        max_length=150,
        allow_blank=True,
        required=False,
        help_text="Empty clears the name; left out, nothing changes.",
    )


class CheckInInputSerializer(StrictInputSerializer):
    code = serializers.CharField(
        allow_blank=True,
        help_text="The scanned code. One that is malformed, forged or of no booking is a 404 "
        "`unknown_ticket`, not a 400.",
    )
    event_id = serializers.UUIDField(
        required=False,
        allow_null=True,
        help_text="The door's event: a ticket of any other event is a 409 `wrong_event`.",
    )


class CheckInEventSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()


class CheckInHolderSerializer(serializers.Serializer):
    name = serializers.CharField(help_text="The named attendee, else the person who booked.")


class CheckInResultSerializer(serializers.Serializer):
    result = serializers.ChoiceField(choices=["checked_in"])
    ticket = TicketSerializer()
    event = CheckInEventSerializer()
    holder = CheckInHolderSerializer()

    @staticmethod
    def of(ticket) -> dict:
        event = ticket.booking.event
        return {
            "result": "checked_in",
            "ticket": ticket,
            "event": {"id": event.pk, "name": event.name},
            "holder": {"name": ticket.holder_name},
        }


class DoorTypeCountsSerializer(serializers.Serializer):
    ticket_type_id = serializers.UUIDField()
    name = serializers.CharField()
    tickets = serializers.IntegerField()
    checked_in = serializers.IntegerField()
    remaining = serializers.IntegerField()


class DoorCountsSerializer(serializers.Serializer):
    event_id = serializers.UUIDField()
    tickets = serializers.IntegerField(help_text="Confirmed tickets: the people expected.")
    checked_in = serializers.IntegerField(help_text="Of those, let in.")
    remaining = serializers.IntegerField(help_text="Still to come.")
    ticket_types = DoorTypeCountsSerializer(
        many=True, required=False, help_text="The same counts per ticket type, by position."
    )
