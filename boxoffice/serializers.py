from rest_framework import serializers

from core.serializers import OneLineCharField, StrictInputSerializer


class EventMessageInputSerializer(StrictInputSerializer):
    title = OneLineCharField(
        max_length=200, help_text="The notification's title and the e-mail's subject."
    )
    message = serializers.CharField(max_length=5000, help_text="The text people receive.")


class EventMessageResultSerializer(serializers.Serializer):
    recipients = serializers.IntegerField(
        help_text="People holding a confirmed ticket, each sent one notification and e-mail."
    )
