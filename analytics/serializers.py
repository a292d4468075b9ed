from datetime import timedelta

from django.utils import timezone
from rest_framework import serializers

from bookings.models import Booking
from bookings.serializers import BookingSerializer
from events.serializers import EventSerializer

MAX_PERIOD_DAYS = 366


class AdminEventSerializer(EventSerializer):
    confirmed_tickets = serializers.IntegerField(source="booked_seats", read_only=True)
    revenue = serializers.DecimalField(max_digits=14, decimal_places=2, read_only=True)
    waitlist_waiting = serializers.IntegerField(read_only=True)

    class Meta(EventSerializer.Meta):
        fields = [*EventSerializer.Meta.fields, "confirmed_tickets", "revenue", "waitlist_waiting"]
        read_only_fields = fields


class BookingUserSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    email = serializers.EmailField()


class AdminBookingSerializer(BookingSerializer):
    user = BookingUserSerializer(read_only=True)

    class Meta(BookingSerializer.Meta):
        fields = [*BookingSerializer.Meta.fields, "user"]
        read_only_fields = fields


class EventBookingsQuerySerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=Booking.Status.choices, required=False)


class WaitlistCountsSerializer(serializers.Serializer):
    waiting = serializers.IntegerField()
    offered = serializers.IntegerField()
    accepted = serializers.IntegerField()
    expired = serializers.IntegerField()
    cancelled = serializers.IntegerField()


class TicketTypeFiguresSerializer(serializers.Serializer):
    ticket_type_id = serializers.UUIDField()
    name = serializers.CharField()
    price = serializers.DecimalField(max_digits=10, decimal_places=2)
    quota = serializers.IntegerField()
    available = serializers.IntegerField()
    confirmed_tickets = serializers.IntegerField()
    held_seats = serializers.IntegerField()
    revenue = serializers.DecimalField(max_digits=14, decimal_places=2)
    is_active = serializers.BooleanField()


class CheckoutFiguresSerializer(serializers.Serializer):
    pending_bookings = serializers.IntegerField(help_text="Checkouts holding seats now.")
    pending_tickets = serializers.IntegerField(help_text="Seats those checkouts hold.")
    expired_bookings = serializers.IntegerField(help_text="Checkouts whose hold ended unpaid.")
    expired_tickets = serializers.IntegerField()
    refunded_bookings = serializers.IntegerField(help_text="Bookings refunded, in full.")
    refunded_amount = serializers.DecimalField(max_digits=14, decimal_places=2)


class EventAnalyticsSerializer(serializers.Serializer):
    event_id = serializers.UUIDField()
    total_capacity = serializers.IntegerField()
    available_seats = serializers.IntegerField()
    held_seats = serializers.IntegerField()
    confirmed_bookings = serializers.IntegerField()
    cancelled_bookings = serializers.IntegerField()
    confirmed_tickets = serializers.IntegerField()
    cancelled_tickets = serializers.IntegerField()
    revenue = serializers.DecimalField(max_digits=14, decimal_places=2)
    utilization = serializers.FloatField(help_text="Confirmed tickets / capacity, 0..1.")
    cancellation_rate = serializers.FloatField(help_text="Cancelled / all bookings, 0..1.")
    checked_in_tickets = serializers.IntegerField(help_text="Confirmed tickets let in at the door.")
    check_in_rate = serializers.FloatField(
        help_text="Checked in / confirmed tickets, 0..1 (0 when none)."
    )
    waitlist = WaitlistCountsSerializer()
    checkout = CheckoutFiguresSerializer(
        help_text="Checkouts with a payment provider; revenue counts paid bookings only."
    )
    ticket_types = TicketTypeFiguresSerializer(
        many=True, help_text="Per type, by position, inactive ones too."
    )


class PopularQuerySerializer(serializers.Serializer):
    limit = serializers.IntegerField(min_value=1, default=10, help_text="Cut to 100.")


class PopularEventSerializer(serializers.Serializer):
    event_id = serializers.UUIDField()
    name = serializers.CharField()
    event_time = serializers.DateTimeField()
    total_capacity = serializers.IntegerField()
    confirmed_tickets = serializers.IntegerField()
    revenue = serializers.DecimalField(max_digits=14, decimal_places=2)
    utilization = serializers.FloatField()


class PopularEventsSerializer(serializers.Serializer):
    results = PopularEventSerializer(many=True)


class OverviewQuerySerializer(serializers.Serializer):
    # `from` is a Python keyword, so the fields are renamed in `get_fields`.
    start = serializers.DateField(required=False, help_text="First UTC day; default 29 days ago.")
    end = serializers.DateField(required=False, help_text="Last UTC day, inclusive; default today.")

    def get_fields(self):
        fields = super().get_fields()
        fields["from"] = fields.pop("start")
        fields["to"] = fields.pop("end")
        fields["from"].source = "start"
        fields["to"].source = "end"
        return fields

    def validate(self, attrs):
        end = attrs.get("end") or timezone.now().date()
        start = attrs.get("start") or end - timedelta(days=29)
        if start > end:
            raise serializers.ValidationError({"from": ["Must not be after `to`."]})
        if (end - start).days >= MAX_PERIOD_DAYS:
            raise serializers.ValidationError(
                {"from": [f"The period may span at most {MAX_PERIOD_DAYS} days."]}
            )
        return {"start": start, "end": end}


class OverviewDaySerializer(serializers.Serializer):
    date = serializers.DateField()
    bookings = serializers.IntegerField()
    tickets = serializers.IntegerField()
    revenue = serializers.DecimalField(max_digits=14, decimal_places=2)
    cancellations = serializers.IntegerField()
    waitlist_conversions = serializers.IntegerField()


class OverviewSerializer(serializers.Serializer):
    bookings = serializers.IntegerField(help_text="Bookings made in the period.")
    tickets = serializers.IntegerField()
    revenue = serializers.DecimalField(
        max_digits=14, decimal_places=2, help_text="Of the period's bookings still confirmed."
    )
    cancellations = serializers.IntegerField(help_text="Bookings cancelled in the period.")
    waitlist_conversions = serializers.IntegerField(help_text="Offers accepted in the period.")
    series = OverviewDaySerializer(many=True)

    def get_fields(self):
        fields = super().get_fields()
        return {"from": serializers.DateField(), "to": serializers.DateField(), **fields}
