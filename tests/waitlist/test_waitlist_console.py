"""The waitlist's list in the staff console: it opens on the live queue."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from tests.factories import EventFactory, UserFactory
from waitlist.models import WaitlistEntry

pytestmark = pytest.mark.django_db

URL = "/admin/waitlist/waitlistentry/"


@pytest.fixture
def queue():
    """One entry of each status but accepted, each of its own person (named by it)."""
    event = EventFactory(total_capacity=1)
    now = timezone.now()
    offer = {"offered_at": now, "offer_expires_at": now + timedelta(minutes=30)}
    for status, extra in (
        ("waiting", {}),
        ("offered", offer),
        ("expired", offer),
        ("cancelled", {}),
    ):
        WaitlistEntry.objects.create(
            event=event,
            ticket_type=event.ticket_types.get(),
            user=UserFactory(name=f"{status.title()} Person"),
            quantity=1,
            status=status,
            **extra,
        )
    return event


def people_listed(staff, query: str = "") -> set[str]:
    response = staff.get(URL + query)
    assert response.status_code == 200
    html = response.content.decode()
    return {
        name for name in ("Waiting", "Offered", "Expired", "Cancelled") if f"{name} Person" in html
    }


def test_the_list_opens_on_the_live_queue(staff, queue):
    assert people_listed(staff) == {"Waiting", "Offered"}
    html = staff.get(URL).content.decode()
    selected = re.search(r'<li class="selected">\s*<a href="([^"]*)">([^<]*)</a>', html)
    assert selected.groups() == ("?status=live", "Live queue (waiting and offered)")


def test_staff_can_switch_to_every_entry_or_one_status(staff, queue):
    html = staff.get(URL).content.decode()
    assert 'href="?status=all"' in html  # the filter offers "All"
    assert people_listed(staff, "?status=all") == {"Waiting", "Offered", "Expired", "Cancelled"}
    assert people_listed(staff, "?status=expired") == {"Expired"}
    assert people_listed(staff, "?status=live") == {"Waiting", "Offered"}


def test_the_events_page_links_to_its_whole_waitlist(staff, queue):
    html = staff.get(f"/admin/events/event/{queue.pk}/change/").content.decode()
    link = f"{URL}?status=all&amp;event__id__exact={queue.pk}"
    assert f'href="{link}"' in html
    assert people_listed(staff, f"?status=all&event__id__exact={queue.pk}") == {
        "Waiting",
        "Offered",
        "Expired",
        "Cancelled",
    }
