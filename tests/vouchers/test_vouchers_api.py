"""Vouchers (the contract's "Vouchers"): staff make them through the admin API, buyers apply
them at booking; a use is counted with the booking and given back when it is cancelled."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from bookings.models import Booking, BookingItem, Voucher
from tests.factories import EventFactory, TicketTypeFactory, VoucherFactory
from tests.invariants import assert_books_balance, assert_vouchers_balance
from tests.problems import assert_problem

pytestmark = pytest.mark.django_db

VOUCHER_KEYS = {
    "id",
    "code",
    "event_id",
    "ticket_type_id",
    "discount_type",
    "value",
    "max_uses",
    "used",
    "valid_until",
    "is_active",
}


def book(api, event, quantity=2, voucher=None, **extra):
    body = {"event_id": str(event.pk), "quantity": quantity, **extra}
    if voucher is not None:
        body["voucher"] = voucher
    return api.post("/api/bookings", body, format="json")


# --- staff ---------------------------------------------------------------------------------


def test_staff_create_a_voucher_and_list_it(admin_api):
    event = EventFactory()
    response = admin_api.post(
        f"/api/admin/events/{event.pk}/vouchers",
        {"code": "EARLY", "discount_type": "percent", "value": "25", "max_uses": 3},
        format="json",
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == VOUCHER_KEYS
    assert body | {"id": None} == {
        "id": None,
        "code": "EARLY",
        "event_id": str(event.pk),
        "ticket_type_id": None,
        "discount_type": "percent",
        "value": "25.00",
        "max_uses": 3,
        "used": 0,
        "valid_until": None,
        "is_active": True,
    }
    voucher = Voucher.objects.get(pk=body["id"])
    assert (voucher.event_id, voucher.code, voucher.value) == (event.pk, "EARLY", Decimal("25"))
    listed = admin_api.get(f"/api/admin/events/{event.pk}/vouchers")
    assert listed.status_code == 200
    assert [v["id"] for v in listed.json()["results"]] == [body["id"]]
    assert listed.json()["count"] == 1


def test_a_code_is_unique_per_event_in_any_letter_case(admin_api):
    event = EventFactory()
    VoucherFactory(event=event, code="Early")
    response = admin_api.post(
        f"/api/admin/events/{event.pk}/vouchers",
        {"code": "EARLY", "discount_type": "fixed", "value": "5.00"},
        format="json",
    )
    assert_problem(response, 400, "validation_error", fields={"code"})
    assert Voucher.objects.filter(event=event).count() == 1
    # Another event may have the same code.
    other = EventFactory()
    response = admin_api.post(
        f"/api/admin/events/{other.pk}/vouchers",
        {"code": "EARLY", "discount_type": "fixed", "value": "5.00"},
        format="json",
    )
    assert response.status_code == 201


@pytest.mark.parametrize(
    "body, field",
    [
        ({"code": "X", "discount_type": "percent", "value": "100.01"}, "value"),
        ({"code": "X", "discount_type": "fixed", "value": "0"}, "value"),
        ({"code": "X", "discount_type": "fixed", "value": "-5"}, "value"),
        ({"code": "X", "discount_type": "fixed", "value": "1.001"}, "value"),
        ({"code": "X", "discount_type": "half", "value": "5"}, "discount_type"),
        ({"code": "", "discount_type": "fixed", "value": "5"}, "code"),
        ({"code": "A\nB", "discount_type": "fixed", "value": "5"}, "code"),
        ({"code": "X", "discount_type": "fixed", "value": "5", "max_uses": 0}, "max_uses"),
    ],
)
def test_bad_voucher_input_is_a_400_and_makes_nothing(admin_api, body, field):
    event = EventFactory()
    response = admin_api.post(f"/api/admin/events/{event.pk}/vouchers", body, format="json")
    assert_problem(response, 400, "validation_error", fields={field})
    assert not Voucher.objects.exists()


def test_a_voucher_for_another_events_type_is_a_400(admin_api):
    event, other = EventFactory(), EventFactory()
    foreign = other.ticket_types.get()
    response = admin_api.post(
        f"/api/admin/events/{event.pk}/vouchers",
        {"code": "X", "discount_type": "fixed", "value": "5", "ticket_type_id": str(foreign.pk)},
        format="json",
    )
    assert_problem(response, 400, "validation_error", fields={"ticket_type_id"})
    assert not Voucher.objects.exists()


def test_only_admins_manage_vouchers(user_api, anon_api):
    event = EventFactory()
    voucher = VoucherFactory(event=event)
    for api, status in ((user_api, 403), (anon_api, 401)):
        assert api.get(f"/api/admin/events/{event.pk}/vouchers").status_code == status
        response = api.post(
            f"/api/admin/events/{event.pk}/vouchers",
            {"code": "X", "discount_type": "fixed", "value": "5"},
            format="json",
        )
        assert response.status_code == status
        assert api.patch(f"/api/admin/vouchers/{voucher.pk}", {}, format="json").status_code == (
            status
        )
        assert api.delete(f"/api/admin/vouchers/{voucher.pk}").status_code == status
    assert Voucher.objects.count() == 1


def test_staff_change_a_voucher(admin_api):
    event = EventFactory()
    vip = TicketTypeFactory(event=event, price=Decimal("80.00"))
    voucher = VoucherFactory(event=event, code="OLD", max_uses=2)
    response = admin_api.patch(
        f"/api/admin/vouchers/{voucher.pk}",
        {"code": "NEW", "ticket_type_id": str(vip.pk), "max_uses": 9, "is_active": False},
        format="json",
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["code"], body["ticket_type_id"], body["max_uses"], body["is_active"]) == (
        "NEW",
        str(vip.pk),
        9,
        False,
    )
    voucher.refresh_from_db()
    assert (voucher.code, voucher.ticket_type_id, voucher.max_uses, voucher.is_active) == (
        "NEW",
        vip.pk,
        9,
        False,
    )


def test_max_uses_may_not_drop_below_the_uses_counted(admin_api, user_api):
    event = EventFactory(price=Decimal("10.00"))
    voucher = VoucherFactory(event=event, code="TWO", max_uses=5)
    assert book(user_api, event, 1, "TWO").status_code == 201
    assert book(user_api, event, 1, "TWO").status_code == 201

    response = admin_api.patch(f"/api/admin/vouchers/{voucher.pk}", {"max_uses": 1}, format="json")

    assert_problem(response, 400, "validation_error", fields={"max_uses"})
    voucher.refresh_from_db()
    assert (voucher.max_uses, voucher.used) == (5, 2)
    assert (
        admin_api.patch(f"/api/admin/vouchers/{voucher.pk}", {"max_uses": 2}, format="json").json()[
            "max_uses"
        ]
        == 2
    )


def test_an_unused_voucher_is_deleted_a_used_one_is_refused(admin_api, user_api):
    event = EventFactory(price=Decimal("10.00"))
    unused = VoucherFactory(event=event, code="NEVER")
    used = VoucherFactory(event=event, code="ONCE")
    assert book(user_api, event, 1, "ONCE").status_code == 201

    assert admin_api.delete(f"/api/admin/vouchers/{unused.pk}").status_code == 204
    assert_problem(admin_api.delete(f"/api/admin/vouchers/{used.pk}"), 409, "voucher_used")

    assert list(Voucher.objects.values_list("code", flat=True)) == ["ONCE"]
    assert_problem(admin_api.delete(f"/api/admin/vouchers/{unused.pk}"), 404, "not_found")


# --- applying at booking -------------------------------------------------------------------


def test_a_percent_voucher_takes_its_share_off_each_ticket(user_api):
    event = EventFactory(price=Decimal("49.99"), total_capacity=10)
    voucher = VoucherFactory(event=event, code="FIFTEEN", value=Decimal("15"))

    response = book(user_api, event, 3, "fifteen")  # any letter case

    assert response.status_code == 201, response.content
    booking = response.json()["booking"]
    # 15 % of 49.99 is 7.4985, 7.50 a ticket rounded half up; 3 tickets.
    assert booking["items"][0]["amount"] == "149.97"
    assert (booking["discount_amount"], booking["total_amount"]) == ("22.50", "127.47")
    assert booking["voucher_code"] == "FIFTEEN"
    row = Booking.objects.get(pk=booking["id"])
    assert (row.voucher_id, row.discount_amount, row.total_amount) == (
        voucher.pk,
        Decimal("22.50"),
        Decimal("127.47"),
    )
    assert BookingItem.objects.get(booking=row).discount == Decimal("22.50")
    voucher.refresh_from_db()
    assert voucher.used == 1
    event.refresh_from_db()
    assert event.revenue == Decimal("127.47")
    assert_books_balance(event)
    assert_vouchers_balance(event)


def test_a_fixed_voucher_never_takes_a_ticket_below_zero(user_api):
    event = EventFactory(price=Decimal("8.00"))
    VoucherFactory(event=event, code="TEN", discount_type="fixed", value=Decimal("10.00"))

    booking = book(user_api, event, 2, "TEN").json()["booking"]

    assert (booking["discount_amount"], booking["total_amount"]) == ("16.00", "0.00")
    assert booking["status"] == "confirmed"


def test_a_voucher_of_one_type_discounts_only_that_types_items(user_api):
    event = EventFactory(price=Decimal("30.00"), total_capacity=20)
    general = event.ticket_types.get()
    vip = TicketTypeFactory(event=event, price=Decimal("100.00"))
    VoucherFactory(
        event=event, code="VIP", ticket_type=vip, discount_type="fixed", value=Decimal("20")
    )

    response = user_api.post(
        "/api/bookings",
        {
            "event_id": str(event.pk),
            "items": [
                {"ticket_type_id": str(general.pk), "quantity": 2},
                {"ticket_type_id": str(vip.pk), "quantity": 1},
            ],
            "voucher": "VIP",
        },
        format="json",
    )

    assert response.status_code == 201, response.content
    booking = response.json()["booking"]
    assert [i["amount"] for i in booking["items"]] == ["60.00", "100.00"]
    assert (booking["discount_amount"], booking["total_amount"]) == ("20.00", "140.00")
    amounts = {
        i.ticket_type_id: (i.amount, i.discount)
        for i in BookingItem.objects.filter(booking_id=booking["id"])
    }
    assert amounts == {
        general.pk: (Decimal("60.00"), Decimal("0.00")),
        vip.pk: (Decimal("100.00"), Decimal("20.00")),
    }
    # Of its type only: a booking of the other type alone gets nothing from it.
    other = user_api.post(
        "/api/bookings",
        {
            "event_id": str(event.pk),
            "items": [{"ticket_type_id": str(general.pk), "quantity": 1}],
            "voucher": "VIP",
        },
        format="json",
    )
    assert_problem(other, 409, "voucher_invalid")


def voucher_cases():
    now = timezone.now()
    return {
        "unknown": {"code": "OTHER"},
        "inactive": {"is_active": False},
        "past_valid_until": {"valid_until": now - timedelta(minutes=1)},
        "used_up": {"max_uses": 1, "used": 1},
    }


@pytest.mark.parametrize("case", ["unknown", "inactive", "past_valid_until", "used_up"])
def test_a_voucher_that_cannot_apply_is_409_and_books_nothing(user_api, case):
    event = EventFactory(price=Decimal("10.00"), total_capacity=5)
    fields = {"code": "SAVE", **voucher_cases()[case]}
    voucher = VoucherFactory(event=event, **fields)

    response = book(user_api, event, 2, "SAVE")

    assert_problem(response, 409, "voucher_invalid")
    assert not Booking.objects.exists()
    event.refresh_from_db()
    assert event.available_seats == 5
    used = voucher.used
    voucher.refresh_from_db()
    assert voucher.used == used


def test_another_events_voucher_is_409(user_api):
    event, other = EventFactory(price=Decimal("10.00")), EventFactory()
    VoucherFactory(event=other, code="ELSEWHERE")
    assert_problem(book(user_api, event, 1, "ELSEWHERE"), 409, "voucher_invalid")
    assert not Booking.objects.exists()


@pytest.mark.parametrize("value", ["", "   ", 5, None, "x" * 65])
def test_a_malformed_voucher_field_is_a_400(user_api, value):
    event = EventFactory(price=Decimal("10.00"))
    response = user_api.post(
        "/api/bookings",
        {"event_id": str(event.pk), "quantity": 1, "voucher": value},
        format="json",
    )
    assert_problem(response, 400, "validation_error", fields={"voucher"})
    assert not Booking.objects.exists()


def test_a_sold_out_booking_with_a_voucher_is_refused_not_waitlisted(user_api):
    event = EventFactory(price=Decimal("10.00"), total_capacity=1, available_seats=1)
    voucher = VoucherFactory(event=event, code="SAVE")
    assert book(user_api, event, 1).status_code == 201

    response = book(user_api, event, 1, "SAVE")

    assert_problem(response, 409, "sold_out")
    assert not event.waitlist_entries.exists()
    voucher.refresh_from_db()
    assert voucher.used == 0


def test_cancelling_gives_the_use_back(user_api):
    event = EventFactory(price=Decimal("10.00"))
    voucher = VoucherFactory(event=event, code="ONCE", max_uses=1)
    booking = book(user_api, event, 1, "ONCE").json()["booking"]
    assert_problem(book(user_api, event, 1, "ONCE"), 409, "voucher_invalid")

    assert user_api.post(f"/api/bookings/{booking['id']}/cancel").status_code == 200

    voucher.refresh_from_db()
    assert voucher.used == 0
    # The cancelled booking keeps what it was sold at.
    row = Booking.objects.get(pk=booking["id"])
    assert (row.voucher_code, row.discount_amount) == ("ONCE", Decimal("1.00"))
    assert book(user_api, event, 1, "ONCE").status_code == 201
    assert_books_balance(event)
    assert_vouchers_balance(event)


def test_cancelling_the_event_gives_every_use_back(admin_api, user_api, other_api):
    event = EventFactory(price=Decimal("10.00"))
    voucher = VoucherFactory(event=event, code="SAVE", max_uses=5)
    assert book(user_api, event, 1, "SAVE").status_code == 201
    assert book(other_api, event, 2, "SAVE").status_code == 201
    assert book(other_api, event, 1).status_code == 201
    voucher.refresh_from_db()
    assert voucher.used == 2

    assert admin_api.delete(f"/api/events/{event.pk}").status_code == 204

    voucher.refresh_from_db()
    assert voucher.used == 0
    assert_vouchers_balance(event)
