from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts.permissions import IsAdmin, PublicOrActiveAccount
from bookings import vouchers
from bookings.models import Voucher
from bookings.serializers import VoucherInputSerializer, VoucherSerializer
from boxoffice import services
from boxoffice.serializers import EventMessageInputSerializer, EventMessageResultSerializer
from core.db_router import replica_reads
from core.pagination import LimitOffsetPagination
from core.schema import problems
from events import selectors
from events.filters import EventFilter
from events.models import Event, TicketType
from events.serializers import (
    EventDetailSerializer,
    EventInputSerializer,
    EventSerializer,
    TicketTypeInputSerializer,
    TicketTypeSerializer,
)
from events.services import event_create


class UpcomingEventPagination(LimitOffsetPagination):
    """Takes the list's count from `event_count_upcoming`, for the same filters, which reads
    the day summary instead of counting every upcoming event in the page's queryset."""

    def get_count(self, queryset):
        return selectors.event_count_upcoming(filters=self.request.query_params)


_PRICE_NOTE = (
    "`price` is the lowest price of the event's active ticket types. Writing it changes the "
    "price of the event's one type; with several types it is 409 `several_ticket_types`. "
    "A capacity change moves the quota of a one-type event whose quota is its capacity."
)


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
        responses={200: EventDetailSerializer, **problems(401, 404)},
    ),
    create=extend_schema(
        operation_id="events_create",
        summary="Create an event (admin)",
        request=EventInputSerializer,
        responses={201: EventDetailSerializer, **problems(400, 401, 403)},
        description='Creates the event with one ticket type, "General admission", at `price` '
        "with quota = total_capacity.",
    ),
    update=extend_schema(
        operation_id="events_update",
        summary="Replace an event's details (admin)",
        request=EventInputSerializer,
        responses={200: EventDetailSerializer, **problems(400, 401, 403, 404, 409)},
        description=_PRICE_NOTE,
    ),
    partial_update=extend_schema(
        operation_id="events_partial_update",
        summary="Change some of an event's details (admin)",
        request=EventInputSerializer(partial=True),
        responses={200: EventDetailSerializer, **problems(400, 401, 403, 404, 409)},
        description=_PRICE_NOTE,
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
        if self.action in {"list", "retrieve"} or (
            self.action == "ticket_types" and self.request.method == "GET"
        ):
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
        return Response(EventDetailSerializer(selectors.event_get(event_id=pk)).data)

    def create(self, request):
        data = EventInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        event = event_create(created_by=request.user, **data.validated_data)
        return Response(EventDetailSerializer(event).data, status=status.HTTP_201_CREATED)

    def update(self, request, pk=None, partial=False):
        data = EventInputSerializer(data=request.data, partial=partial)
        data.is_valid(raise_exception=True)
        event = services.event_update(
            event_id=pk, actor=request.user, changes=dict(data.validated_data)
        )
        return Response(EventDetailSerializer(event).data)

    def partial_update(self, request, pk=None):
        return self.update(request, pk=pk, partial=True)

    def destroy(self, request, pk=None):
        services.event_delete(event_id=pk, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        methods=["GET"],
        operation_id="events_ticket_types_list",
        summary="List an event's ticket types",
        responses={200: TicketTypeSerializer(many=True), **problems(401, 404)},
        description="The event's active ticket types, by position (a plain list: an event "
        "sells a handful).",
    )
    @extend_schema(
        methods=["POST"],
        operation_id="events_ticket_types_create",
        summary="Add a ticket type to an event (admin)",
        request=TicketTypeInputSerializer,
        responses={201: TicketTypeSerializer, **problems(400, 401, 403, 404, 409)},
        description="Add a ticket type (admin). Quotas may add up to more than the capacity, "
        "which caps them all. An active type's waitlist is served at once.",
    )
    @action(detail=True, methods=["get", "post"], url_path="ticket-types", pagination_class=None)
    def ticket_types(self, request, pk=None):
        if request.method == "GET":
            # A handful per event: the whole list, unpaged.
            types = selectors.ticket_types_on_sale(event_id=pk)
            return Response(TicketTypeSerializer(types, many=True).data)
        data = TicketTypeInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        ticket_type = services.ticket_type_create(
            event_id=pk, actor=request.user, **data.validated_data
        )
        return Response(TicketTypeSerializer(ticket_type).data, status=status.HTTP_201_CREATED)


class TicketTypeViewSet(viewsets.GenericViewSet):
    """One ticket type: read by anyone, changed or deleted by staff."""

    serializer_class = TicketTypeSerializer
    http_method_names = ["get", "patch", "delete", "options", "head"]

    def get_permissions(self):
        return [PublicOrActiveAccount()] if self.action == "retrieve" else [IsAdmin()]

    def get_queryset(self):  # used by the schema generator only
        return TicketType.objects.none()

    @extend_schema(
        operation_id="ticket_types_retrieve",
        summary="Show a ticket type",
        responses={200: TicketTypeSerializer, **problems(401, 404)},
    )
    def retrieve(self, request, pk=None):
        return Response(TicketTypeSerializer(selectors.ticket_type_get(ticket_type_id=pk)).data)

    @extend_schema(
        operation_id="ticket_types_partial_update",
        summary="Change a ticket type (admin)",
        request=TicketTypeInputSerializer(partial=True),
        responses={200: TicketTypeSerializer, **problems(400, 401, 403, 404, 409)},
        description="Change a type (admin). The quota may drop only to the seats the type has "
        "taken (409 `capacity_below_taken`); raising it serves the type's waitlist. "
        "Deactivating the event's last active type: 409 `last_ticket_type`.",
    )
    def partial_update(self, request, pk=None):
        data = TicketTypeInputSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        ticket_type = services.ticket_type_update(
            ticket_type_id=pk, actor=request.user, changes=dict(data.validated_data)
        )
        return Response(TicketTypeSerializer(ticket_type).data)

    @extend_schema(
        operation_id="ticket_types_destroy",
        summary="Delete a ticket type that never sold (admin)",
        responses={204: None, **problems(401, 403, 404, 409)},
        description="Delete a type that never sold. A type booked or waited for: 409 "
        "`ticket_type_sold` (deactivate it with `is_active: false`); the event's last active "
        "type: 409 `last_ticket_type`.",
    )
    def destroy(self, request, pk=None):
        services.ticket_type_delete(ticket_type_id=pk, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class AdminEventMessageViewSet(viewsets.GenericViewSet):
    """Staff work on one event beside the admin's event reads (analytics.views.
    AdminEventViewSet): messaging its ticket holders (/admin/events/{id}/messages) and its
    vouchers (/admin/events/{id}/vouchers)."""

    permission_classes = [IsAdmin]
    serializer_class = EventMessageResultSerializer
    queryset = Event.objects.none()

    @extend_schema(
        operation_id="admin_event_message",
        summary="Message an event's ticket holders (admin)",
        request=EventMessageInputSerializer,
        responses={202: EventMessageResultSerializer, **problems(400, 401, 403, 404, 409)},
        description="Send a message to everyone holding a confirmed ticket for the event: one "
        "`event_message` notification each, e-mailed through the outbox, written in one "
        "transaction. A cancelled event answers 409 `event_closed`.",
    )
    @action(detail=True, methods=["post"], pagination_class=None)
    def messages(self, request, pk=None):
        body = EventMessageInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        recipients = services.event_message_send(
            event_id=pk, actor=request.user, **body.validated_data
        )
        # 202: the notifications are written; their e-mails go out after the commit.
        return Response(
            EventMessageResultSerializer({"recipients": recipients}).data,
            status=status.HTTP_202_ACCEPTED,
        )

    @extend_schema(
        methods=["GET"],
        operation_id="admin_event_vouchers_list",
        summary="List an event's vouchers (admin)",
        responses={200: VoucherSerializer(many=True), **problems(401, 403, 404)},
        description="The event's vouchers by code, with their uses, a page at a time.",
    )
    @extend_schema(
        methods=["POST"],
        operation_id="admin_event_vouchers_create",
        summary="Create a voucher for an event (admin)",
        request=VoucherInputSerializer,
        responses={201: VoucherSerializer, **problems(400, 401, 403, 404)},
        description="A code buyers give at booking (`voucher`): `percent` off or a `fixed` "
        "amount off each ticket of its type (every type when `ticket_type_id` is null), never "
        "below zero, for at most `max_uses` bookings. A code the event already has, in any "
        "letter case, is a 400 on `code`.",
    )
    @action(
        detail=True,
        methods=["get", "post"],
        pagination_class=LimitOffsetPagination,
        serializer_class=VoucherSerializer,
    )
    def vouchers(self, request, pk=None):
        if request.method == "GET":
            page = self.paginate_queryset(vouchers.vouchers_of_event(event_id=pk))
            return self.get_paginated_response(VoucherSerializer(page, many=True).data)
        data = VoucherInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        voucher = vouchers.voucher_create(event_id=pk, actor=request.user, **data.validated_data)
        return Response(VoucherSerializer(voucher).data, status=status.HTTP_201_CREATED)


class VoucherViewSet(viewsets.GenericViewSet):
    """One voucher, changed or deleted by staff at /admin/vouchers/{id}."""

    permission_classes = [IsAdmin]
    serializer_class = VoucherSerializer
    queryset = Voucher.objects.none()
    http_method_names = ["patch", "delete", "options", "head"]

    @extend_schema(
        operation_id="admin_vouchers_partial_update",
        summary="Change a voucher (admin)",
        request=VoucherInputSerializer(partial=True),
        responses={200: VoucherSerializer, **problems(400, 401, 403, 404)},
        description="Change a voucher, under its row lock: `max_uses` may not drop below "
        "`used` (400). Deactivate one (`is_active: false`) to stop new bookings applying it; "
        "bookings that did keep their discount.",
    )
    def partial_update(self, request, pk=None):
        data = VoucherInputSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        voucher = vouchers.voucher_update(
            voucher_id=pk, actor=request.user, changes=dict(data.validated_data)
        )
        return Response(VoucherSerializer(voucher).data)

    @extend_schema(
        operation_id="admin_vouchers_destroy",
        summary="Delete a voucher no booking applied (admin)",
        responses={204: None, **problems(401, 403, 404, 409)},
        description="Delete a voucher no booking ever applied. Else 409 `voucher_used`: "
        "deactivate it with `is_active: false`.",
    )
    def destroy(self, request, pk=None):
        vouchers.voucher_delete(voucher_id=pk, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)
