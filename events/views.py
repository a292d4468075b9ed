from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import status, viewsets
from rest_framework.response import Response

from accounts.permissions import IsAdmin, PublicOrActiveAccount
from core.db_router import replica_reads
from core.pagination import LimitOffsetPagination
from core.schema import problems
from events import selectors, services
from events.filters import EventFilter
from events.models import Event
from events.serializers import EventInputSerializer, EventSerializer


class UpcomingEventPagination(LimitOffsetPagination):
    """Takes the list's count from `event_count_upcoming`, for the same filters, which reads
    the day summary instead of counting every upcoming event in the page's queryset."""

    def get_count(self, queryset):
        return selectors.event_count_upcoming(filters=self.request.query_params)


@extend_schema_view(
    list=extend_schema(
        operation_id="events_list",
        summary="List upcoming events",
        description="Upcoming scheduled events, soonest first. Open to anyone, but a "
        "request that sends an expired or invalid token, or the token of a deleted or "
        "disabled account, is refused (401).",
        responses={200: EventSerializer(many=True), **problems(400, 401)},
    ),
    retrieve=extend_schema(
        operation_id="events_retrieve",
        summary="Show an event",
        description="Any event, past or cancelled included. Open to anyone, but a request that "
        "sends an expired or invalid token, or the token of a deleted or disabled account, is "
        "refused (401).",
        responses={200: EventSerializer, **problems(401, 404)},
    ),
    create=extend_schema(
        operation_id="events_create",
        summary="Create an event (admin)",
        request=EventInputSerializer,
        responses={201: EventSerializer, **problems(400, 401, 403)},
    ),
    update=extend_schema(
        operation_id="events_update",
        summary="Replace an event's details (admin)",
        request=EventInputSerializer,
        responses={200: EventSerializer, **problems(400, 401, 403, 404, 409)},
    ),
    partial_update=extend_schema(
        operation_id="events_partial_update",
        summary="Change some of an event's details (admin)",
        request=EventInputSerializer(partial=True),
        responses={200: EventSerializer, **problems(400, 401, 403, 404, 409)},
    ),
    destroy=extend_schema(
        operation_id="events_destroy",
        summary="Delete or cancel an event (admin)",
        responses={204: None, **problems(401, 403, 404)},
        description="204 either way. An event nobody has booked or waited for is deleted. An "
        "event with bookings or waitlist entries is cancelled instead, so nothing is lost: its "
        "status becomes `cancelled` (it stays readable at GET /events/{id}), every confirmed "
        "booking and active waitlist entry is cancelled, and each person is notified. "
        "Deleting a cancelled event that has bookings changes nothing.",
    ),
)
class EventViewSet(viewsets.GenericViewSet):
    serializer_class = EventSerializer
    # The selector applies EventFilter; the backend is listed so the schema documents it.
    filter_backends = [DjangoFilterBackend]
    filterset_class = EventFilter
    pagination_class = UpcomingEventPagination
    lookup_field = "pk"

    def get_permissions(self):
        if self.action in {"list", "retrieve"}:
            return [PublicOrActiveAccount()]
        return [IsAdmin()]

    def get_queryset(self):  # used by the schema generator only
        return Event.objects.none()

    @replica_reads
    def list(self, request):
        events = selectors.event_list_upcoming(filters=request.query_params)
        page = self.paginate_queryset(events)
        return self.get_paginated_response(EventSerializer(page, many=True).data)

    @replica_reads
    def retrieve(self, request, pk=None):
        return Response(EventSerializer(selectors.event_get(event_id=pk)).data)

    def create(self, request):
        data = EventInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        event = services.event_create(created_by=request.user, **data.validated_data)
        return Response(EventSerializer(event).data, status=status.HTTP_201_CREATED)

    def update(self, request, pk=None, partial=False):
        data = EventInputSerializer(data=request.data, partial=partial)
        data.is_valid(raise_exception=True)
        event = services.event_update(
            event_id=pk, actor=request.user, changes=dict(data.validated_data)
        )
        return Response(EventSerializer(event).data)

    def partial_update(self, request, pk=None):
        return self.update(request, pk=pk, partial=True)

    def destroy(self, request, pk=None):
        services.event_delete(event_id=pk, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)
