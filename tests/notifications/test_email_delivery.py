from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from bookings.services import booking_create
from notifications.delivery import MAX_ATTEMPTS, deliver
from notifications.models import Notification
from notifications.services import notify
from tests.concurrency import run_concurrently
from tests.factories import EventFactory, UserFactory

pytestmark = pytest.mark.django_db

LOCMEM = "django.core.mail.backends.locmem.EmailBackend"
BROKEN = "tests.email_backends.BrokenServerBackend"


@pytest.fixture(autouse=True)
def _locmem(settings):
    settings.EMAIL_BACKEND = LOCMEM
    settings.NOTIFICATION_EMAIL_ON_COMMIT = True  # the development default


def test_notification_is_emailed_right_after_commit(user, django_capture_on_commit_callbacks):
    event = EventFactory(name="Jazz")
    with django_capture_on_commit_callbacks(execute=True):
        booking_create(event_id=event.pk, user=user, quantity=2)
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert (message.to, message.subject) == (["ann@example.com"], "Booking confirmed: Jazz")
    assert "2 ticket(s) for Jazz" in message.body
    row = Notification.objects.get(user=user)
    assert (row.email_status, row.email_attempts, row.email_last_error) == ("sent", 1, "")
    assert row.email_sent_at is not None


def test_nothing_is_sent_before_commit_or_when_it_rolls_back(user):
    event = EventFactory()
    booking_create(event_id=event.pk, user=user, quantity=1)  # callbacks not run: no commit
    assert mail.outbox == []
    assert Notification.objects.get(user=user).email_status == "pending"


def test_broken_mail_server_leaves_notifications_pending_and_a_later_run_sends_each_once(
    settings, django_capture_on_commit_callbacks
):
    settings.EMAIL_BACKEND = BROKEN
    people = UserFactory.create_batch(3)
    event = EventFactory()
    with django_capture_on_commit_callbacks(execute=True):
        for person in people:
            booking_create(event_id=event.pk, user=person, quantity=1)
    rows = Notification.objects.all()
    assert {(n.email_status, n.email_attempts) for n in rows} == {("pending", 1)}
    assert all("SMTPServerDisconnected" in n.email_last_error for n in rows)
    assert all(n.email_next_attempt_at > timezone.now() for n in rows)
    assert str(deliver()) == "sent 0, failed 0 (will retry), gave up on 0"  # backing off

    settings.EMAIL_BACKEND = LOCMEM
    with time_machine.travel(timezone.now() + timedelta(minutes=2)):
        assert deliver().sent == 3
        assert deliver().sent == 0
    assert sorted(m.to[0] for m in mail.outbox) == sorted(p.email for p in people)
    assert set(Notification.objects.values_list("email_status", flat=True)) == {"sent"}


def test_retries_back_off_and_give_up_after_the_last_attempt(settings, user):
    settings.EMAIL_BACKEND = BROKEN
    notify(user_ids=[user.pk], type="event_updated", title="t", message="m")
    now = timezone.now()
    waits = []
    for _ in range(MAX_ATTEMPTS):
        deliver(now=now)
        row = Notification.objects.get()
        waits.append(round((row.email_next_attempt_at - timezone.now()).total_seconds() / 60))
        now = row.email_next_attempt_at + timedelta(seconds=1)
    assert waits[:4] == [1, 2, 4, 8]
    assert (row.email_status, row.email_attempts) == ("failed", MAX_ATTEMPTS)
    assert deliver(now=now + timedelta(days=1)).sent == 0  # kept, not retried forever


def test_a_sender_that_died_mid_send_is_taken_over_after_its_lease(user):
    notify(user_ids=[user.pk], type="event_updated", title="t", message="m")
    Notification.objects.update(
        email_status="sending", email_claimed_until=timezone.now() + timedelta(minutes=5)
    )
    assert deliver().sent == 0  # someone else holds it
    with time_machine.travel(timezone.now() + timedelta(minutes=6)):
        assert deliver().sent == 1
    assert len(mail.outbox) == 1


def test_sent_notifications_are_never_sent_again(user):
    notify(user_ids=[user.pk], type="event_updated", title="t", message="m")
    assert deliver().sent == 1
    with time_machine.travel(timezone.now() + timedelta(days=2)):
        assert deliver().sent == 0
    assert len(mail.outbox) == 1


def test_immediate_sending_can_be_left_to_the_mailer(
    settings, user, capsys, django_capture_on_commit_callbacks
):
    settings.NOTIFICATION_EMAIL_ON_COMMIT = False
    with django_capture_on_commit_callbacks(execute=True):
        booking_create(event_id=EventFactory().pk, user=user, quantity=1)
    assert mail.outbox == []
    call_command("send_notification_emails")
    assert "send_notification_emails: sent 1" in capsys.readouterr().out
    assert len(mail.outbox) == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_several_mailers_at_once_send_each_email_exactly_once(settings):
    settings.NOTIFICATION_EMAIL_ON_COMMIT = False
    people = UserFactory.create_batch(30)
    notify(user_ids=[p.pk for p in people], type="event_updated", title="t", message="m")
    summaries = run_concurrently([lambda: deliver(limit=7)] * 6)
    assert sum(s.sent for s in summaries) == 30
    assert sorted(m.to[0] for m in mail.outbox) == sorted(p.email for p in people)
