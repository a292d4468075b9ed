"""The staff console's webhook pages: register, enable and disable, rotate, test, and each
delivery with its attempts, retried from the list."""

import re

import pytest

from bookings.services import booking_create
from tests.factories import EventFactory
from webhooks.delivery import deliver
from webhooks.models import WebhookDelivery, WebhookEndpoint

pytestmark = pytest.mark.django_db

ENDPOINTS = "/admin/webhooks/webhookendpoint/"
DELIVERIES = "/admin/webhooks/webhookdelivery/"


def test_staff_register_an_endpoint_and_see_its_secret_once(staff, receiver):
    response = staff.post(
        f"{ENDPOINTS}add/",
        {
            "url": receiver.url,
            "description": "CRM",
            "events": ["booking.confirmed"],
            "is_active": "on",
        },
        follow=True,
    )
    assert response.status_code == 200
    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.events == ["booking.confirmed"]
    assert endpoint.secret in response.content.decode()
    page = staff.get(ENDPOINTS).content.decode()
    assert receiver.url in page and endpoint.secret not in page
    assert endpoint.secret not in staff.get(f"{ENDPOINTS}{endpoint.pk}/change/").content.decode()


def test_the_console_refuses_an_internal_url(settings, staff):
    settings.WEBHOOKS_ALLOW_INSECURE = False
    response = staff.post(
        f"{ENDPOINTS}add/",
        {"url": "https://169.254.169.254/x", "events": ["*"], "is_active": "on"},
    )
    assert response.status_code == 200
    assert "non-public address" in response.content.decode()
    assert WebhookEndpoint.objects.count() == 0


def test_staff_disable_enable_rotate_and_test_from_the_list(staff, endpoint):
    def act(action):
        return staff.post(
            ENDPOINTS, {"action": action, "_selected_action": [endpoint.pk]}, follow=True
        )

    act("disable")
    assert not WebhookEndpoint.objects.get().is_active
    act("enable")
    assert WebhookEndpoint.objects.get().is_active
    page = act("rotate_secret").content.decode()
    rotated = WebhookEndpoint.objects.get()
    assert rotated.secret != endpoint.secret and rotated.secret in page
    act("send_test")
    assert WebhookDelivery.objects.get().message.type == "webhook.test"


def test_each_delivery_shows_its_attempts_and_can_be_retried(staff, endpoint, receiver, user):
    receiver.script = [500] * 8
    booking_create(event_id=EventFactory().pk, user=user, quantity=1)
    for _ in range(8):
        deliver()
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "failed"
    listing = staff.get(DELIVERIES).content.decode()
    assert "booking.confirmed" in listing and "Failed" in listing
    page = staff.get(f"{DELIVERIES}{delivery.pk}/change/").content.decode()
    assert re.findall(r'field-status_code">\s*<p>(\d+)</p>', page) == ["500"] * 8
    staff.post(DELIVERIES, {"action": "retry", "_selected_action": [delivery.pk]})
    assert deliver().delivered == 1
    assert WebhookDelivery.objects.get().status == "delivered"
