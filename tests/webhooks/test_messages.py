"""A message is written in the transaction of the change it reports, once, with `data` as the
API shows the object, for every endpoint subscribed to its type."""

import json
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from bookings.services import booking_cancel, booking_create, waitlist_offer_accept
from bookings.signals import booking_confirmed
from bookings.tickets.codes import TicketRef
from bookings.tickets.services import ticket_check_in
from boxoffice.services import event_cancel, event_update
from events.services import event_create
from tests.factories import EventFactory, UserFactory
from waitlist.models import WaitlistEntry
from waitlist.services import waitlist_expire_due
from webhooks import receivers
from webhooks.models import WebhookDelivery, WebhookMessage
from webhooks.services import endpoint_create, endpoint_update

pytestmark = pytest.mark.django_db


def bodies(type: str | None = None) -> list[dict]:
    rows = WebhookMessage.objects.order_by("created_at", "id")
    if type:
        rows = rows.filter(type=type)
    return [json.loads(m.body) for m in rows]


def test_a_booking_writes_one_message_whose_data_is_the_booking_as_the_api_shows_it(
    endpoint, user, user_api
):
    event = EventFactory()
    booking = booking_create(event_id=event.pk, user=user, quantity=2).booking
    [body] = bodies()
    assert body["type"] == "booking.confirmed"
    assert body["data"] == user_api.get(f"/api/bookings/{booking.pk}").json()
    assert body["timestamp"].endswith("Z")
    assert WebhookDelivery.objects.get().endpoint_id == endpoint.pk


def test_nothing_is_written_for_a_change_that_rolled_back(endpoint, user):
    event = EventFactory()
    with pytest.raises(RuntimeError), transaction.atomic():
        booking_create(event_id=event.pk, user=user, quantity=1)
        raise RuntimeError("the request failed after booking")
    assert WebhookMessage.objects.count() == 0
    assert WebhookDelivery.objects.count() == 0


def test_nothing_is_written_when_no_active_endpoint_subscribes(admin_user, user, receiver):
    other = endpoint_create(actor=admin_user, url=receiver.url, events=["event.created"])
    endpoint_create(actor=admin_user, url=receiver.url, events=["*"], is_active=False)
    booking_create(event_id=EventFactory().pk, user=user, quantity=1)
    assert WebhookMessage.objects.count() == 0
    event_create(
        created_by=admin_user,
        name="Gala",
        venue="Hall",
        event_time=timezone.now() + timedelta(days=3),
        total_capacity=5,
        price=10,
    )
    assert [d.endpoint_id for d in WebhookDelivery.objects.all()] == [other.pk]


def test_one_message_fans_out_to_every_subscribed_endpoint(admin_user, user, receiver):
    first = endpoint_create(actor=admin_user, url=receiver.url, events=["booking.confirmed"])
    second = endpoint_create(actor=admin_user, url=receiver.url, events=["*"])
    booking_create(event_id=EventFactory().pk, user=user, quantity=1)
    message = WebhookMessage.objects.get()
    assert {d.endpoint_id for d in message.deliveries.all()} == {first.pk, second.pk}


@pytest.mark.postgres
def test_the_message_adds_one_statement_to_a_booking(admin_user, user, receiver):
    event = EventFactory()
    booking_create(event_id=event.pk, user=UserFactory(), quantity=1)  # the copy is read

    def statements_of_a_booking() -> list[str]:
        with CaptureQueriesContext(connection) as queries:
            booking_create(event_id=event.pk, user=UserFactory(), quantity=1)
        return [q["sql"] for q in queries.captured_queries]

    # Without the webhooks app listening, as a booking was before it.
    assert booking_confirmed.disconnect(receivers.booking_confirmed)
    try:
        before = statements_of_a_booking()
    finally:
        booking_confirmed.connect(receivers.booking_confirmed)
    unsubscribed = statements_of_a_booking()
    endpoint_create(actor=admin_user, url=receiver.url, events=["booking.confirmed"])
    subscribed = statements_of_a_booking()
    assert len(unsubscribed) == len(subscribed) == len(before) + 1
    assert "webhooks_webhookmessage" in subscribed[-2]  # then the savepoint's release
    assert WebhookMessage.objects.count() == 1


def test_cancellations_check_ins_offers_and_event_changes_each_write_their_type(
    endpoint, admin_user, user, other_user, admin_api
):
    event = event_create(
        created_by=admin_user,
        name="Gala",
        venue="Hall",
        event_time=timezone.now() + timedelta(hours=2),
        total_capacity=2,
        price=10,
    )
    booking = booking_create(event_id=event.pk, user=user, quantity=2).booking
    entry = booking_create(event_id=event.pk, user=other_user, quantity=1).waitlist_entry
    booking_cancel(booking_id=booking.pk, actor=user)  # offers the seats to the waitlist
    offered = WaitlistEntry.objects.get(pk=entry.pk)
    event_update(event_id=event.pk, actor=admin_user, changes={"venue": "Annex"})
    booking_create(event_id=event.pk, user=user, quantity=1)
    assert offered.status == "offered"
    waitlist_expire_due(now=offered.offer_expires_at + timedelta(seconds=1))

    types = [b["type"] for b in bodies()]
    assert types == [
        "event.created",
        "booking.confirmed",
        "booking.cancelled",
        "waitlist.offered",
        "event.updated",
        "booking.confirmed",
        "waitlist.offer_expired",
    ]
    cancelled = bodies("booking.cancelled")[0]["data"]
    assert (cancelled["id"], cancelled["status"]) == (str(booking.pk), "cancelled")
    assert bodies("event.updated")[0]["data"] == admin_api.get(f"/api/events/{event.pk}").json()
    assert bodies("waitlist.offered")[0]["data"]["status"] == "offered"
    assert bodies("waitlist.offer_expired")[0]["data"]["id"] == str(entry.pk)


def test_accepting_an_offer_and_cancelling_an_event_write_their_messages(
    endpoint, admin_user, user, other_user
):
    event = EventFactory(total_capacity=1, available_seats=1)
    booking = booking_create(event_id=event.pk, user=user, quantity=1).booking
    entry = booking_create(event_id=event.pk, user=other_user, quantity=1).waitlist_entry
    booking_cancel(booking_id=booking.pk, actor=user)
    accepted = waitlist_offer_accept(entry_id=entry.pk, user=other_user)
    event_cancel(event_id=event.pk, actor=admin_user)
    types = [b["type"] for b in bodies()]
    assert types[-4:] == [
        "waitlist.offered",
        "booking.confirmed",
        "booking.cancelled",
        "event.cancelled",
    ]
    assert bodies("booking.cancelled")[-1]["data"]["id"] == str(accepted.pk)
    assert bodies("event.cancelled")[0]["data"]["status"] == "cancelled"


def test_a_check_in_writes_the_ticket_without_its_code(endpoint, admin_user, user, scanner_api):
    event = EventFactory(event_time=timezone.now() + timedelta(hours=1))
    booking = booking_create(event_id=event.pk, user=user, quantity=1).booking
    ticket_check_in(ref=TicketRef(booking.pk, 0), actor=admin_user)
    [body] = bodies("ticket.checked_in")
    data = body["data"]
    assert (data["booking_id"], data["number"], data["status"]) == (
        str(booking.pk),
        1,
        "checked_in",
    )
    assert "code" not in data
    assert "ann@example.com" not in json.dumps(bodies())


def test_disabling_an_endpoint_stops_new_messages_for_it(endpoint, admin_user, user):
    endpoint_update(endpoint_id=endpoint.pk, actor=admin_user, changes={"is_active": False})
    booking_create(event_id=EventFactory().pk, user=user, quantity=1)
    assert WebhookMessage.objects.count() == 0
