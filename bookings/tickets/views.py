from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import viewsets
from rest_framework.decorators import action
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import IsDoorStaff
from bookings.tickets import selectors, services
from bookings.tickets.codes import ref_from_code
from bookings.tickets.qr import qr_svg
from bookings.tickets.serializers import (
    CheckInInputSerializer,
    CheckInResultSerializer,
    DoorCountsSerializer,
    TicketSerializer,
    TicketUpdateInputSerializer,
)
from core.schema import problems

TICKET_ID = OpenApiParameter(
    "id", OpenApiTypes.UUID, OpenApiParameter.PATH, description="The ticket's `id`."
)
EVENT_ID = OpenApiParameter("id", OpenApiTypes.UUID, OpenApiParameter.PATH)


class _ImageOrProblem(DefaultContentNegotiation):
    """The QR code is SVG whatever `Accept` asks for (a browser's <img> asks for images), and
    a refusal is a problem document as everywhere else: the only renderer picks itself."""

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class TicketViewSet(viewsets.GenericViewSet):
    serializer_class = TicketSerializer

    @extend_schema(
        operation_id="tickets_partial_update",
        summary="Name who uses a ticket",
        parameters=[TICKET_ID],
        request=TicketUpdateInputSerializer,
        responses={200: TicketSerializer, **problems(400, 401, 404, 409)},
        description="Name the person who will use the ticket (its owner only). 409 "
        "`event_started` once the event has started, `ticket_void` for a cancelled booking, "
        "`already_checked_in` once it was let in.",
    )
    def partial_update(self, request, pk=None):
        data = TicketUpdateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        name = data.validated_data.get("attendee_name")
        if name is None:  # a PATCH that changes nothing
            ticket = selectors.ticket_get(ticket_id=pk, user=request.user, owner_only=True)
        else:
            ticket = services.ticket_name_attendee(
                ticket_id=pk, user=request.user, attendee_name=name
            )
        return Response(TicketSerializer(ticket).data)

    @extend_schema(
        operation_id="tickets_qr",
        summary="Get a ticket's QR code",
        parameters=[TICKET_ID],
        responses={
            (200, "image/svg+xml"): OpenApiResponse(OpenApiTypes.STR, "The ticket's QR code."),
            **problems(401, 404),
        },
        description="The ticket's QR code (owner or admin), holding its `code`.",
    )
    @action(
        detail=True,
        methods=["get"],
        url_path=r"qr\.svg",
        content_negotiation_class=_ImageOrProblem,
    )
    def qr(self, request, pk=None):
        ticket = selectors.ticket_get(ticket_id=pk, user=request.user)
        event = ticket.booking.event
        svg = qr_svg(
            ticket.code, title=f"{event.name}, {ticket.ticket_type_name}, ticket {ticket.number}"
        )
        # The picture is the code, which lets its holder in: no shared cache may keep it.
        return HttpResponse(
            svg, content_type="image/svg+xml", headers={"Cache-Control": "private, no-store"}
        )


class CheckInView(APIView):
    permission_classes = [IsDoorStaff]

    @extend_schema(
        tags=["checkin"],
        operation_id="checkin_create",
        summary="Check a ticket in at the door (admin or scanner)",
        request=CheckInInputSerializer,
        responses={200: CheckInResultSerializer, **problems(400, 401, 403, 404, 409)},
        description="Let a scanned ticket in (admin or scanner), exactly once whatever the "
        "number of scanners. Refusals: 404 `unknown_ticket` (unknown or malformed code), 409 "
        "`wrong_event` (with `ticket_event`), `ticket_void`, `checkin_closed` (outside the "
        "event's check-in window, with its bounds `opens_at` and `closes_at`), "
        "`already_checked_in` (with `checked_in_at`).",
    )
    def post(self, request):
        data = CheckInInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        ticket = services.ticket_check_in(
            ref=ref_from_code(data.validated_data["code"]),
            event_id=data.validated_data.get("event_id"),
            actor=request.user,
        )
        return Response(CheckInResultSerializer(CheckInResultSerializer.of(ticket)).data)


class CheckInEventView(APIView):
    permission_classes = [IsDoorStaff]

    @extend_schema(
        tags=["checkin"],
        operation_id="checkin_event",
        summary="Count an event's check-ins (admin or scanner)",
        parameters=[EVENT_ID],
        responses={200: DoorCountsSerializer, **problems(401, 403, 404)},
        description="The door's counter (admin or scanner): confirmed tickets, checked in, "
        "still to come; and the same per ticket type.",
    )
    def get(self, request, pk=None):
        return Response(DoorCountsSerializer(selectors.door_counts_with_types(event_id=pk)).data)
