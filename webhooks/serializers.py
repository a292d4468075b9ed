from rest_framework import serializers

from core.serializers import StrictInputSerializer
from webhooks.models import (
    ALL_TYPES,
    EVENT_TYPES,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
)


class WebhookEndpointSerializer(serializers.ModelSerializer):
    class Meta:
        model = WebhookEndpoint
        fields = [
            "id",
            "url",
            "description",
            "events",
            "is_active",
            "disabled_reason",
            "failing_since",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields
        extra_kwargs = {
            "disabled_reason": {
                "help_text": "Why delivery switched it off (410, failing for "
                "3 days); empty otherwise."
            },
        }


class WebhookEndpointSecretSerializer(WebhookEndpointSerializer):
    """The endpoint with its signing secret: answered once, when created or rotated."""

    secret = serializers.CharField(
        read_only=True, help_text="`whsec_` + base64. Shown this once: keep it."
    )

    class Meta(WebhookEndpointSerializer.Meta):
        fields = [*WebhookEndpointSerializer.Meta.fields, "secret"]
        read_only_fields = fields


class WebhookEndpointInputSerializer(StrictInputSerializer):
    url = serializers.URLField(
        max_length=2000, help_text="https, on a host that resolves to public addresses only."
    )
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=[*EVENT_TYPES, ALL_TYPES]),
        allow_empty=False,
        min_length=1,
        help_text='The types to receive, or ["*"] for all.',
    )
    description = serializers.CharField(
        max_length=200, allow_blank=True, required=False, default=""
    )
    is_active = serializers.BooleanField(required=False, default=True)


class WebhookAttemptSerializer(serializers.ModelSerializer):
    class Meta:
        model = WebhookAttempt
        fields = ["attempted_at", "status_code", "duration_ms", "error"]
        read_only_fields = fields


class WebhookMessageSummarySerializer(serializers.Serializer):
    id = serializers.UUIDField(help_text="The `webhook-id` header, the same on every try.")
    type = serializers.CharField()
    timestamp = serializers.DateTimeField(source="created_at")


class WebhookDeliverySerializer(serializers.ModelSerializer):
    endpoint_id = serializers.UUIDField(read_only=True)
    message = WebhookMessageSummarySerializer(read_only=True)
    attempt_count = serializers.IntegerField(source="attempts", read_only=True)
    attempts = WebhookAttemptSerializer(
        source="tries", many=True, read_only=True, help_text="Every try, oldest first."
    )
    next_attempt_at = serializers.SerializerMethodField(
        help_text="When the next try is due; null once delivered or failed."
    )

    class Meta:
        model = WebhookDelivery
        fields = [
            "id",
            "endpoint_id",
            "message",
            "status",
            "attempt_count",
            "attempts",
            "next_attempt_at",
            "delivered_at",
            "created_at",
        ]
        read_only_fields = fields

    def get_next_attempt_at(self, delivery) -> str | None:
        if delivery.status not in {WebhookDelivery.Status.PENDING, WebhookDelivery.Status.SENDING}:
            return None
        return serializers.DateTimeField().to_representation(delivery.next_attempt_at)
