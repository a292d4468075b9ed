"""The framework floor's one route: what DRF and simplejwt add to the plain floor's booking.

Bearer JWT authentication that trusts the token's claims (no user query, as Evently's
ClaimsJWTAuthentication), an input serializer of two fields, and the same SQL.
"""

from django.urls import path
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from bench.floors.sql import book


class FloorBookingInputSerializer(serializers.Serializer):
    event_id = serializers.UUIDField()
    quantity = serializers.IntegerField(min_value=1, max_value=10)


class FloorBookingView(APIView):
    def post(self, request):
        data = FloorBookingInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        booking_id = book(
            event_id=data.validated_data["event_id"],
            user_id=request.user.id,
            quantity=data.validated_data["quantity"],
        )
        return Response({"id": booking_id}, status=status.HTTP_201_CREATED)


urlpatterns = [path("api/bookings", FloorBookingView.as_view())]
