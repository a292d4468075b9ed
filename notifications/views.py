from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from core.schema import problems
from notifications import selectors, services
from notifications.filters import NotificationFilter
from notifications.models import Notification
from notifications.serializers import NotificationSerializer


class NotificationViewSet(viewsets.GenericViewSet):
    serializer_class = NotificationSerializer
    queryset = Notification.objects.none()  # reads go through notifications.selectors
    # The selector applies NotificationFilter; listed so the schema documents it.
    filter_backends = [DjangoFilterBackend]
    filterset_class = NotificationFilter

    @extend_schema(
        operation_id="notifications_list",
        summary="List my notifications",
        responses={200: NotificationSerializer(many=True), **problems(400, 401)},
        description="The caller's notifications, newest first.",
    )
    def list(self, request):
        notifications = selectors.notifications_of(user=request.user, filters=request.query_params)
        page = self.paginate_queryset(notifications)
        return self.get_paginated_response(NotificationSerializer(page, many=True).data)

    @extend_schema(
        operation_id="notifications_read",
        summary="Mark a notification as read",
        request=None,
        responses={200: NotificationSerializer, **problems(401, 404)},
    )
    @action(detail=True, methods=["post"])
    def read(self, request, pk=None):
        notification = services.notification_mark_read(notification_id=pk, user=request.user)
        return Response(NotificationSerializer(notification).data)

    @extend_schema(
        operation_id="notifications_read_all",
        summary="Mark all my notifications as read",
        request=None,
        responses={
            200: inline_serializer("ReadAllResult", {"updated": serializers.IntegerField()}),
            **problems(401),
        },
    )
    @action(detail=False, methods=["post"], url_path="read-all")
    def read_all(self, request):
        return Response({"updated": services.notification_mark_all_read(user=request.user)})
