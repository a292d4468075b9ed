from rest_framework import serializers


class QueuePlaceSerializer(serializers.Serializer):
    token = serializers.CharField(help_text="Names the place: poll GET /api/queue/{token}.")
    status = serializers.ChoiceField(choices=["waiting", "admitted"])
    position = serializers.IntegerField(help_text="People ahead still waiting; 0 once admitted.")
    estimated_wait_seconds = serializers.IntegerField()
    admission_token = serializers.CharField(
        allow_null=True, help_text="Send it as `Evently-Admission` with POST /api/bookings."
    )
    admission_expires_at = serializers.DateTimeField(allow_null=True)


class QueueStatusSerializer(serializers.Serializer):
    queue_enabled = serializers.BooleanField()
    queue_rate = serializers.IntegerField(help_text="People admitted a minute.")
    paused = serializers.BooleanField()
    waiting = serializers.IntegerField()
    admitted = serializers.IntegerField()
    admitted_last_minute = serializers.IntegerField()


class QueueSettingsInputSerializer(serializers.Serializer):
    queue_enabled = serializers.BooleanField(required=False)
    queue_rate = serializers.IntegerField(required=False, min_value=1, max_value=1_000_000)
    paused = serializers.BooleanField(required=False)
