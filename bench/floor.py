"""The floor: the least a booking can do on this stack, to measure Evently against.

A plain Django view (no DRF, no authentication, no validation, no notification) doing the same
locked decrement and insert in the same database under the same gunicorn settings.
"""

import json

from django.db import transaction
from django.db.models import F
from django.http import JsonResponse

from bookings.models import Booking
from events.models import Event


def floor_book(request):
    body = json.loads(request.body)
    with transaction.atomic():
        event = Event.objects.select_for_update().get(pk=body["event_id"])
        Event.objects.filter(pk=event.pk).update(
            available_seats=F("available_seats") - 1,
            booked_seats=F("booked_seats") + 1,
            confirmed_bookings=F("confirmed_bookings") + 1,  # so the books check holds here too
        )
        booking = Booking.objects.create(
            event=event, user_id=body["user_id"], quantity=1, total_amount=event.price
        )
    return JsonResponse({"id": str(booking.pk)}, status=201)


floor_book.csrf_exempt = True
