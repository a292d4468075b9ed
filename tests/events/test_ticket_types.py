"""Ticket types: several prices and quotas in one event, bookings with several lines."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from bookings.models import Booking, BookingItem
from bookings.services import booking_cancel, booking_create, waitlist_offer_accept
from boxoffice.services import (
    event_update,
    ticket_type_create,
    ticket_type_delete,
    ticket_type_update,
)
from core.exceptions import (
    CapacityBelowTaken,
    Invalid,
    LastTicketType,
    NotOnSale,
    SeveralTicketTypes,
    SoldOut,
    TicketLimit,
    TicketTypeRequired,
    TicketTypeSold,
)
from events.models import Event, TicketType
from events.services import event_create
from tests.factories import AdminFactory, EventFactory, TicketTypeFactory, UserFactory
from tests.invariants import assert_books_balance
from tests.problems import assert_problem
from waitlist.models import WaitlistEntry

pytestmark = pytest.mark.django_db


def _two_types(capacity=20, early_quota=3, vip_quota=5):
    """An event with "General admission" at 30.00 (quota = capacity), an early bird at 20.00
    and a VIP ticket at 90.00."""
    event = EventFactory(total_capacity=capacity, price=Decimal("30.00"))
    general = event.ticket_types.get()
    early = TicketTypeFactory(event=event, name="Early", price=Decimal("20.00"), quota=early_quota)
    vip = TicketTypeFactory(event=event, name="VIP", price=Decimal("90.00"), quota=vip_quota)
    return event, general, early, vip


def _items(*lines):
    return [{"ticket_type_id": t.pk, "quantity": q} for t, q in lines]


def _counters(ticket_type):
    ticket_type.refresh_from_db()
    return ticket_type.available, ticket_type.booked, ticket_type.held


def test_a_new_event_sells_general_admission_at_its_price_and_capacity():
    event = event_create(
        created_by=AdminFactory(),
        name="Gig",
        venue="Hall",
        event_time=timezone.now() + timedelta(days=5),
        total_capacity=80,
        price=Decimal("15.00"),
    )
    general = TicketType.objects.get(event=event)
    assert (general.name, general.price, general.quota, general.available) == (
        "General admission",
        Decimal("15.00"),
        80,
        80,
    )
    assert general.on_sale_at(timezone.now())


def test_a_booking_of_several_types_takes_each_types_seats_and_the_events():
    event, general, early, vip = _two_types()
    user = UserFactory()
    booking = booking_create(
        event_id=event.pk, user=user, items=_items((early, 2), (vip, 1))
    ).booking
    assert (booking.quantity, booking.total_amount) == (3, Decimal("130.00"))
    items = list(BookingItem.objects.filter(booking=booking).order_by("id"))
    assert [(i.ticket_type_id, i.quantity, i.unit_price, i.amount) for i in items] == [
        (early.pk, 2, Decimal("20.00"), Decimal("40.00")),
        (vip.pk, 1, Decimal("90.00"), Decimal("90.00")),
    ]
    assert _counters(early) == (1, 2, 0)
    assert _counters(vip) == (4, 1, 0)
    assert _counters(general) == (20, 0, 0)
    event.refresh_from_db()
    assert (event.available_seats, event.booked_seats, event.revenue) == (17, 3, Decimal("130.00"))
    assert_books_balance(event)


def test_a_booking_that_does_not_fit_one_type_changes_nothing():
    event, general, early, vip = _two_types()
    with pytest.raises(SoldOut) as refused:
        booking_create(event_id=event.pk, user=UserFactory(), items=_items((vip, 2), (early, 4)))
    assert refused.value.extra == {
        "available_seats": 20,
        "available": {str(general.pk): 20, str(early.pk): 3, str(vip.pk): 5},
    }
    assert not Booking.objects.exists() and not BookingItem.objects.exists()
    assert _counters(vip) == (5, 0, 0) and _counters(early) == (3, 0, 0)
    assert_books_balance(event)


def test_the_events_capacity_caps_every_quota():
    event, general, _early, vip = _two_types(capacity=4)
    booking_create(event_id=event.pk, user=UserFactory(), items=_items((general, 3)))
    with pytest.raises(SoldOut) as refused:
        booking_create(
            event_id=event.pk, user=UserFactory(), items=_items((vip, 2)), join_waitlist=False
        )
    assert refused.value.extra["available_seats"] == 1
    assert refused.value.extra["available"][str(vip.pk)] == 5
    assert_books_balance(event)


def test_a_type_outside_its_window_or_inactive_is_not_on_sale():
    event, general, early, vip = _two_types()
    now = timezone.now()
    TicketType.objects.filter(pk=early.pk).update(sales_start=now + timedelta(hours=1))
    TicketType.objects.filter(pk=vip.pk).update(sales_end=now - timedelta(minutes=1))
    for ticket_type in (early, vip):
        with pytest.raises(NotOnSale) as refused:
            booking_create(event_id=event.pk, user=UserFactory(), items=_items((ticket_type, 1)))
        assert refused.value.extra["ticket_type_id"] == str(ticket_type.pk)
    ticket_type_update(ticket_type_id=general.pk, actor=AdminFactory(), changes={"price": 1})
    TicketType.objects.filter(pk=general.pk).update(is_active=False)
    with pytest.raises(NotOnSale):
        booking_create(event_id=event.pk, user=UserFactory(), items=_items((general, 1)))
    assert not Booking.objects.exists()


def test_a_plain_quantity_needs_a_type_when_there_are_several():
    event, *_ = _two_types()
    with pytest.raises(TicketTypeRequired):
        booking_create(event_id=event.pk, user=UserFactory(), quantity=1)
    assert not Booking.objects.exists()


def test_more_than_a_types_max_per_booking_is_invalid():
    event, _general, _early, vip = _two_types()
    TicketType.objects.filter(pk=vip.pk).update(max_per_booking=2)
    with pytest.raises(Invalid) as refused:
        booking_create(event_id=event.pk, user=UserFactory(), items=_items((vip, 3)))
    assert set(refused.value.errors) == {"items.0.quantity"}
    assert not Booking.objects.exists()


def test_the_ten_ticket_limit_counts_every_type():
    event, general, early, vip = _two_types()
    user = UserFactory()
    booking_create(event_id=event.pk, user=user, items=_items((general, 6)))
    with pytest.raises(TicketLimit):
        booking_create(event_id=event.pk, user=user, items=_items((vip, 3), (early, 2)))
    booking_create(event_id=event.pk, user=user, items=_items((vip, 2), (early, 2)))
    assert sum(b.quantity for b in Booking.objects.filter(user=user)) == 10
    assert_books_balance(event)


def test_a_cancel_frees_the_seats_of_each_type_and_of_the_event():
    event, _general, early, vip = _two_types()
    user = UserFactory()
    booking = booking_create(
        event_id=event.pk, user=user, items=_items((early, 3), (vip, 2))
    ).booking
    booking_cancel(booking_id=booking.pk, actor=user)
    assert _counters(early) == (3, 0, 0) and _counters(vip) == (5, 0, 0)
    event.refresh_from_db()
    assert (event.available_seats, event.booked_seats, event.revenue) == (20, 0, Decimal("0.00"))
    assert_books_balance(event)


def test_the_waitlist_is_served_per_type():
    event, _general, early, vip = _two_types(early_quota=2)
    ann, bob, cat = UserFactory.create_batch(3)
    first = booking_create(event_id=event.pk, user=ann, items=_items((early, 2))).booking
    entry = booking_create(event_id=event.pk, user=bob, items=_items((early, 1))).waitlist_entry
    assert (entry.ticket_type_id, entry.status) == (early.pk, "waiting")
    # Seats of another type free up: the early bird's waiter does not fit its type.
    vip_booking = booking_create(event_id=event.pk, user=cat, items=_items((vip, 2))).booking
    booking_cancel(booking_id=vip_booking.pk, actor=cat)
    entry.refresh_from_db()
    assert entry.status == "waiting"
    assert_books_balance(event)
    # An early bird seat frees up: offered, held of the type and of the event.
    booking_cancel(booking_id=first.pk, actor=ann)
    entry.refresh_from_db()
    assert entry.status == "offered"
    assert _counters(early) == (1, 0, 1)
    assert_books_balance(event)
    booking = waitlist_offer_accept(entry_id=entry.pk, user=bob)
    assert [(i.ticket_type_id, i.quantity) for i in booking.item_rows] == [(early.pk, 1)]
    assert booking.total_amount == Decimal("20.00")
    assert _counters(early) == (1, 1, 0)
    assert_books_balance(event)


def test_an_offer_needs_the_events_seats_too():
    event, general, early, _vip = _two_types(capacity=3, early_quota=3)
    ann, bob = UserFactory.create_batch(2)
    booking_create(event_id=event.pk, user=ann, items=_items((general, 3)))
    entry = booking_create(event_id=event.pk, user=bob, items=_items((early, 2))).waitlist_entry
    assert entry.status == "waiting"  # the type has 3, the event none
    assert_books_balance(event)
    event_update(event_id=event.pk, actor=AdminFactory(), changes={"total_capacity": 5})
    entry.refresh_from_db()
    assert entry.status == "offered"
    assert_books_balance(event)


def test_raising_a_quota_serves_the_types_waitlist():
    event, _general, early, _vip = _two_types(early_quota=1)
    booking_create(event_id=event.pk, user=UserFactory(), items=_items((early, 1)))
    entry = booking_create(
        event_id=event.pk, user=UserFactory(), items=_items((early, 2))
    ).waitlist_entry
    ticket_type_update(ticket_type_id=early.pk, actor=AdminFactory(), changes={"quota": 2})
    entry.refresh_from_db()
    assert entry.status == "waiting"  # one seat more is not enough for two
    ticket_type_update(ticket_type_id=early.pk, actor=AdminFactory(), changes={"quota": 3})
    entry.refresh_from_db()
    assert entry.status == "offered"
    assert _counters(early) == (0, 1, 2)
    assert_books_balance(event)


def test_a_quota_drops_only_to_the_seats_its_type_has_taken():
    event, _general, _early, vip = _two_types()
    booking_create(event_id=event.pk, user=UserFactory(), items=_items((vip, 3)))
    with pytest.raises(CapacityBelowTaken):
        ticket_type_update(ticket_type_id=vip.pk, actor=AdminFactory(), changes={"quota": 2})
    ticket_type_update(ticket_type_id=vip.pk, actor=AdminFactory(), changes={"quota": 3})
    assert _counters(vip) == (0, 3, 0)
    assert_books_balance(event)


def test_the_events_price_is_its_lowest_active_types_and_is_written_only_with_one_type():
    event, _general, early, _vip = _two_types()
    admin = AdminFactory()
    ticket_type_update(ticket_type_id=early.pk, actor=admin, changes={"price": Decimal("25.00")})
    event.refresh_from_db()
    assert event.price == Decimal("25.00")
    ticket_type_update(ticket_type_id=early.pk, actor=admin, changes={"is_active": False})
    event.refresh_from_db()
    assert event.price == Decimal("30.00")
    with pytest.raises(SeveralTicketTypes):
        event_update(event_id=event.pk, actor=admin, changes={"price": Decimal("5.00")})
    single = EventFactory(price=Decimal("10.00"))
    event_update(event_id=single.pk, actor=admin, changes={"price": Decimal("12.00")})
    assert single.ticket_types.get().price == Decimal("12.00")
    single.refresh_from_db()
    assert single.price == Decimal("12.00")


def test_a_type_that_sold_is_deactivated_not_deleted_and_one_active_type_stays():
    event, general, early, vip = _two_types()
    admin = AdminFactory()
    booking_create(event_id=event.pk, user=UserFactory(), items=_items((vip, 1)))
    with pytest.raises(TicketTypeSold):
        ticket_type_delete(ticket_type_id=vip.pk, actor=admin)
    ticket_type_delete(ticket_type_id=early.pk, actor=admin)
    assert not TicketType.objects.filter(pk=early.pk).exists()
    ticket_type_update(ticket_type_id=vip.pk, actor=admin, changes={"is_active": False})
    with pytest.raises(LastTicketType):
        ticket_type_update(ticket_type_id=general.pk, actor=admin, changes={"is_active": False})
    with pytest.raises(LastTicketType):
        ticket_type_delete(ticket_type_id=general.pk, actor=admin)
    assert TicketType.objects.filter(event=event, is_active=True).get() == general


def test_a_new_type_counts_from_its_quota():
    event = EventFactory(total_capacity=10)
    vip = ticket_type_create(
        event_id=event.pk, actor=AdminFactory(), name="VIP", price=Decimal("80.00"), quota=4
    )
    assert _counters(vip) == (4, 0, 0)
    event.refresh_from_db()
    assert event.price == Decimal("49.99")
    assert event.ticket_types_version == 1
    assert_books_balance(event)


# --- the API ------------------------------------------------------------------------------------


def test_the_event_lists_its_active_types_by_position(anon_api):
    event, _general, early, vip = _two_types()
    TicketType.objects.filter(pk=early.pk).update(is_active=False)
    body = anon_api.get(f"/api/events/{event.pk}").json()
    assert [t["name"] for t in body["ticket_types"]] == ["General admission", "VIP"]
    listed = anon_api.get(f"/api/events/{event.pk}/ticket-types").json()
    assert len(listed) == 2
    assert listed[1] == {
        "id": str(vip.pk),
        "event_id": str(event.pk),
        "name": "VIP",
        "description": "",
        "price": "90.00",
        "quota": 5,
        "available": 5,
        "sales_start": None,
        "sales_end": None,
        "max_per_booking": 10,
        "position": vip.position,
        "is_active": True,
        "on_sale": True,
    }
    assert_problem(anon_api.get("/api/events/nope/ticket-types"), 404, "not_found")


def test_staff_add_change_and_delete_types(admin_api, user_api):
    event = EventFactory(total_capacity=100)
    body = {"name": "Student", "price": "12.00", "quota": 20, "max_per_booking": 2}
    assert_problem(
        user_api.post(f"/api/events/{event.pk}/ticket-types", body, format="json"),
        403,
        "permission_denied",
    )
    created = admin_api.post(f"/api/events/{event.pk}/ticket-types", body, format="json")
    assert created.status_code == 201, created.content
    student = created.json()
    assert (student["available"], student["max_per_booking"]) == (20, 2)
    assert_problem(
        admin_api.post(f"/api/events/{event.pk}/ticket-types", {**body, "quota": 0}, format="json"),
        400,
        "validation_error",
        fields={"quota"},
    )
    changed = admin_api.patch(f"/api/ticket-types/{student['id']}", {"quota": 30}, format="json")
    assert (changed.status_code, changed.json()["available"]) == (200, 30)
    assert admin_api.delete(f"/api/ticket-types/{student['id']}").status_code == 204
    general = event.ticket_types.get()
    assert_problem(admin_api.delete(f"/api/ticket-types/{general.pk}"), 409, "last_ticket_type")
    assert_problem(
        admin_api.patch(f"/api/ticket-types/{general.pk}", {"quota": 0}, format="json"),
        400,
        "validation_error",
        fields={"quota"},
    )


def test_writing_the_price_of_an_event_with_several_types_is_409(admin_api):
    event, *_ = _two_types()
    response = admin_api.patch(f"/api/events/{event.pk}", {"price": "5.00"}, format="json")
    assert_problem(response, 409, "several_ticket_types")
    event.refresh_from_db()
    assert event.price == Decimal("20.00")


def test_booking_items_through_the_api_and_tickets_carry_their_type(user_api, user):
    event, _general, early, vip = _two_types()
    response = user_api.post(
        "/api/bookings",
        {
            "event_id": str(event.pk),
            "items": [
                {"ticket_type_id": str(vip.pk), "quantity": 1},
                {"ticket_type_id": str(early.pk), "quantity": 2},
            ],
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    booking = response.json()["booking"]
    assert booking["items"] == [
        {
            "ticket_type_id": str(vip.pk),
            "name": "VIP",
            "quantity": 1,
            "unit_price": "90.00",
            "amount": "90.00",
        },
        {
            "ticket_type_id": str(early.pk),
            "name": "Early",
            "quantity": 2,
            "unit_price": "20.00",
            "amount": "40.00",
        },
    ]
    assert (booking["quantity"], booking["total_amount"]) == (3, "130.00")
    assert user_api.get(f"/api/bookings/{booking['id']}").json()["items"] == booking["items"]
    tickets = user_api.get(f"/api/bookings/{booking['id']}/tickets").json()["results"]
    assert [(t["ticket_type_id"], t["ticket_type_name"]) for t in tickets] == [
        (str(vip.pk), "VIP"),
        (str(early.pk), "Early"),
        (str(early.pk), "Early"),
    ]
    assert_books_balance(event)


def test_booking_api_errors_for_types(user_api):
    event, general, early, vip = _two_types()
    assert_problem(
        user_api.post("/api/bookings", {"event_id": str(event.pk), "quantity": 1}, format="json"),
        400,
        "ticket_type_required",
    )
    TicketType.objects.filter(pk=vip.pk).update(quota=5, available=0, booked=5)
    body = assert_problem(
        user_api.post(
            "/api/bookings",
            {
                "event_id": str(event.pk),
                "items": _json_items((vip, 1), (early, 1)),
                "join_waitlist": False,
            },
            format="json",
        ),
        409,
        "sold_out",
    )
    assert body["available"][str(vip.pk)] == 0
    assert body["available_seats"] == 20
    assert_problem(
        user_api.post(
            "/api/bookings",
            {"event_id": str(event.pk), "quantity": 1, "items": _json_items((early, 1))},
            format="json",
        ),
        400,
        "validation_error",
        fields={"quantity"},
    )
    assert_problem(
        user_api.post(
            "/api/bookings",
            {"event_id": str(event.pk), "items": _json_items((early, 6), (general, 5))},
            format="json",
        ),
        409,
        "ticket_limit",
    )
    assert not Booking.objects.exists()


def _json_items(*lines):
    return [{"ticket_type_id": str(t.pk), "quantity": q} for t, q in lines]


def test_a_one_type_event_still_books_with_a_plain_quantity(user_api):
    event = EventFactory(total_capacity=5, price=Decimal("10.00"))
    response = user_api.post(
        "/api/bookings", {"event_id": str(event.pk), "quantity": 2}, format="json"
    )
    assert response.status_code == 201
    [item] = response.json()["booking"]["items"]
    assert (item["name"], item["quantity"], item["amount"]) == ("General admission", 2, "20.00")
    assert Event.objects.get(pk=event.pk).ticket_types.get().booked == 2
    assert WaitlistEntry.objects.count() == 0
    assert_books_balance(event)
