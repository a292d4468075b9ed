from django.contrib.auth.password_validation import (
    MinimumLengthValidator,
    get_default_password_validators,
)
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.models import User, normalize_email_address
from core.serializers import OneLineCharField, StrictInputSerializer


def _password_min_length() -> int:
    lengths = [
        validator.min_length
        for validator in get_default_password_validators()
        if isinstance(validator, MinimumLengthValidator)
    ]
    return max(lengths, default=1)


@extend_schema_field(
    {
        "type": "string",
        "minLength": _password_min_length(),
        "maxLength": 128,
        # Unanchored: at least one character that is not a digit.
        "pattern": r"\D",
        "description": "Checked by Django's password validators: long enough, not entirely "
        "numeric, not a common password, not too similar to the name or e-mail.",
    },
    # A component of its own: inline, drf-spectacular would replace its minLength with 1.
    component_name="NewPassword",
)
class NewPasswordField(serializers.CharField):
    """A new password. The service runs Django's validators, so their messages reach the
    client; the schema states the rules it can (length, not only digits)."""

    def __init__(self, **kwargs):
        super().__init__(max_length=128, trim_whitespace=False, **kwargs)


class UserSerializer(serializers.ModelSerializer):
    class Meta:
        model = User
        fields = ["id", "name", "email", "role", "created_at"]
        read_only_fields = fields


class RegisterInputSerializer(StrictInputSerializer):
    name = OneLineCharField(max_length=150)
    email = serializers.EmailField(max_length=254)
    password = NewPasswordField()

    def to_internal_value(self, data):
        # Normalise before EmailField validates, so " Ann@Example.com " and fullwidth
        # look-alikes are read as the plain address they stand for.
        if isinstance(data, dict) and isinstance(data.get("email"), str):
            data = {**data, "email": normalize_email_address(data["email"])}
        return super().to_internal_value(data)


class LoginInputSerializer(StrictInputSerializer):
    email = serializers.CharField(max_length=254)
    password = serializers.CharField(max_length=128, trim_whitespace=False)


class LoginOutputSerializer(serializers.Serializer):
    access = serializers.CharField()
    refresh = serializers.CharField()
    token = serializers.CharField(help_text="Same as `access`, kept for earlier clients.")
    token_type = serializers.ChoiceField(choices=["Bearer"])
    expires_in = serializers.IntegerField(help_text="Seconds until the access token expires.")
    user = UserSerializer()


class RefreshInputSerializer(StrictInputSerializer):
    refresh = serializers.CharField()


class RefreshOutputSerializer(serializers.Serializer):
    access = serializers.CharField()
    refresh = serializers.CharField()
