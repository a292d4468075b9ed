from datetime import UTC, datetime

import django_filters
from django import forms
from django.db.models import Q
from django_filters.fields import BaseCSVField
from drf_spectacular.utils import extend_schema_field

from events.models import Event


def as_utc(value: datetime) -> datetime:
    """A time bound in UTC; one whose UTC time falls outside the years 1-9999 is clamped, which
    selects the same events."""
    try:
        return value.astimezone(UTC)
    except OverflowError:
        return (datetime.min if value.year == 1 else datetime.max).replace(tzinfo=UTC)


class UtcDateTimeFilter(django_filters.IsoDateTimeFilter):
    """An ISO 8601 bound, compared in UTC.

    ISO 8601 and Python allow UTC offsets up to ±23:59, PostgreSQL only up to ±15:59: passed on
    as given, `2030-01-01T00:00-17:00` was a database error (500).
    """

    def filter(self, qs, value):
        return super().filter(qs, None if value is None else as_utc(value))


@extend_schema_field({"type": "number", "maximum": 1e50})
class PriceBoundFilter(django_filters.NumberFilter):
    """An inclusive price bound; django-filter refuses numbers above 1e50, so the schema says so."""


class _OrderingTermsField(BaseCSVField):
    def clean(self, value):
        # An empty `ordering` is no ordering; an empty term among others is not a known field.
        if value and any(term == "" for term in value):
            raise forms.ValidationError("Empty ordering term.", code="invalid_choice")
        return super().clean(value)


class OrderingFilter(django_filters.OrderingFilter):
    """django-filter's OrderingFilter, except that `price,,name` is a 400 like any other
    unknown term, where django-filter skipped the empty ones."""

    base_field_class = _OrderingTermsField


class EventFilter(django_filters.FilterSet):
    search = django_filters.CharFilter(
        method="filter_search", help_text="Words in the name, description or venue."
    )
    venue = django_filters.CharFilter(lookup_expr="icontains", help_text="Part of the venue.")
    starts_after = UtcDateTimeFilter(
        field_name="event_time", lookup_expr="gte", help_text="Inclusive; naive means UTC."
    )
    starts_before = UtcDateTimeFilter(
        field_name="event_time", lookup_expr="lte", help_text="Inclusive; naive means UTC."
    )
    min_price = PriceBoundFilter(field_name="price", lookup_expr="gte")
    max_price = PriceBoundFilter(field_name="price", lookup_expr="lte")
    has_seats = django_filters.ChoiceFilter(
        choices=[("true", "true"), ("false", "false")],
        method="filter_has_seats",
        help_text="`true`: only events with free seats; `false`: only sold-out ones.",
    )
    ordering = OrderingFilter(
        fields=(("event_time", "event_time"), ("price", "price"), ("name", "name")),
        help_text="Default `event_time` (soonest first).",
    )

    class Meta:
        model = Event
        fields = []

    def filter_search(self, queryset, name, value: str):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(name__icontains=value) | Q(description__icontains=value) | Q(venue__icontains=value)
        )

    def filter_has_seats(self, queryset, name, value: str):
        if value == "true":
            return queryset.filter(available_seats__gt=0)
        return queryset.filter(available_seats=0)
