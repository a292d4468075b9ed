"""The staff console's vouchers: a list with their uses, made and changed through the same
service as the admin API, kept (not deleted) once bookings applied them."""

from decimal import Decimal

import pytest

from bookings.models import Voucher
from bookings.services import booking_create
from tests.factories import EventFactory, TicketTypeFactory, UserFactory, VoucherFactory

pytestmark = pytest.mark.django_db


def form(event, **changes):
    return {
        "event": str(event.pk),
        "code": "SPRING",
        "ticket_type": "",
        "discount_type": "percent",
        "value": "20",
        "max_uses": "4",
        "valid_until_0": "",
        "valid_until_1": "",
        "is_active": "on",
        **changes,
    }


def test_the_console_lists_vouchers_with_their_uses(staff):
    event = EventFactory(name="Harbour Jazz", price=Decimal("10.00"))
    VoucherFactory(event=event, code="SPRING", max_uses=4)
    VoucherFactory(event=event, code="PRESS", discount_type="fixed", value=Decimal("5.00"))
    booking_create(event_id=event.pk, user=UserFactory(), quantity=1, voucher="spring")

    page = staff.get("/admin/bookings/voucher/")

    assert page.status_code == 200
    html = page.content.decode()
    assert "SPRING" in html and "Harbour Jazz" in html
    assert "1 of 4" in html and "10 % off each ticket" in html
    assert "EUR 5.00 off each ticket" in html
    assert "Every ticket type" in html


def test_staff_add_a_voucher_in_the_console(staff):
    event = EventFactory()

    response = staff.post("/admin/bookings/voucher/add/", form(event))

    assert response.status_code == 302, response.content.decode()[:3000]
    voucher = Voucher.objects.get()
    assert (voucher.event_id, voucher.code, voucher.value, voucher.max_uses, voucher.used) == (
        event.pk,
        "SPRING",
        Decimal("20"),
        4,
        0,
    )


def test_the_console_refuses_what_the_api_refuses(staff):
    event, other = EventFactory(), EventFactory()
    VoucherFactory(event=event, code="Spring")

    duplicate = staff.post("/admin/bookings/voucher/add/", form(event))
    foreign_type = staff.post(
        "/admin/bookings/voucher/add/",
        form(event, code="OTHER", ticket_type=str(TicketTypeFactory(event=other).pk)),
    )
    over_100 = staff.post("/admin/bookings/voucher/add/", form(event, code="BIG", value="150"))

    for response in (duplicate, foreign_type, over_100):
        assert response.status_code == 200  # the form again, with its errors
        assert "errornote" in response.content.decode()
    assert list(Voucher.objects.values_list("code", flat=True)) == ["Spring"]


def test_staff_change_a_voucher_but_not_below_its_uses(staff):
    event = EventFactory(price=Decimal("10.00"))
    voucher = VoucherFactory(event=event, code="SPRING", max_uses=4)
    for _ in range(2):
        booking_create(event_id=event.pk, user=UserFactory(), quantity=1, voucher="SPRING")
    url = f"/admin/bookings/voucher/{voucher.pk}/change/"

    refused = staff.post(url, form(event, max_uses="1"))
    assert refused.status_code == 200 and "used that many times" in refused.content.decode()
    voucher.refresh_from_db()
    assert voucher.max_uses == 4

    changed = staff.post(url, form(event, max_uses="2", is_active=""))
    assert changed.status_code == 302
    voucher.refresh_from_db()
    assert (voucher.max_uses, voucher.is_active, voucher.used) == (2, False, 2)


def test_a_voucher_bookings_applied_cannot_be_deleted_in_the_console(staff):
    event = EventFactory(price=Decimal("10.00"))
    used = VoucherFactory(event=event, code="USED")
    unused = VoucherFactory(event=event, code="UNUSED")
    booking_create(event_id=event.pk, user=UserFactory(), quantity=1, voucher="USED")

    assert staff.get(f"/admin/bookings/voucher/{used.pk}/delete/").status_code == 403
    response = staff.post(
        "/admin/bookings/voucher/",
        {"action": "delete_selected", "_selected_action": [str(used.pk)], "post": "yes"},
    )
    # The confirmation page names the bookings that keep it.
    assert response.status_code == 200 and "Booking" in response.content.decode()
    assert staff.post(
        f"/admin/bookings/voucher/{unused.pk}/delete/", {"post": "yes"}
    ).status_code == (302)
    assert list(Voucher.objects.values_list("code", flat=True)) == ["USED"]


def test_a_booking_shows_its_voucher_in_the_console(staff):
    event = EventFactory(price=Decimal("10.00"))
    VoucherFactory(event=event, code="SPRING")
    booking = booking_create(
        event_id=event.pk, user=UserFactory(), quantity=2, voucher="SPRING"
    ).booking

    page = staff.get(f"/admin/bookings/booking/{booking.pk}/change/")

    html = page.content.decode()
    assert page.status_code == 200
    assert "Voucher code" in html and "SPRING" in html and "2.00" in html
