import pytest

from bookings.services import booking_create
from notifications.models import Notification
from tests.conftest import client_for
from tests.factories import EventFactory
from tests.problems import assert_problem

pytestmark = pytest.mark.django_db


@pytest.fixture
def notified(user, other_user):
    event = EventFactory()
    for _ in range(3):
        booking_create(event_id=event.pk, user=user, quantity=1)
    booking_create(event_id=event.pk, user=other_user, quantity=1)
    return event


def test_list_shows_only_own_newest_first(user_api, user, notified):
    body = user_api.get("/api/notifications").json()
    assert body["count"] == 3
    first = body["results"][0]
    assert set(first) == {"id", "event_id", "type", "title", "message", "is_read", "created_at"}
    assert (first["type"], first["event_id"], first["is_read"]) == (
        "booking_confirmed",
        str(notified.pk),
        False,
    )
    times = [n["created_at"] for n in body["results"]]
    assert times == sorted(times, reverse=True)


def test_read_one_then_filter_unread(user_api, user, notified):
    target = Notification.objects.filter(user=user).first()
    response = user_api.post(f"/api/notifications/{target.pk}/read")
    assert response.status_code == 200
    assert response.json()["is_read"] is True
    unread = user_api.get("/api/notifications?is_read=false").json()
    assert unread["count"] == 2
    assert str(target.pk) not in {n["id"] for n in unread["results"]}
    assert user_api.get("/api/notifications?is_read=true").json()["count"] == 1
    assert_problem(
        user_api.get("/api/notifications?is_read=maybe"),
        400,
        "validation_error",
        fields={"is_read"},
    )


def test_read_someone_elses_is_404(other_api, user, notified):
    target = Notification.objects.filter(user=user).first()
    assert_problem(other_api.post(f"/api/notifications/{target.pk}/read"), 404, "not_found")
    target.refresh_from_db()
    assert target.is_read is False


def test_read_all_marks_only_own(user_api, user, other_user, notified):
    response = user_api.post("/api/notifications/read-all")
    assert response.status_code == 200
    assert response.json() == {"updated": 3}
    assert user_api.post("/api/notifications/read-all/").json() == {"updated": 0}
    assert Notification.objects.filter(user=other_user, is_read=False).count() == 1


def test_notifications_need_authentication(anon_api):
    assert_problem(anon_api.get("/api/notifications"), 401, "not_authenticated")


def test_list_query_count_is_fixed(user, notified, django_assert_num_queries):
    api = client_for(user)
    # 1 the caller's account, 2 count, 3 the page.
    with django_assert_num_queries(3):
        assert len(api.get("/api/notifications").json()["results"]) == 3
