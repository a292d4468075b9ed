"""The queue panel on the staff console's event page: figures, and the buttons work."""

import pytest

from tests.conftest import client_for
from tests.factories import EventFactory
from waitingroom.models import Queue

pytestmark = pytest.mark.django_db


def test_the_event_page_shows_the_queue_and_its_buttons_drive_it(staff, user, settings):
    settings.REDIS_URL = ""
    event = EventFactory()
    page = staff.get(f"/admin/events/event/{event.pk}/change/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "On-sale waiting room" in html and ">off<" in html
    assert 'value="enable"' in html

    panel = f"/admin/waiting-room/{event.pk}/"
    answer = staff.post(panel, {"action": "enable", "rate": "30"})
    assert answer.status_code == 302
    queue = Queue.objects.get(event=event)
    assert (queue.enabled, queue.rate, queue.paused) == (True, 30, False)
    client_for(user).post(f"/api/events/{event.pk}/queue")
    assert staff.get(panel).json() == {
        "queue_enabled": True,
        "queue_rate": 30,
        "paused": False,
        "waiting": 1,
        "admitted": 0,
        "admitted_last_minute": 0,
    }
    html = staff.get(f"/admin/events/event/{event.pk}/change/").content.decode()
    assert ">admitting<" in html and 'value="pause"' in html

    staff.post(panel, {"action": "pause"})
    assert Queue.objects.get(event=event).paused is True
    assert 'value="resume"' in staff.get(f"/admin/events/event/{event.pk}/change/").content.decode()
    staff.post(panel, {"action": "rate", "rate": "0"})
    assert Queue.objects.get(event=event).rate == 30  # refused, with a message


def test_the_panel_is_staff_only(client, user, settings):
    settings.REDIS_URL = ""
    event = EventFactory()
    client.force_login(user)
    answer = client.post(f"/admin/waiting-room/{event.pk}/", {"action": "enable"})
    assert answer.status_code == 302 and "/admin/login/" in answer["Location"]
    assert not Queue.objects.filter(event=event).exists()
