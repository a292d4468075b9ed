"""The plain floor's one route: a Django view that books in SQL, with no checks at all.

It reads the user from the body (no authentication) and the request as JSON (no validation):
the least a booking can do on Django, psycopg and PostgreSQL under gunicorn.
"""

import json

from django.http import JsonResponse
from django.urls import path

from bench.floors.sql import book


def plain_book(request):
    body = json.loads(request.body)
    booking_id = book(event_id=body["event_id"], user_id=body["user_id"], quantity=body["quantity"])
    return JsonResponse({"id": booking_id}, status=201)


# The path Evently serves bookings on, so every service is sent the very same request.
urlpatterns = [path("api/bookings", plain_book)]
