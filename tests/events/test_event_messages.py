"""Staff's messages to the people holding tickets for an event, by the service and the API."""

import pytest
from django.core import mail

from bookings.services import booking_cancel, booking_create
from boxoffice.services import event_cancel, event_message_send
from core.exceptions import EventClosed, NotFound
from notifications.models import Notification
from tests.factories import AdminFactory, EventFactory, UserFactory
from tests.problems import assert_problem

pytestmark = pytest.mark.django_db

BODY = {"title": "Doors open at 19:30", "message": "Use the side entrance on Mill Street."}


@pytest.fixture
def gala():
    """A 4-seat event: Ann holds two bookings (1 + 1), Bob one (2); Cat cancelled hers; Dan
    waits. Only Ann and Bob hold confirmed tickets."""
    event = EventFactory(name="Gala", total_capacity=4)
    ann, bob, cat, dan = (
        UserFactory(email=f"{n}@msg.example.com", name=n.title())
        for n in ("ann", "bob", "cat", "dan")
    )
    booking_create(event_id=event.pk, user=ann, quantity=1)
    booking_create(event_id=event.pk, user=bob, quantity=2)
    cats = booking_create(event_id=event.pk, user=cat, quantity=1).booking
    booking_cancel(booking_id=cats.pk, actor=cat)
    booking_create(event_id=event.pk, user=ann, quantity=1)
    booking_create(event_id=event.pk, user=dan, quantity=3)  # waits: one seat is free
    return event, ann, bob, cat, dan


def messages_of(event):
    return Notification.objects.filter(event=event, type=Notification.Type.EVENT_MESSAGE)


def test_each_ticket_holder_gets_one_notification_and_nobody_else(gala):
    event, ann, bob, *_ = gala
    sent = event_message_send(event_id=event.pk, actor=AdminFactory(), **BODY)
    assert sent == 2
    rows = messages_of(event)
    assert sorted(rows.values_list("user__email", flat=True)) == [ann.email, bob.email]
    assert {(n.title, n.message, n.email_status) for n in rows} == {
        (BODY["title"], BODY["message"], "pending")
    }


def test_the_message_is_emailed_through_the_outbox_after_commit(
    gala, settings, django_capture_on_commit_callbacks
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.NOTIFICATION_EMAIL_ON_COMMIT = True
    event, ann, bob, *_ = gala
    with django_capture_on_commit_callbacks(execute=True):
        event_message_send(event_id=event.pk, actor=AdminFactory(), **BODY)
    assert sorted(m.to[0] for m in mail.outbox) == [ann.email, bob.email]
    assert {m.subject for m in mail.outbox} == {BODY["title"]}
    assert set(messages_of(event).values_list("email_status", flat=True)) == {"sent"}


def test_the_notifications_are_written_in_one_insert(gala, django_assert_num_queries):
    event, *_ = gala
    admin = AdminFactory()
    # The savepoint (the test runs in a transaction); 1 lock the event; 2 the distinct holders;
    # 3 the notifications, one multi-row INSERT; the savepoint's release.
    with django_assert_num_queries(5) as queries:
        event_message_send(event_id=event.pk, actor=admin, **BODY)
    inserts = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("INSERT")]
    assert len(inserts) == 1 and "notifications_notification" in inserts[0]


def test_an_event_nobody_holds_tickets_for_sends_nothing():
    event = EventFactory()
    assert event_message_send(event_id=event.pk, actor=AdminFactory(), **BODY) == 0
    assert not messages_of(event).exists()


def test_a_cancelled_event_cannot_be_messaged(gala):
    event, *_ = gala
    admin = AdminFactory()
    event_cancel(event_id=event.pk, actor=admin)
    with pytest.raises(EventClosed):
        event_message_send(event_id=event.pk, actor=admin, **BODY)
    assert not messages_of(event).exists()


def test_an_unknown_event_is_not_found():
    with pytest.raises(NotFound):
        event_message_send(event_id="not-a-uuid", actor=AdminFactory(), **BODY)


# --- POST /api/admin/events/{id}/messages -----------------------------------------------------


def url(event) -> str:
    return f"/api/admin/events/{event.pk}/messages"


@pytest.mark.parametrize("slash", ["", "/"])
def test_api_answers_202_with_the_number_of_recipients(admin_api, gala, slash):
    event, *_ = gala
    response = admin_api.post(url(event) + slash, BODY, format="json")
    assert response.status_code == 202, response.content
    assert response.json() == {"recipients": 2}
    assert messages_of(event).count() == 2


def test_api_refuses_a_cancelled_event_with_event_closed(admin_api, gala):
    event, *_ = gala
    event_cancel(event_id=event.pk, actor=AdminFactory())
    assert_problem(admin_api.post(url(event), BODY, format="json"), 409, "event_closed")
    assert not messages_of(event).exists()


def test_api_unknown_or_malformed_event_is_404(admin_api):
    for path in (
        "/api/admin/events/00000000-0000-0000-0000-000000000000/messages",
        "/api/admin/events/nope/messages",
    ):
        assert_problem(admin_api.post(path, BODY, format="json"), 404, "not_found")


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({}, {"title", "message"}),
        ({"title": "Doors"}, {"message"}),
        ({"title": "", "message": "x"}, {"title"}),
        ({"title": "Doors", "message": "   "}, {"message"}),
        ({"title": "x" * 201, "message": "x"}, {"title"}),
        ({"title": "Doors", "message": "x" * 5001}, {"message"}),
        ({"title": 7, "message": ["x"]}, {"title", "message"}),
    ],
)
def test_api_refuses_bad_input_and_writes_nothing(admin_api, gala, body, fields):
    event, *_ = gala
    assert_problem(
        admin_api.post(url(event), body, format="json"), 400, "validation_error", fields=fields
    )
    assert not messages_of(event).exists()


def test_api_takes_the_longest_title_and_message(admin_api, gala):
    event, *_ = gala
    body = {"title": "t" * 200, "message": "m" * 5000}
    assert admin_api.post(url(event), body, format="json").status_code == 202


def test_api_is_for_admins_only(anon_api, user_api, gala):
    event, *_ = gala
    assert_problem(anon_api.post(url(event), BODY, format="json"), 401, "not_authenticated")
    assert_problem(user_api.post(url(event), BODY, format="json"), 403, "permission_denied")
    assert not messages_of(event).exists()


def test_api_only_posts(admin_api, gala):
    event, *_ = gala
    assert admin_api.get(url(event)).status_code == 405
