import json
import time
import uuid

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import ClaimsOnly, IsAdmin
from core.exceptions import NotFound
from core.schema import problems
from core.throttling import UserRateThrottle
from waitingroom import services
from waitingroom.serializers import (
    QueuePlaceSerializer,
    QueueSettingsInputSerializer,
    QueueStatusSerializer,
)

EVENT_ID = OpenApiParameter("event_id", OpenApiTypes.UUID, OpenApiParameter.PATH)


def _event_uuid(value) -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise NotFound() from None


def place_body(view: services.QueueView) -> bytes:
    """QueuePlaceSerializer's answer, as DRF's JSONRenderer writes it, built directly: a poll
    is the waiting room's most frequent request, and the serializer (its fields deep-copied
    and bound on every call) and the renderer's negotiation were a third of its
    instructions. tests/waitingroom/test_queue_api.py holds the two to the same bytes."""
    expires = view.admission_expires_at
    return json.dumps(
        {
            "token": view.token,
            "status": view.status,
            "position": view.position,
            "estimated_wait_seconds": view.estimated_wait_seconds,
            "admission_token": view.admission_token,
            "admission_expires_at": None
            if expires is None
            else time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(expires.timestamp())),
        },
        separators=(",", ":"),
    ).encode()


def _place_response(view: services.QueueView, code: int) -> HttpResponse:
    return HttpResponse(
        place_body(view),
        content_type="application/json",
        status=code,
        headers={"Retry-After": str(view.retry_after)},
    )


class QueueJoinView(APIView):
    # The token's claims are enough: a queue place books nothing, and the booking checks
    # the account. So a join or a poll on Redis runs no database query.
    permission_classes = [ClaimsOnly]
    # Only signed-in callers get past the permission, so the per-address throttle would
    # never count one: the per-user throttle alone, and no instance of the other to build.
    throttle_classes = [UserRateThrottle]

    @extend_schema(
        operation_id="queue_join",
        summary="Join an event's waiting room",
        parameters=[EVENT_ID],
        request=None,
        responses={
            201: OpenApiResponse(QueuePlaceSerializer, "A new place, with `Retry-After`."),
            200: OpenApiResponse(QueuePlaceSerializer, "The place the caller already had."),
            **problems(401, 404),
        },
        description="Join the event's waiting room. Poll GET /api/queue/{token} when "
        "`Retry-After` says; once admitted, book with the `admission_token`.",
    )
    def post(self, request, event_id):
        view = services.queue_join(event_id=_event_uuid(event_id), user=request.user)
        return _place_response(view, status.HTTP_201_CREATED if view.created else 200)


class QueuePlaceView(APIView):
    permission_classes = [ClaimsOnly]
    throttle_classes = [UserRateThrottle]

    @extend_schema(
        operation_id="queue_poll",
        summary="Show a place in a waiting room",
        responses={200: QueuePlaceSerializer, **problems(401, 404)},
        description="The caller's place now; poll again after `Retry-After` seconds.",
    )
    def get(self, request, token):
        return _place_response(services.queue_poll(token=token, user=request.user), 200)


class AdminQueueView(APIView):
    permission_classes = [IsAdmin]

    @extend_schema(
        operation_id="admin_event_queue",
        summary="Show an event's waiting room",
        parameters=[EVENT_ID],
        responses={200: QueueStatusSerializer, **problems(401, 403, 404)},
        description="The event's waiting room: settings and live figures.",
    )
    def get(self, request, event_id):
        figures = services.queue_status(event_id=_event_uuid(event_id))
        return Response(QueueStatusSerializer(figures).data)

    @extend_schema(
        operation_id="admin_event_queue_update",
        summary="Configure, pause or resume an event's waiting room",
        parameters=[EVENT_ID],
        request=QueueSettingsInputSerializer,
        responses={200: QueueStatusSerializer, **problems(400, 401, 403, 404, 409)},
        description="Turn the queue on or off, set its rate (people a minute), pause or "
        "resume it. A new rate or a pause applies from now on.",
    )
    def patch(self, request, event_id):
        data = QueueSettingsInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        figures = services.queue_configure(
            event_id=_event_uuid(event_id),
            enabled=values.get("queue_enabled"),
            rate=values.get("queue_rate"),
            paused=values.get("paused"),
        )
        return Response(QueueStatusSerializer(figures).data)
