from django.db.models import QuerySet
from django.utils import timezone
from rest_framework.exceptions import ValidationError

from evently.lookups import get_or_not_found
from events.filters import EventFilter
from events.models import Event


def event_list_upcoming(*, filters: dict) -> QuerySet[Event]:
    """Scheduled events that have not started, soonest first, narrowed by `EventFilter`."""
    queryset = Event.objects.filter(
        status=Event.Status.SCHEDULED, event_time__gt=timezone.now()
    ).order_by("event_time", "id")
    filterset = EventFilter(filters, queryset=queryset)
    if not filterset.is_valid():
        raise ValidationError(filterset.errors)
    queryset = filterset.qs
    # OrderingFilter replaces the order; keep a unique tie-breaker so pages never overlap.
    order = list(queryset.query.order_by)
    return queryset if "id" in order else queryset.order_by(*order, "id")


def event_get(*, event_id) -> Event:
    return get_or_not_found(Event.objects.all(), pk=event_id, message="No event with this id.")
