"""Ticket types edited inline on the event's page of the staff console."""

from decimal import Decimal

import pytest

from events.models import Event, TicketType
from tests.factories import EventFactory
from tests.invariants import assert_books_balance
from tests.test_admin_site import event_form

pytestmark = pytest.mark.django_db


def _type_rows(*rows, initial=0):
    data = {"ticket_types-TOTAL_FORMS": str(len(rows)), "ticket_types-INITIAL_FORMS": str(initial)}
    for i, row in enumerate(rows):
        data.update({f"ticket_types-{i}-{k}": v for k, v in row.items()})
    return data


_NEW = {"max_per_booking": "10", "position": "1", "is_active": "on"}


def test_a_new_event_gets_general_admission_and_the_types_added_beside_it(staff):
    form = event_form(**_type_rows({"name": "VIP", "price": "80.00", "quota": "5", **_NEW}))
    response = staff.post("/admin/events/event/add/", form)
    assert response.status_code == 302, response.content.decode()[:2000]
    event = Event.objects.get(name="Admin Gala")
    types = {t.name: (t.price, t.quota, t.available) for t in event.ticket_types.all()}
    assert types == {
        "General admission": (Decimal("12.50"), 40, 40),
        "VIP": (Decimal("80.00"), 5, 5),
    }
    assert event.price == Decimal("12.50")
    assert_books_balance(event)


def test_a_types_quota_is_changed_through_the_service(staff):
    event = EventFactory(total_capacity=10, price=Decimal("10.00"))
    general = event.ticket_types.get()
    row = {
        "id": str(general.pk),
        "event": str(event.pk),
        "name": general.name,
        "price": "10.00",
        "quota": "8",
        **_NEW,
        "position": "0",
    }
    response = staff.post(
        f"/admin/events/event/{event.pk}/change/",
        event_form(
            name=event.name, total_capacity="10", price="10.00", **_type_rows(row, initial=1)
        ),
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    general.refresh_from_db()
    assert (general.quota, general.available) == (8, 8)
    assert TicketType.objects.filter(event=event).count() == 1
    assert_books_balance(event)
