"""The common booking outside any transaction (no Idempotency-Key): BEGIN, the buyer's lock,
the booking statement, its webhook message and COMMIT go to PostgreSQL in one round trip
(bookings.statements._in_one_round_trip). What it writes, what a refusal leaves behind, and
a failure part-way."""

import psycopg
import pytest
from django.db import OperationalError, connection, transaction
from django.dispatch import receiver as connect
from django.utils import timezone

from bookings import services, signals, statements
from bookings.models import Booking, BookingItem, SalesDay
from bookings.services import booking_create
from core.exceptions import SoldOut, TicketLimit
from notifications.models import Notification
from tests.concurrency import event_row_held
from tests.factories import AdminFactory, EventFactory, UserFactory
from tests.invariants import assert_books_balance
from waitingroom.admission import QueueRequired
from waitingroom.models import Queue
from webhooks.models import WebhookDelivery, WebhookMessage
from webhooks.services import endpoint_create

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _endpoint(settings):
    settings.WEBHOOKS_ALLOW_INSECURE = True
    endpoint_create(actor=AdminFactory(), url="http://127.0.0.1:9/hook", events=["*"])


@pytest.fixture
def sent(monkeypatch):
    """Every statement the connection sends while a booking runs, as (its first word, the
    pipeline it went into or None): a pipeline's statements go out together, and their
    results come back together when it ends, one round trip."""
    statements_sent = []
    real = psycopg.Cursor.execute

    def execute(self, query, *args, **kwargs):
        statements_sent.append((str(query).split()[0], self.connection._pipeline))
        return real(self, query, *args, **kwargs)

    monkeypatch.setattr(psycopg.Cursor, "execute", execute)
    return statements_sent


def test_a_free_seat_is_booked_in_one_round_trip_with_everything_it_writes(sent):
    event, user = EventFactory(total_capacity=5), UserFactory()
    connection.ensure_connection()
    statements.booking_event(event.pk)  # the process's copy of the event, as after a first
    sent.clear()

    outcome = booking_create(event_id=event.pk, user=user, quantity=2)

    # BEGIN, the buyer's lock, the booking, the webhook message, COMMIT: one pipeline.
    assert [word for word, _ in sent] == ["BEGIN", "SELECT", "WITH", "WITH", "COMMIT"]
    pipelines = {pipeline for _, pipeline in sent}
    assert len(pipelines) == 1 and None not in pipelines
    booking = Booking.objects.get()
    assert outcome.booking.pk == booking.pk
    assert (booking.user_id, booking.quantity, booking.status) == (user.pk, 2, "confirmed")
    assert BookingItem.objects.get().quantity == 2
    assert Notification.objects.get(user=user).type == "booking_confirmed"
    assert SalesDay.objects.get().tickets == 2
    message = WebhookMessage.objects.get()
    assert message.type == "booking.confirmed"
    assert str(booking.pk) in message.body
    assert WebhookDelivery.objects.count() == 1
    assert connection.connection.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
    assert_books_balance(event)


def test_inside_a_transaction_each_statement_is_its_own_round_trip(sent):
    # The same booking in the caller's transaction (as with an Idempotency-Key), a savepoint
    # of it: the buyer's lock, the statement and the webhook message, each sent alone.
    event, user = EventFactory(total_capacity=5), UserFactory()
    connection.ensure_connection()
    statements.booking_event(event.pk)
    sent.clear()

    with transaction.atomic():
        booking_create(event_id=event.pk, user=user, quantity=2)

    assert sent == [
        ("SAVEPOINT", None),
        ("SELECT", None),
        ("WITH", None),
        ("WITH", None),
        ("RELEASE", None),
    ]
    assert Booking.objects.count() == 1
    assert WebhookMessage.objects.count() == 1


def test_a_refused_booking_writes_nothing_and_the_locked_path_says_why():
    event = EventFactory(total_capacity=1)
    booking_create(event_id=event.pk, user=UserFactory(), quantity=1)
    late = UserFactory()

    with pytest.raises(SoldOut):
        booking_create(event_id=event.pk, user=late, quantity=1, join_waitlist=False)

    assert Booking.objects.filter(user=late).count() == 0
    assert Notification.objects.filter(user=late).count() == 0
    assert WebhookMessage.objects.count() == 1  # the first booking's only
    assert_books_balance(event)


def test_the_ticket_limit_refuses_in_the_statement_and_nothing_is_written():
    event, user = EventFactory(total_capacity=50), UserFactory()
    booking_create(event_id=event.pk, user=user, quantity=8)

    with pytest.raises(TicketLimit):
        booking_create(event_id=event.pk, user=user, quantity=3)

    assert Booking.objects.filter(user=user).count() == 1
    assert WebhookMessage.objects.count() == 1


def test_a_lock_wait_past_the_timeout_rolls_back_and_the_connection_books_again():
    event, user = EventFactory(total_capacity=5), UserFactory()
    booking_create(event_id=event.pk, user=UserFactory(), quantity=1)  # the copy is read
    with event_row_held(event.pk, lock_timeout="100ms"):
        with pytest.raises(OperationalError) as refused:
            booking_create(event_id=event.pk, user=user, quantity=1)
        assert refused.value.__cause__.sqlstate == "55P03"
        assert connection.connection.info.transaction_status == psycopg.pq.TransactionStatus.IDLE

    assert Booking.objects.filter(user=user).count() == 0
    booking_create(event_id=event.pk, user=user, quantity=1)
    assert Booking.objects.filter(user=user).count() == 1
    assert WebhookMessage.objects.count() == 2
    assert_books_balance(event)


def test_a_receiver_that_fails_undoes_the_booking():
    event, user = EventFactory(total_capacity=5), UserFactory()

    def failing(sender, booking, **kwargs):
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 / 0")

    connect(signals.booking_confirmed)(failing)
    try:
        with pytest.raises(Exception) as failed:
            booking_create(event_id=event.pk, user=user, quantity=1)
    finally:
        signals.booking_confirmed.disconnect(failing)

    assert failed.value.__cause__.sqlstate == "22012"  # division_by_zero
    assert connection.connection.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
    assert Booking.objects.count() == 0
    assert WebhookMessage.objects.count() == 0
    event.refresh_from_db()
    assert event.available_seats == 5
    assert_books_balance(event)


def test_without_an_admission_the_statement_books_only_while_the_waiting_room_is_off(sent):
    event, user = EventFactory(total_capacity=5), UserFactory()
    statements.booking_event(event.pk)
    queue = Queue.objects.create(event=event, enabled=True, rate=60)
    now = timezone.now()

    # The statement itself refuses: nothing is written, and no query of its own came first.
    sent.clear()
    assert (
        services._book_free_seats(
            event.pk, user, 1, None, now, own_transaction=True, unless_queued=True
        )
        is None
    )
    assert [word for word, _ in sent] == ["BEGIN", "SELECT", "WITH", "WITH", "COMMIT"]
    assert Booking.objects.count() == 0
    with pytest.raises(QueueRequired):
        booking_create(event_id=event.pk, user=user, quantity=1, check_queue=True)
    assert Booking.objects.count() == 0
    assert WebhookMessage.objects.count() == 0

    # An admitted booking does not ask, and with the waiting room off neither does the check.
    assert services._book_free_seats(event.pk, user, 1, None, now, own_transaction=True)
    queue.enabled = False
    queue.save()
    outcome = booking_create(event_id=event.pk, user=user, quantity=1, check_queue=True)
    assert outcome.result == "booked"
    assert Booking.objects.filter(user=user).count() == 2
    assert_books_balance(event)
