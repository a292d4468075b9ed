from drf_spectacular.utils import extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from core.schema import problems
from waitlist import selectors, services
from waitlist.models import WaitlistEntry
from waitlist.serializers import WaitlistEntrySerializer


class WaitlistEntryViewSet(viewsets.GenericViewSet):
    # The caller's waitlist entries. Accepting an offer books, so that route's view is
    # bookings' (bookings.views.WaitlistOfferViewSet), at /waitlist/{id}/accept.
    serializer_class = WaitlistEntrySerializer
    queryset = WaitlistEntry.objects.none()  # reads go through waitlist.selectors

    @extend_schema(
        operation_id="waitlist_my",
        summary="List my waitlist entries",
        responses={200: WaitlistEntrySerializer(many=True), **problems(400, 401)},
        description="The caller's waitlist entries, newest first, with their positions.",
    )
    @action(detail=False, methods=["get"])
    def my(self, request):
        page = self.paginate_queryset(selectors.waitlist_entries_of(user=request.user))
        return self.get_paginated_response(WaitlistEntrySerializer(page, many=True).data)

    @extend_schema(
        operation_id="waitlist_retrieve",
        summary="Show a waitlist entry",
        responses={200: WaitlistEntrySerializer, **problems(401, 404)},
    )
    def retrieve(self, request, pk=None):
        entry = selectors.waitlist_entry_get(entry_id=pk, user=request.user)
        return Response(WaitlistEntrySerializer(entry).data)

    @extend_schema(
        operation_id="waitlist_decline",
        summary="Decline an offer, leaving the waitlist",
        request=None,
        responses={200: WaitlistEntrySerializer, **problems(401, 404, 409)},
        description="Leave the waitlist; a held offer's seats pass to the next person.",
    )
    @action(detail=True, methods=["post"])
    def decline(self, request, pk=None):
        entry = services.waitlist_entry_leave(entry_id=pk, user=request.user)
        return Response(WaitlistEntrySerializer(entry).data)

    @extend_schema(
        operation_id="waitlist_leave",
        summary="Leave the waitlist",
        responses={204: None, **problems(401, 404, 409)},
        description="Leave the waitlist; same as decline, with no body.",
    )
    def destroy(self, request, pk=None):
        services.waitlist_entry_leave(entry_id=pk, user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)
