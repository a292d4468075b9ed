"""Request bodies read with their JSON types, as the schema states them."""

from collections.abc import Mapping

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import RegexValidator
from rest_framework import serializers
from rest_framework.fields import empty

from core.validators import SPACE as _SPACE
from core.validators import one_line, one_line_not_blank

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


class OneLineCharField(serializers.CharField):
    """A name, venue or title: refuses control characters (core.validators.one_line) with
    a 400 naming the field, and says so in the schema's pattern."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        # First among the field's patterns: it is the one the schema shows.
        self.validators.insert(0, one_line if self.allow_blank else one_line_not_blank)

    def run_validation(self, data=empty):
        # The text as sent, before trimming takes a line break off either end: "Gala\n" is
        # refused as the schema's pattern says, not quietly stored as "Gala".
        # Its length too is the text's as sent, as the schema's maxLength says: white space
        # trimmed off the ends does not make a 201-character title fit in 200.
        if isinstance(data, str):
            try:
                one_line(data)
            except DjangoValidationError as exc:
                raise serializers.ValidationError(exc.messages, code="one_line") from None
            if self.max_length is not None and len(data) > self.max_length:
                self.fail("max_length", max_length=self.max_length)
        return super().run_validation(data)
