from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts.permissions import IsAdmin
from core.schema import problems
from webhooks import selectors, services
from webhooks.models import WebhookEndpoint
from webhooks.serializers import (
    WebhookDeliverySerializer,
    WebhookEndpointInputSerializer,
    WebhookEndpointSecretSerializer,
    WebhookEndpointSerializer,
)


@extend_schema_view(
    list=extend_schema(
        operation_id="admin_webhooks_list",
        summary="List webhook endpoints (admin)",
        responses={200: WebhookEndpointSerializer(many=True), **problems(400, 401, 403)},
    ),
    retrieve=extend_schema(
        operation_id="admin_webhooks_retrieve",
        summary="Show a webhook endpoint (admin)",
        responses={200: WebhookEndpointSerializer, **problems(401, 403, 404)},
    ),
    create=extend_schema(
        operation_id="admin_webhooks_create",
        summary="Register a webhook endpoint (admin)",
        request=WebhookEndpointInputSerializer,
        responses={201: WebhookEndpointSecretSerializer, **problems(400, 401, 403)},
        description="Registers an endpoint. The answer carries its `secret`, this once.",
    ),
    partial_update=extend_schema(
        operation_id="admin_webhooks_partial_update",
        summary="Edit, enable or disable a webhook endpoint (admin)",
        request=WebhookEndpointInputSerializer(partial=True),
        responses={200: WebhookEndpointSerializer, **problems(400, 401, 403, 404)},
        description="`is_active: true` enables an endpoint delivery disabled, and its waiting "
        "deliveries go out again.",
    ),
    destroy=extend_schema(
        operation_id="admin_webhooks_destroy",
        summary="Delete a webhook endpoint (admin)",
        responses={204: None, **problems(401, 403, 404)},
    ),
)
class WebhookEndpointViewSet(viewsets.GenericViewSet):
    permission_classes = [IsAdmin]
    serializer_class = WebhookEndpointSerializer
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self):  # used by the schema generator only
        return WebhookEndpoint.objects.none()

    def list(self, request):
        page = self.paginate_queryset(selectors.endpoint_list())
        return self.get_paginated_response(WebhookEndpointSerializer(page, many=True).data)

    def retrieve(self, request, pk=None):
        return Response(WebhookEndpointSerializer(services.endpoint_get(pk)).data)

    def create(self, request):
        data = WebhookEndpointInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        endpoint = services.endpoint_create(actor=request.user, **data.validated_data)
        return Response(
            WebhookEndpointSecretSerializer(endpoint).data, status=status.HTTP_201_CREATED
        )

    def partial_update(self, request, pk=None):
        services.endpoint_get(pk)  # an unknown id is a 404 before the body is read
        data = WebhookEndpointInputSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        endpoint = services.endpoint_update(
            endpoint_id=pk, actor=request.user, changes=dict(data.validated_data)
        )
        return Response(WebhookEndpointSerializer(endpoint).data)

    def destroy(self, request, pk=None):
        services.endpoint_delete(endpoint_id=pk, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        operation_id="admin_webhooks_rotate_secret",
        summary="Rotate a webhook endpoint's secret (admin)",
        request=None,
        responses={200: WebhookEndpointSecretSerializer, **problems(401, 403, 404)},
        description="A new secret, answered this once; messages are signed with both the new "
        "and the old one for 24 hours.",
    )
    @action(detail=True, methods=["post"], url_path="rotate-secret")
    def rotate_secret(self, request, pk=None):
        endpoint = services.endpoint_rotate_secret(endpoint_id=pk, actor=request.user)
        return Response(WebhookEndpointSecretSerializer(endpoint).data)

    @extend_schema(
        operation_id="admin_webhooks_test",
        summary="Send a test webhook message (admin)",
        request=None,
        responses={202: WebhookDeliverySerializer, **problems(401, 403, 404)},
        description="Queues a `webhook.test` message to this endpoint.",
    )
    @action(detail=True, methods=["post"])
    def test(self, request, pk=None):
        delivery = services.endpoint_send_test(endpoint_id=pk, actor=request.user)
        return Response(WebhookDeliverySerializer(delivery).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(
        operation_id="admin_webhooks_deliveries",
        summary="List a webhook endpoint's deliveries (admin)",
        responses={200: WebhookDeliverySerializer(many=True), **problems(400, 401, 403, 404)},
        description="The endpoint's messages, newest first, each with every attempt.",
    )
    @action(detail=True, methods=["get"])
    def deliveries(self, request, pk=None):
        endpoint = services.endpoint_get(pk)
        page = self.paginate_queryset(selectors.endpoint_deliveries(endpoint_id=endpoint.pk))
        return self.get_paginated_response(WebhookDeliverySerializer(page, many=True).data)


class WebhookDeliveryViewSet(viewsets.GenericViewSet):
    permission_classes = [IsAdmin]
    serializer_class = WebhookDeliverySerializer

    def get_queryset(self):  # used by the schema generator only
        return WebhookEndpoint.objects.none()

    @extend_schema(
        operation_id="admin_webhook_deliveries_retry",
        summary="Retry a webhook delivery now (admin)",
        request=None,
        responses={202: WebhookDeliverySerializer, **problems(401, 403, 404)},
        description="Sends the delivery again at once (the worker's next round), with the "
        "same `webhook-id`.",
    )
    @action(detail=True, methods=["post"])
    def retry(self, request, pk=None):
        delivery = services.delivery_retry(delivery_id=pk, actor=request.user)
        return Response(WebhookDeliverySerializer(delivery).data, status=status.HTTP_202_ACCEPTED)
