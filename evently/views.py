import hmac

from django.conf import settings
from django.contrib import admin
from django.db import connection
from django.db.utils import Error as DatabaseDriverError
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from core import metrics as metrics_module
from core.problems import problem_response
from core.schema import problems
from core.throttling import shared_cache_answers


class HealthView(APIView):
    permission_classes = [AllowAny]
    authentication_classes = []
    throttle_classes = []

    @extend_schema(
        tags=["operations"],
        operation_id="health",
        summary="Check the service's health",
        responses={
            200: inline_serializer(
                "Health",
                {
                    "status": serializers.CharField(help_text="`ok` or `degraded`"),
                    "database": serializers.CharField(help_text="`ok`"),
                    "cache": serializers.CharField(help_text="`ok` or `unavailable`"),
                },
            ),
            **problems(503),
        },
        description="200 while the database answers. Without Redis (when REDIS_URL is set) "
        "every route still answers, its throttles counting in the database: `status` is then "
        "`degraded` and `cache` `unavailable`, still 200, so a load balancer keeps the server.",
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
        cache = "ok" if shared_cache_answers() else "unavailable"
        status = "ok" if cache == "ok" else "degraded"
        return Response({"status": status, "database": "ok", "cache": cache})


def is_api_path(path: str) -> bool:
    return path == "/api" or path.startswith("/api/")


def site_page(request, template: str, title: str, status: int = 200):
    """One of the site's pages outside the console, in the console's look."""
    context = {"title": title, "site_header": admin.site.site_header, "site_url": None}
    return render(request, template, context, status=status)


def landing(request):
    """/: what this server is, with links to the console and the API docs."""
    return site_page(request, "evently/landing.html", "Evently")


def not_found(request, exception=None):
    """An unknown /api path is problem+json; any other is an HTML page in the site's look."""
    if is_api_path(request.path_info):
        return problem_response(404, "not_found", "No such route.")
    return site_page(request, "evently/404.html", "Page not found", status=404)


@csrf_exempt  # the same 404 for every method, as on /api
def page_not_found(request, *args, **kwargs):
    """The last route: with DEBUG on Django would answer its technical 404 page instead of
    calling handler404, so unknown paths are routed here in every mode."""
    return not_found(request)


@csrf_exempt  # it changes nothing, whatever the method: a POST to a typo gets the same 404
def api_not_found(request):
    return not_found(request)


def server_error(request):
    return problem_response(500, "server_error", "An unexpected error occurred.")


def bad_request(request, exception=None):
    return problem_response(400, "bad_request", "Bad request.")


def permission_denied(request, exception=None):
    return problem_response(403, "permission_denied", "You may not do this.")


def metrics(request):
    """Prometheus' scrape (core/metrics.py): for a caller with the METRICS_TOKEN bearer token
    only; a 404 when metrics are off, so an unconfigured server does not even admit to it."""
    token = settings.METRICS_TOKEN
    if not token:
        return not_found(request)
    sent = request.headers.get("Authorization", "").encode()
    if not hmac.compare_digest(sent, f"Bearer {token}".encode()):
        return problem_response(
            401,
            "not_authenticated",
            "Send the metrics token: Authorization: Bearer <METRICS_TOKEN>.",
            headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
        )
    body, content_type = metrics_module.exposition()
    return HttpResponse(body, content_type=content_type)
