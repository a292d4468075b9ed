"""The hand-built answer to a new booking is exactly what BookingSerializer makes."""

import json
from datetime import UTC, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from rest_framework import serializers
from rest_framework.renderers import JSONRenderer

from bookings.models import Booking
from bookings.serializers import BookingSerializer, _when, booking_body
from bookings.services import booking_cancel, booking_create
from tests.factories import EventFactory, UserFactory

pytestmark = pytest.mark.django_db


def rendered(data) -> bytes:
    return JSONRenderer().render(data)


@pytest.mark.parametrize("price", [Decimal("0.00"), Decimal("12.50"), Decimal("99999.99")])
def test_a_new_bookings_body_renders_byte_for_byte_as_the_serializer(user, price):
    event = EventFactory(price=price, name="Gala «Ünïcode»", venue='Hall "A"')
    booking = booking_create(event_id=event.pk, user=user, quantity=3).booking
    assert rendered(booking_body(booking)) == rendered(BookingSerializer(booking).data)
    stored = Booking.objects.select_related("event").get(pk=booking.pk)
    assert rendered(booking_body(stored)) == rendered(BookingSerializer(stored).data)


def test_a_cancelled_bookings_body_matches_too():
    person = UserFactory()
    booking = booking_create(event_id=EventFactory().pk, user=person, quantity=1).booking
    cancelled = booking_cancel(booking_id=booking.pk, actor=person)
    body = booking_body(cancelled)
    assert body == json.loads(rendered(BookingSerializer(cancelled).data))
    assert body["cancelled_at"] is not None


def test_the_api_answers_a_booking_with_every_field_of_the_schema(user_api):
    event = EventFactory()
    response = user_api.post(
        "/api/bookings", {"event_id": str(event.pk), "quantity": 2}, format="json"
    )
    assert response.status_code == 201
    assert list(response.json()["booking"]) == list(BookingSerializer().fields)


@pytest.mark.parametrize("zone", ["UTC", "Europe/Berlin", "America/St_Johns"])
@pytest.mark.parametrize(
    "value",
    [
        datetime(2026, 12, 2, 13, 45, 0, tzinfo=UTC),
        datetime(2026, 7, 1, 23, 59, 59, 123456, tzinfo=UTC),
        datetime(2026, 3, 29, 1, 30, tzinfo=ZoneInfo("Europe/Berlin")),
    ],
)
def test_times_are_written_as_drfs_datetime_field_writes_them(zone, value):
    with timezone.override(ZoneInfo(zone)):
        assert _when(value) == serializers.DateTimeField().to_representation(value)


@pytest.mark.django_db(transaction=True)
def test_a_new_booking_builds_its_body_once_for_its_webhook_message_and_its_answer(
    user_api, admin_user, monkeypatch, settings
):
    from bookings import serializers as booking_serializers
    from webhooks.models import WebhookMessage
    from webhooks.services import endpoint_create

    settings.WEBHOOKS_ALLOW_INSECURE = True
    endpoint_create(actor=admin_user, url="http://127.0.0.1:9/hook", events=["*"])
    built = []
    real = booking_serializers._booking_body
    monkeypatch.setattr(
        booking_serializers, "_booking_body", lambda *args: built.append(1) or real(*args)
    )
    event = EventFactory()

    response = user_api.post(
        "/api/bookings", {"event_id": str(event.pk), "quantity": 2}, format="json"
    )

    assert response.status_code == 201
    assert len(built) == 1
    message = json.loads(WebhookMessage.objects.get().body)
    assert message["data"] == response.json()["booking"]


def test_a_booking_that_changes_gets_a_new_body(user):
    booking = booking_create(event_id=EventFactory().pk, user=user, quantity=1).booking
    first = booking_body(booking)
    assert booking_body(booking) is first  # as it was: built once

    booking.status = Booking.Status.CANCELLED
    booking.cancelled_at = booking.updated_at = timezone.now()
    changed = booking_body(booking)
    assert (changed["status"], first["status"]) == ("cancelled", "confirmed")
    assert changed["cancelled_at"] is not None

    with timezone.override(ZoneInfo("Europe/Berlin")):
        shown = booking_body(booking)
    assert shown["created_at"] != changed["created_at"]
    assert not shown["created_at"].endswith("Z")
