from collections import OrderedDict

from rest_framework import pagination
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response


def non_negative_int(raw: str, name: str) -> int:
    # ASCII digits only: str.isdigit() also accepts characters such as "²" that int() refuses.
    if not (raw.isascii() and raw.isdigit()):
        raise ValidationError({name: ["Must be a non-negative integer."]})
    return int(raw)


class LimitOffsetPagination(pagination.LimitOffsetPagination):
    """`limit`/`offset` paging; a malformed value is a 400 instead of silently ignored.

    `limit` defaults to 20 and larger values are cut to 100, as the contract says.
    """

    default_limit = 20
    max_limit = 100

    def get_limit(self, request):
        raw = request.query_params.get(self.limit_query_param)
        if raw is None or raw == "":
            return self.default_limit
        return min(non_negative_int(raw, self.limit_query_param), self.max_limit)

    def get_offset(self, request):
        raw = request.query_params.get(self.offset_query_param)
        if raw is None or raw == "":
            return 0
        return non_negative_int(raw, self.offset_query_param)

    def paginate_queryset(self, queryset, request, view=None):
        # Validate both parameters before any query runs.
        self.limit = self.get_limit(request)
        self.offset = self.get_offset(request)
        self.request = request
        self.count = self.get_count(queryset)
        if self.limit == 0 or self.count == 0 or self.offset > self.count:
            return []
        return list(queryset[self.offset : self.offset + self.limit])

    def get_schema_operation_parameters(self, view):
        # DRF documents both as bare integers; declare the bounds `non_negative_int` enforces.
        descriptions = {
            self.limit_query_param: f"Results per page, {self.default_limit} by default; larger "
            f"values are cut to {self.max_limit}. 0 answers the count alone.",
            self.offset_query_param: "How many results to skip.",
        }
        return [
            {
                "name": name,
                "required": False,
                "in": "query",
                "description": description,
                "schema": {"type": "integer", "minimum": 0},
            }
            for name, description in descriptions.items()
        ]

    def get_next_link(self):
        if self.limit == 0:
            return None
        return super().get_next_link()

    def get_paginated_response(self, data, **extra):
        body = OrderedDict(
            [
                ("count", self.count),
                ("next", self.get_next_link()),
                ("previous", self.get_previous_link()),
                ("results", data),
            ]
        )
        body.update(extra)
        return Response(body)
