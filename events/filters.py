import django_filters
from django.db.models import Q

from events.models import Event


class EventFilter(django_filters.FilterSet):
    search = django_filters.CharFilter(
        method="filter_search", help_text="Words in the name, description or venue."
    )
    venue = django_filters.CharFilter(lookup_expr="icontains", help_text="Part of the venue.")
    starts_after = django_filters.IsoDateTimeFilter(
        field_name="event_time", lookup_expr="gte", help_text="Inclusive; naive means UTC."
    )
    starts_before = django_filters.IsoDateTimeFilter(
        field_name="event_time", lookup_expr="lte", help_text="Inclusive; naive means UTC."
    )
    min_price = django_filters.NumberFilter(field_name="price", lookup_expr="gte")
    max_price = django_filters.NumberFilter(field_name="price", lookup_expr="lte")
    has_seats = django_filters.ChoiceFilter(
        choices=[("true", "true"), ("false", "false")],
        method="filter_has_seats",
        help_text="`true`: only events with free seats; `false`: only sold-out ones.",
    )
    ordering = django_filters.OrderingFilter(
        fields=(("event_time", "event_time"), ("price", "price"), ("name", "name")),
        help_text="Default `event_time` (soonest first).",
    )

    class Meta:
        model = Event
        fields = []

    def filter_search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(name__icontains=value) | Q(description__icontains=value) | Q(venue__icontains=value)
        )

    def filter_has_seats(self, queryset, name, value):
        if value == "true":
            return queryset.filter(available_seats__gt=0)
        return queryset.filter(available_seats=0)
