"""Request bodies read with their JSON types, as the schema states them."""

from collections.abc import Mapping

from django.core.validators import RegexValidator
from rest_framework import serializers

# The JSON values each kind of field takes; the first matching class wins (EmailField is a
# CharField). Date and time fields already refuse anything but a string.
_JSON_TYPES: list[tuple[type[serializers.Field], tuple[type, ...]]] = [
    (serializers.BooleanField, (bool,)),
    (serializers.IntegerField, (int,)),
    (serializers.DecimalField, (str, int, float)),
    (serializers.CharField, (str,)),
    (serializers.UUIDField, (str,)),
]


def _has_json_type(field: serializers.Field, value) -> bool:
    for field_class, types in _JSON_TYPES:
        if isinstance(field, field_class):
            if isinstance(value, bool) and bool not in types:
                return False
            return isinstance(value, types)
    return True


# What Python's str.strip(), and so DRF's trimming CharField, takes for white space.
_SPACE = r"\t\n\x0b\x0c\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
# A trimmed field that may not be blank needs one other character. As a validator it never
# refuses anything (blank is refused before it runs); it is there so the schema has a pattern.
_NOT_ONLY_SPACE = RegexValidator(rf"[^{_SPACE}]", message="May not be only white space.")


class StrictInputSerializer(serializers.Serializer):
    """An input serializer that takes each field only in the JSON type the schema gives it.

    DRF coerces scalars: `"name": 0` became the name "0", `"quantity": "2"` two tickets,
    `"join_waitlist": "no"` false and `"event_id": 5` the UUID 00000000-…-0005. The schema
    says a string is a string and a number a number, so anything else is a 400 naming the
    field.

    A trimmed text field that may not be blank is documented as needing a character other
    than white space, which is what trimming leaves of it.
    """

    def get_fields(self):
        fields = super().get_fields()
        for field in fields.values():
            trimmed = getattr(field, "trim_whitespace", False)
            if trimmed and not field.allow_blank and _NOT_ONLY_SPACE not in field.validators:
                field.validators.append(_NOT_ONLY_SPACE)
        return fields

    def to_internal_value(self, data):
        mistyped = {}
        if isinstance(data, Mapping):
            mistyped = {
                field.field_name: [field.error_messages["invalid"]]
                for field in self._writable_fields
                if data.get(field.field_name) is not None
                and not _has_json_type(field, data[field.field_name])
            }
        try:
            value = super().to_internal_value(data)
        except serializers.ValidationError as exc:
            if not mistyped:
                raise
            # Report the other fields' errors too, and a mistyped field's type first.
            raise serializers.ValidationError({**exc.detail, **mistyped}) from None
        if mistyped:
            raise serializers.ValidationError(mistyped)
        return value
