"""Shared pieces of the OpenAPI description: the problem document and its responses."""

from drf_spectacular import openapi
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework import serializers

PROBLEM_MEDIA_TYPE = "application/problem+json"


class AutoSchema(openapi.AutoSchema):
    """drf-spectacular's schema, which also knows our public routes: a permission that lets
    anonymous callers in (`anonymous_allowed`) makes the bearer token optional there, as
    DRF's AllowAny would."""

    def get_auth(self):
        auths = super().get_auth()
        public = any(getattr(p, "anonymous_allowed", False) for p in self.view.get_permissions())
        if public and {} not in auths:
            auths.append({})
        return auths


class ProblemSerializer(serializers.Serializer):
    type = serializers.CharField(help_text="A URI naming the kind of problem.")
    title = serializers.CharField()
    status = serializers.IntegerField()
    detail = serializers.CharField()
    code = serializers.CharField(help_text="Stable machine word, e.g. `sold_out`.")
    errors = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text="Field name to messages; empty unless code is `validation_error`.",
    )


_DESCRIPTIONS = {
    400: "Invalid input (`validation_error`, `parse_error`).",
    401: "Missing, expired or invalid credentials.",
    403: "Signed in without the needed role.",
    404: "No such object, or not yours.",
    409: "Conflicts with the current state.",
    413: "Request body too large.",
    415: "Body is not JSON.",
    422: "Idempotency key reused with another body.",
    429: "Throttled; see Retry-After.",
    503: "The database is unavailable.",
}


def problems(*statuses: int) -> dict:
    """`extend_schema(responses=...)` entries for the given error statuses."""
    return {
        (status, PROBLEM_MEDIA_TYPE): OpenApiResponse(ProblemSerializer, _DESCRIPTIONS[status])
        for status in statuses
    }


IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    # As `core.idempotency` checks it: printable ASCII. HTTP drops a header value's leading
    # and trailing spaces, so the first and last characters are not spaces.
    {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[!-~]([ -~]*[!-~])?$"},
    OpenApiParameter.HEADER,
    description="1-255 printable characters. Retrying with the same key and body replays the "
    "first response (`Idempotent-Replayed: true`); another body answers 422; while the first "
    "request is still running, 409. Kept 24 hours, per caller.",
)


EMPTY_MEANS_ABSENT = "Sent empty (`?name=`), it is read as absent."


def document_empty_query_values(result, generator, request, public):
    """Say on every optional query parameter what the code does with an empty value: DRF's
    serializers and django-filter both read `?status=` as no filter at all."""
    for path in result.get("paths", {}).values():
        for operation in path.values():
            for parameter in operation.get("parameters", []) if isinstance(operation, dict) else []:
                if parameter.get("in") == "query" and not parameter.get("required"):
                    text = parameter.get("description", "")
                    if EMPTY_MEANS_ABSENT not in text:
                        parameter["description"] = f"{text} {EMPTY_MEANS_ABSENT}".strip()
    return result


def booking_quantity_or_items(result, generator, request, public):
    """A booking names `quantity` or `items`, exactly one of them: said in the schema, where a
    serializer's fields cannot say it."""
    schemas = result.get("components", {}).get("schemas", {})
    for name in ("BookingCreateInputRequest", "BookingCreateInput"):
        if name in schemas:
            schemas[name]["oneOf"] = [{"required": ["quantity"]}, {"required": ["items"]}]
            items = schemas[name].get("properties", {}).get("items")
            if items is not None:
                items.update(minItems=1, maxItems=10)
    return result
