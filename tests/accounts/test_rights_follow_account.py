"""Rights follow the account as it is now, never a claim copied into an older token."""

import jwt
import pytest
from django.conf import settings
from rest_framework.test import APIClient
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken

from accounts.models import User
from accounts.services import user_set_access
from bookings.models import Booking
from bookings.services import booking_create
from core.models import IdempotencyKey
from tests.factories import PASSWORD, AdminFactory, EventFactory, UserFactory
from tests.problems import assert_problem

pytestmark = pytest.mark.django_db


def login(email: str) -> dict:
    response = APIClient().post(
        "/api/auth/login", {"email": email, "password": PASSWORD}, format="json"
    )
    assert response.status_code == 200, response.content
    return response.json()


def bearer(access: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    return client


def refresh(token: str):
    return APIClient().post("/api/auth/refresh", {"refresh": token}, format="json")


def role_claim(access: str) -> str:
    return jwt.decode(access, settings.SIMPLE_JWT["SIGNING_KEY"], algorithms=["HS256"])["role"]


@pytest.fixture
def ada():
    return AdminFactory(email="ada@staff.example.com", name="Ada")


def staff_requests(client: APIClient, event) -> dict[str, int]:
    return {
        "GET /api/admin/events": client.get("/api/admin/events").status_code,
        "GET bookings.csv": client.get(f"/api/admin/events/{event.pk}/bookings.csv").status_code,
        "POST /api/events": client.post("/api/events", {}, format="json").status_code,
        "DELETE /api/events/{id}": client.delete(f"/api/events/{event.pk}").status_code,
    }


def test_an_admin_demoted_in_the_database_loses_staff_rights_on_the_next_request(ada):
    event = EventFactory()
    tokens = login(ada.email)
    api = bearer(tokens["access"])
    assert api.get("/api/admin/events").status_code == 200

    User.objects.filter(pk=ada.pk).update(role=User.Role.USER)  # behind every service's back

    assert set(staff_requests(api, event).values()) == {403}
    assert_problem(api.get("/api/admin/events"), 403, "permission_denied")
    event.refresh_from_db()  # the DELETE was refused: the event is still there


def test_refresh_mints_tokens_with_the_accounts_current_role(ada):
    tokens = login(ada.email)
    assert role_claim(tokens["access"]) == "admin"
    User.objects.filter(pk=ada.pk).update(role=User.Role.USER)

    response = refresh(tokens["refresh"])
    assert response.status_code == 200
    body = response.json()
    assert role_claim(body["access"]) == "user"
    assert jwt.decode(body["refresh"], options={"verify_signature": False})["role"] == "user"
    assert_problem(bearer(body["access"]).get("/api/admin/events"), 403, "permission_denied")


def test_a_deactivated_admin_is_refused_everywhere(ada):
    event = EventFactory()
    tokens = login(ada.email)
    User.objects.filter(pk=ada.pk).update(is_active=False)
    api = bearer(tokens["access"])
    assert set(staff_requests(api, event).values()) == {401}
    assert_problem(api.get("/api/admin/events"), 401, "token_not_valid")
    assert_problem(refresh(tokens["refresh"]), 401, "token_not_valid")


def test_demoting_through_the_service_revokes_every_refresh_token(ada):
    phone, laptop = login(ada.email), login(ada.email)
    user_set_access(user_id=ada.pk, role=User.Role.USER, is_active=True)
    assert_problem(refresh(phone["refresh"]), 401, "token_not_valid")
    assert_problem(refresh(laptop["refresh"]), 401, "token_not_valid")
    # A new login works and carries the new role.
    assert role_claim(login(ada.email)["access"]) == "user"


def test_promoting_keeps_the_refresh_tokens(user):
    tokens = login(user.email)
    user_set_access(user_id=user.pk, role=User.Role.ADMIN, is_active=True)
    response = refresh(tokens["refresh"])
    assert response.status_code == 200
    assert role_claim(response.json()["access"]) == "admin"


def test_deactivating_through_the_admin_site_revokes_the_refresh_tokens(client, admin_user, ada):
    tokens = login(ada.email)
    client.force_login(admin_user)
    response = client.post(
        f"/admin/accounts/user/{ada.pk}/change/",
        {"email": ada.email, "name": "Ada", "role": "admin", "is_active": ""},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    ada.refresh_from_db()
    assert not ada.is_active
    assert_problem(refresh(tokens["refresh"]), 401, "token_not_valid")


def test_demoting_through_the_admin_site_revokes_the_refresh_tokens(client, admin_user, ada):
    tokens = login(ada.email)
    client.force_login(admin_user)
    response = client.post(
        f"/admin/accounts/user/{ada.pk}/change/",
        {"email": ada.email, "name": "Ada Renamed", "role": "user", "is_active": "on"},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    ada.refresh_from_db()
    assert (ada.role, ada.name, ada.is_active) == ("user", "Ada Renamed", True)
    assert_problem(refresh(tokens["refresh"]), 401, "token_not_valid")


def test_a_demoted_admin_no_longer_sees_other_peoples_bookings(ada, user):
    booking = booking_create(event_id=EventFactory().pk, user=user, quantity=1).booking
    api = bearer(login(ada.email)["access"])
    assert api.get(f"/api/bookings/{booking.pk}").status_code == 200
    User.objects.filter(pk=ada.pk).update(role=User.Role.USER)
    assert_problem(api.get(f"/api/bookings/{booking.pk}"), 404, "not_found")


def test_a_deleted_accounts_tokens_are_401_everywhere_never_500():
    gone = UserFactory(email="gone@example.com")
    event = EventFactory()
    tokens = login(gone.email)
    gone.delete()
    api = bearer(tokens["access"])
    for response in (
        api.get("/api/auth/me"),
        api.get("/api/bookings/my"),
        api.get("/api/notifications"),
        api.get("/api/waitlist/my"),
        api.get("/api/events"),
        api.get(f"/api/events/{event.pk}"),
        api.post("/api/notifications/read-all"),
        api.get("/api/admin/events"),
    ):
        assert_problem(response, 401, "token_not_valid")
    assert_problem(refresh(tokens["refresh"]), 401, "token_not_valid")
    assert OutstandingToken.objects.filter(user__isnull=True).exists()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("idempotency_key", [None, "retry-1"])
def test_a_deleted_account_cannot_book_and_nothing_is_written(idempotency_key):
    # transaction=True: the foreign keys are checked at a real commit, as in production.
    gone = UserFactory(email="gone@example.com")
    event = EventFactory(total_capacity=5)
    api = bearer(login(gone.email)["access"])
    gone.delete()
    headers = {"HTTP_IDEMPOTENCY_KEY": idempotency_key} if idempotency_key else {}
    response = api.post(
        "/api/bookings", {"event_id": str(event.pk), "quantity": 1}, format="json", **headers
    )
    assert_problem(response, 401, "token_not_valid")
    event.refresh_from_db()
    assert event.available_seats == 5
    assert not Booking.objects.exists() and not IdempotencyKey.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_disabled_account_cannot_book():
    ann = UserFactory(email="ann@example.com")
    event = EventFactory(total_capacity=5)
    api = bearer(login(ann.email)["access"])
    User.objects.filter(pk=ann.pk).update(is_active=False)
    response = api.post("/api/bookings", {"event_id": str(event.pk), "quantity": 1}, format="json")
    assert_problem(response, 401, "token_not_valid")
    assert not Booking.objects.exists()
