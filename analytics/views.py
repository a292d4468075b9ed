from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import IsAdmin
from analytics import selectors
from analytics.exports import bookings_csv_response
from analytics.serializers import (
    AdminBookingSerializer,
    AdminEventSerializer,
    EventAnalyticsSerializer,
    EventBookingsQuerySerializer,
    OverviewQuerySerializer,
    OverviewSerializer,
    PopularEventsSerializer,
    PopularQuerySerializer,
)
from core.db_router import pin_to_current_database, replica_reads
from core.pagination import LimitOffsetPagination
from core.schema import problems
from events.models import Event


class AdminEventViewSet(viewsets.GenericViewSet):
    permission_classes = [IsAdmin]
    serializer_class = AdminEventSerializer
    queryset = Event.objects.none()  # reads go through analytics.selectors

    @extend_schema(
        operation_id="admin_events_list",
        summary="List every event with its sales (admin)",
        responses={200: AdminEventSerializer(many=True), **problems(400, 401, 403)},
        description="Every event, past and cancelled too, newest first, with sales figures.",
    )
    @replica_reads
    def list(self, request):
        page = self.paginate_queryset(selectors.events_with_sales())
        return self.get_paginated_response(AdminEventSerializer(page, many=True).data)

    @extend_schema(
        operation_id="admin_event_bookings",
        summary="List an event's bookings (admin)",
        parameters=[EventBookingsQuerySerializer],
        responses={200: AdminBookingSerializer(many=True), **problems(400, 401, 403, 404)},
        description="The event's bookings, newest first.",
    )
    @action(detail=True, methods=["get"])
    @replica_reads
    def bookings(self, request, pk=None):
        query = EventBookingsQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        bookings = selectors.event_bookings(event_id=pk, **query.validated_data)
        page = self.paginate_queryset(bookings)
        return self.get_paginated_response(AdminBookingSerializer(page, many=True).data)

    @extend_schema(
        operation_id="admin_event_bookings_csv",
        summary="Export an event's bookings as CSV (admin)",
        parameters=[EventBookingsQuerySerializer],
        responses={
            (200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, "The bookings as CSV."),
            **problems(400, 401, 403, 404),
        },
    )
    @action(detail=True, methods=["get"], url_path=r"bookings\.csv", pagination_class=None)
    @replica_reads
    def bookings_csv(self, request, pk=None):
        query = EventBookingsQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        bookings = selectors.event_bookings(event_id=pk, **query.validated_data)
        # Streamed after this method returns: bind the rows to this request's database now.
        return bookings_csv_response(
            pin_to_current_database(bookings), filename=f"event-{pk}-bookings.csv"
        )

    @extend_schema(
        operation_id="admin_event_analytics",
        summary="Show an event's figures (admin)",
        responses={200: EventAnalyticsSerializer, **problems(401, 403, 404)},
    )
    @action(detail=True, methods=["get"])
    @replica_reads
    def analytics(self, request, pk=None):
        return Response(EventAnalyticsSerializer(selectors.event_analytics(event_id=pk)).data)


class PopularEventsView(APIView):
    permission_classes = [IsAdmin]

    @extend_schema(
        tags=["admin"],
        operation_id="admin_analytics_events",
        summary="List the most popular events (admin)",
        parameters=[PopularQuerySerializer],
        responses={200: PopularEventsSerializer, **problems(400, 401, 403)},
        description="Most popular events (cancelled ones left out), most confirmed tickets "
        "first. One SQL query.",
    )
    @replica_reads
    def get(self, request):
        query = PopularQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        limit = min(query.validated_data["limit"], LimitOffsetPagination.max_limit)
        results = selectors.popular_events(limit=limit)
        return Response(PopularEventsSerializer({"results": results}).data)


class OverviewView(APIView):
    permission_classes = [IsAdmin]

    @extend_schema(
        tags=["admin"],
        operation_id="admin_analytics_overview",
        summary="Show sales totals over a period (admin)",
        parameters=[
            OpenApiParameter("from", OpenApiTypes.DATE, description="First UTC day."),
            OpenApiParameter("to", OpenApiTypes.DATE, description="Last UTC day, inclusive."),
        ],
        responses={200: OverviewSerializer, **problems(400, 401, 403)},
        description="Totals over a period of at most 366 days (default the last 30) and a "
        "per-day series with empty days present.",
    )
    @replica_reads
    def get(self, request):
        query = OverviewQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        period = selectors.Period(**query.validated_data)
        return Response(OverviewSerializer(selectors.sales_overview(period=period)).data)
