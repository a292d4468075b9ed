from datetime import datetime

from django.db.models import QuerySet
from django.utils import timezone
from django_filters.constants import EMPTY_VALUES
from rest_framework.exceptions import ValidationError

from core.lookups import get_or_not_found
from events.filters import EventFilter, as_utc
from events.models import Event, TicketType
from events.summary import count_scheduled

# Filters that leave the count to the time window alone (ordering does not change a count).
WINDOW_FILTERS = {"starts_after", "starts_before", "ordering"}


def _upcoming_filterset(filters: dict, now: datetime) -> EventFilter:
    queryset = Event.objects.filter(status=Event.Status.SCHEDULED, event_time__gt=now)
    filterset = EventFilter(filters, queryset=queryset.order_by("event_time", "id"))
    if not filterset.is_valid():
        raise ValidationError(filterset.errors)
    return filterset


def event_list_upcoming(*, filters: dict) -> QuerySet[Event]:
    """Scheduled events that have not started, soonest first, narrowed by `EventFilter`."""
    queryset = _upcoming_filterset(filters, timezone.now()).qs
    # OrderingFilter replaces the order; keep a unique tie-breaker so pages never overlap.
    order = list(queryset.query.order_by)
    return queryset if "id" in order else queryset.order_by(*order, "id")


def event_count_upcoming(*, filters: dict) -> int:
    """The exact number of events `event_list_upcoming` answers for these filters.

    COUNT(*) over every upcoming event grows with the catalogue. When the filters only bound
    the time, the whole days in between are read from the day summary instead.
    """
    now = timezone.now()
    filterset = _upcoming_filterset(filters, now)
    data = filterset.form.cleaned_data
    if any(value not in EMPTY_VALUES for name, value in data.items() if name not in WINDOW_FILTERS):
        return filterset.qs.count()
    after, before = data.get("starts_after"), data.get("starts_before")
    return count_scheduled(
        filterset.qs,
        since=now if after is None else max(now, as_utc(after)),
        until=None if before is None else as_utc(before),
    )


def event_get(*, event_id) -> Event:
    """One event, with its ticket types (all, by position) read in a second query."""
    return get_or_not_found(
        Event.objects.prefetch_related("ticket_types"),
        pk=event_id,
        message="No event with this id.",
    )


def ticket_types_on_sale(*, event_id) -> QuerySet[TicketType]:
    """An event's active types, by position; 404 for an unknown event."""
    event = get_or_not_found(
        Event.objects.only("pk"), pk=event_id, message="No event with this id."
    )
    return TicketType.objects.filter(event=event, is_active=True).order_by("position", "id")


def ticket_type_get(*, ticket_type_id) -> TicketType:
    return get_or_not_found(
        TicketType.objects.all(), pk=ticket_type_id, message="No ticket type with this id."
    )
