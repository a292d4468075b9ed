import socket

import pytest

from tests.factories import EventFactory
from tests.problems import assert_problem
from webhooks.delivery import deliver
from webhooks.models import WebhookDelivery, WebhookEndpoint

pytestmark = pytest.mark.django_db

BASE = "/api/admin/webhooks"


def create(api, **body):
    return api.post(
        BASE, {"url": "https://hooks.example.com/in", "events": ["*"], **body}, format="json"
    )


@pytest.fixture
def public_dns(monkeypatch):
    """hooks.example.com resolves to a public address (documentation range stand-in)."""
    real = socket.getaddrinfo

    def getaddrinfo(host, port, *args, **kwargs):
        if host == "hooks.example.com":
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.215.14", port))]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


def test_create_answers_the_secret_once(settings, admin_api, public_dns):
    settings.WEBHOOKS_ALLOW_INSECURE = False
    response = create(admin_api, events=["booking.confirmed", "event.created"], description="CRM")
    assert response.status_code == 201
    body = response.json()
    assert body["secret"].startswith("whsec_") and len(body["secret"]) == 50
    assert body["events"] == ["booking.confirmed", "event.created"]
    assert (body["url"], body["description"], body["is_active"]) == (
        "https://hooks.example.com/in",
        "CRM",
        True,
    )
    assert WebhookEndpoint.objects.get().secret == body["secret"]
    shown = admin_api.get(f"{BASE}/{body['id']}").json()
    assert "secret" not in shown
    assert "secret" not in admin_api.get(BASE).json()["results"][0]


def test_unknown_event_types_are_a_400_and_write_nothing(admin_api, public_dns):
    response = create(admin_api, events=["booking.confirmed", "booking.teleported"])
    assert_problem(response, 400, "validation_error")
    assert "events.1" in response.json()["errors"]
    assert_problem(create(admin_api, events=[]), 400, "validation_error")
    assert WebhookEndpoint.objects.count() == 0


def test_types_checkout_will_send_can_be_subscribed_already(admin_api, public_dns):
    response = create(admin_api, events=["booking.expired", "payment.refunded"])
    assert response.status_code == 201


@pytest.mark.parametrize(
    "url",
    [
        "http://hooks.example.com/in",
        "ftp://hooks.example.com/in",
        "https://127.0.0.1/in",
        "https://localhost/in",
        "https://10.1.2.3/in",
        "https://192.168.0.10/in",
        "https://172.16.5.4/in",
        "https://169.254.169.254/latest/meta-data",
        "https://224.0.0.1/in",
        "https://0.0.0.0/in",
        "https://[::1]/in",
        "https://[::]/in",
        "https://[fe80::1]/in",
        "https://[fd00::1]/in",
        "https://[ff02::1]/in",
        "https://[::ffff:127.0.0.1]/in",
        "https://[::ffff:10.0.0.1]/in",
        "https://[64:ff9b::a9fe:a9fe]/in",
        "https://100.64.0.1/in",
        "https://no-such-host.invalid/in",
    ],
)
def test_insecure_or_internal_urls_are_refused_at_registration(settings, admin_api, url):
    settings.WEBHOOKS_ALLOW_INSECURE = False
    response = create(admin_api, url=url)
    assert_problem(response, 400, "validation_error")
    assert list(response.json()["errors"]) == ["url"]
    assert WebhookEndpoint.objects.count() == 0


def test_the_insecure_setting_allows_http_and_loopback(settings, admin_api):
    settings.WEBHOOKS_ALLOW_INSECURE = True
    assert create(admin_api, url="http://127.0.0.1:9/in").status_code == 201


def test_patch_checks_the_url_again_and_enabling_clears_the_reason(settings, admin_api, endpoint):
    WebhookEndpoint.objects.update(is_active=False, disabled_reason="it answered 410 Gone")
    settings.WEBHOOKS_ALLOW_INSECURE = False
    response = admin_api.patch(f"{BASE}/{endpoint.pk}", {"url": "https://[::1]/x"}, format="json")
    assert_problem(response, 400, "validation_error")
    response = admin_api.patch(f"{BASE}/{endpoint.pk}", {"is_active": True}, format="json")
    assert response.status_code == 200
    assert (response.json()["is_active"], response.json()["disabled_reason"]) == (True, "")
    response = admin_api.patch(
        f"{BASE}/{endpoint.pk}", {"events": ["event.created", "*"]}, format="json"
    )
    assert response.json()["events"] == ["*"]


def test_rotate_answers_the_new_secret(admin_api, endpoint):
    response = admin_api.post(f"{BASE}/{endpoint.pk}/rotate-secret")
    assert response.status_code == 200
    endpoint_row = WebhookEndpoint.objects.get()
    assert response.json()["secret"] == endpoint_row.secret != endpoint.secret
    assert endpoint_row.previous_secret == endpoint.secret


def test_test_message_retry_and_the_delivery_log(admin_api, endpoint, receiver):
    receiver.script = [500]
    response = admin_api.post(f"{BASE}/{endpoint.pk}/test")
    assert response.status_code == 202
    delivery_id = response.json()["id"]
    assert response.json()["message"]["type"] == "webhook.test"
    deliver()
    log = admin_api.get(f"{BASE}/{endpoint.pk}/deliveries").json()
    assert log["count"] == 1
    [row] = log["results"]
    assert (row["id"], row["status"], row["attempt_count"]) == (delivery_id, "pending", 1)
    [attempt] = row["attempts"]
    assert (attempt["status_code"], attempt["error"]) == (500, "ok")
    assert attempt["duration_ms"] >= 0 and attempt["attempted_at"]
    assert row["next_attempt_at"] is not None

    response = admin_api.post(f"/api/admin/webhook-deliveries/{delivery_id}/retry")
    assert response.status_code == 202
    assert deliver().delivered == 1
    row = admin_api.get(f"{BASE}/{endpoint.pk}/deliveries").json()["results"][0]
    assert (row["status"], row["next_attempt_at"], len(row["attempts"])) == ("delivered", None, 2)


def test_the_delivery_log_takes_five_queries_whatever_its_size(
    admin_api, endpoint, user, django_assert_num_queries
):
    from bookings.services import booking_create

    for _ in range(3):
        booking_create(event_id=EventFactory().pk, user=user, quantity=1)
    deliver()
    # The caller's account, the endpoint (404 if none), the count, the page with its
    # messages, and every attempt on the page.
    with django_assert_num_queries(5):
        response = admin_api.get(f"{BASE}/{endpoint.pk}/deliveries")
    assert response.json()["count"] == 3


def test_delete_removes_the_endpoint_and_its_deliveries(admin_api, endpoint):
    admin_api.post(f"{BASE}/{endpoint.pk}/test")
    assert admin_api.delete(f"{BASE}/{endpoint.pk}").status_code == 204
    assert WebhookEndpoint.objects.count() == WebhookDelivery.objects.count() == 0
    assert_problem(admin_api.get(f"{BASE}/{endpoint.pk}"), 404, "not_found")
    assert_problem(admin_api.get(f"{BASE}/not-an-id"), 404, "not_found")
    assert_problem(
        admin_api.post("/api/admin/webhook-deliveries/00000000-0000-0000-0000-000000000000/retry"),
        404,
        "not_found",
    )


def test_only_admins_may_use_the_webhook_routes(anon_api, user_api, scanner_api, endpoint):
    for api, status in [(anon_api, 401), (user_api, 403), (scanner_api, 403)]:
        assert api.get(BASE).status_code == status
        assert api.post(f"{BASE}/{endpoint.pk}/rotate-secret").status_code == status
    assert WebhookEndpoint.objects.get().secret == endpoint.secret
