from django.db import connection
from django.db.utils import Error as DatabaseDriverError
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from evently.problems import problem_response
from evently.schema import problems


class HealthView(APIView):
    permission_classes = [AllowAny]
    authentication_classes = []
    throttle_classes = []

    @extend_schema(
        tags=["operations"],
        operation_id="health",
        responses={
            200: inline_serializer(
                "Health",
                {"status": serializers.CharField(), "database": serializers.CharField()},
            ),
            **problems(503),
        },
    )
    def get(self, request):
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1")
        except DatabaseDriverError:
            return problem_response(
                503,
                "database_unavailable",
                "The database does not answer.",
                database="unavailable",
                headers={"Retry-After": "5"},
            )
        return Response({"status": "ok", "database": "ok"})


def not_found(request, exception=None):
    return problem_response(404, "not_found", "No such route.")


@csrf_exempt  # it changes nothing, whatever the method: a POST to a typo gets the same 404
def api_not_found(request):
    return not_found(request)


def server_error(request):
    return problem_response(500, "server_error", "An unexpected error occurred.")


def bad_request(request, exception=None):
    return problem_response(400, "bad_request", "Bad request.")


def permission_denied(request, exception=None):
    return problem_response(403, "permission_denied", "You may not do this.")
