"""The event's page in the console: cancel instead of a failing delete, and messages to its
ticket holders with their delivery."""

import re

import pytest
from django.core import mail

from bookings.models import Booking
from bookings.services import booking_create
from boxoffice.services import event_cancel
from events.models import Event
from notifications.delivery import deliver
from notifications.models import Notification
from tests.factories import EventFactory, UserFactory
from tests.invariants import assert_books_balance
from waitlist.models import WaitlistEntry

pytestmark = pytest.mark.django_db


@pytest.fixture
def busy():
    """3 seats: Ann holds 2 (in two bookings) and Bob 1; Wes (1) and Val (2) wait."""
    event = EventFactory(total_capacity=3, name="Busy Night")
    ann, bob, wes, val = (
        UserFactory(email=f"{n}@console.example.com", name=n.title())
        for n in ("ann", "bob", "wes", "val")
    )
    booking_create(event_id=event.pk, user=ann, quantity=1)
    booking_create(event_id=event.pk, user=ann, quantity=1)
    booking_create(event_id=event.pk, user=bob, quantity=1)
    booking_create(event_id=event.pk, user=wes, quantity=1)  # waits
    booking_create(event_id=event.pk, user=val, quantity=2)  # waits
    return event


def page(staff, event) -> str:
    response = staff.get(f"/admin/events/event/{event.pk}/change/")
    assert response.status_code == 200
    return response.content.decode()


# --- Cancel, not delete -----------------------------------------------------------------------


def test_an_event_with_bookings_offers_cancel_instead_of_delete(staff, busy):
    html = page(staff, busy)
    cancel_url = f"/admin/events/event/{busy.pk}/cancel/"
    assert f'href="/admin/events/event/{busy.pk}/delete/"' not in html
    assert html.count(f'href="{cancel_url}"') == 2  # beside History and below the form
    assert "Cancel event" in html


def test_cancel_event_stands_apart_from_the_save_buttons(staff, busy):
    html = page(staff, busy)
    cancel_url = f"/admin/events/event/{busy.pk}/cancel/"
    submit_row = re.search(r'<div class="submit-row">.*?</div>', html, re.S).group(0)
    assert "Save" in submit_row and cancel_url not in submit_row and "Cancel" not in submit_row
    # Its own box after the form, headed as what it is, its link styled as destructive.
    after_form = html[html.index("</form>") :]
    zone = re.search(r'<section class="ev-danger-zone".*?</section>', after_form, re.S).group(0)
    assert '<h2 id="danger-heading">Cancel this event</h2>' in zone
    assert f'<a href="{cancel_url}" class="ev-cancel-link">Cancel event&hellip;</a>' in zone
    assert "cannot be undone" in zone


def test_its_delete_url_leads_to_the_cancel_page(staff, busy):
    response = staff.get(f"/admin/events/event/{busy.pk}/delete/", follow=True)
    assert response.redirect_chain[-1][0] == f"/admin/events/event/{busy.pk}/cancel/"
    assert "so it is kept: cancel it instead" in response.content.decode()
    response = staff.post(f"/admin/events/event/{busy.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert Event.objects.filter(pk=busy.pk, status="scheduled").exists()


def test_the_cancel_page_counts_what_it_touches(staff, busy):
    response = staff.get(f"/admin/events/event/{busy.pk}/cancel/")
    assert response.status_code == 200
    impact = response.context["impact"]
    # Three bookings (Ann's two and Bob's), four people told (Ann once), two entries waiting.
    assert (impact["bookings"], impact["tickets"], impact["people"]) == (3, 3, 4)
    assert (impact["waitlist_entries"], impact["offers"]) == (2, 0)
    html = response.content.decode()
    assert "Cancel Busy Night?" in html and "cannot be undone" in html
    assert Event.objects.get(pk=busy.pk).status == "scheduled"  # GET changes nothing


def test_confirming_cancels_the_event_through_the_service(staff, busy):
    response = staff.post(f"/admin/events/event/{busy.pk}/cancel/", follow=True)
    assert response.redirect_chain[-1][0] == f"/admin/events/event/{busy.pk}/change/"
    assert (
        "Busy Night is cancelled: 3 bookings and 2 waitlist entries cancelled, 4 people notified."
        in response.content.decode()
    )
    busy.refresh_from_db()
    assert busy.status == "cancelled"
    assert set(Booking.objects.values_list("status", flat=True)) == {"cancelled"}
    assert set(WaitlistEntry.objects.values_list("status", flat=True)) == {"cancelled"}
    assert Notification.objects.filter(type="event_cancelled").count() == 4
    assert_books_balance(busy)
    # The page of a cancelled event offers neither cancelling nor a message.
    html = page(staff, busy)
    assert "/cancel/" not in html and "/message/" not in html


def test_a_cancelled_event_cannot_be_cancelled_again(staff, busy, admin_user):
    event_cancel(event_id=busy.pk, actor=admin_user)
    response = staff.post(f"/admin/events/event/{busy.pk}/cancel/", follow=True)
    assert "Busy Night is already cancelled." in response.content.decode()
    assert Notification.objects.filter(type="event_cancelled").count() == 4  # not 8


def test_an_event_nobody_booked_can_still_be_deleted(staff):
    empty = EventFactory(name="Nobody Came")
    html = page(staff, empty)
    assert f'href="/admin/events/event/{empty.pk}/delete/"' in html
    assert f'href="/admin/events/event/{empty.pk}/cancel/"' in html  # cancelling, too
    confirm = staff.get(f"/admin/events/event/{empty.pk}/delete/")
    assert confirm.status_code == 200 and "permission" not in confirm.content.decode()
    response = staff.post(f"/admin/events/event/{empty.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not Event.objects.filter(pk=empty.pk).exists()


def test_the_list_offers_no_bulk_delete(staff, busy):
    html = staff.get("/admin/events/event/").content.decode()
    assert 'value="delete_selected"' not in html
    assert 'value="cancel_events"' in html


@pytest.mark.parametrize("view", ["cancel", "message"])
def test_the_pages_are_for_staff_only(client, user, busy, view):
    client.force_login(user)
    url = f"/admin/events/event/{busy.pk}/{view}/"
    for response in (client.get(url), client.post(url, {"title": "x", "message": "y"})):
        assert response.status_code == 302 and response["Location"].startswith("/admin/login/")
    busy.refresh_from_db()
    assert busy.status == "scheduled"
    assert not Notification.objects.filter(type="event_message").exists()


def test_unknown_event_is_404(staff):
    url = "/admin/events/event/00000000-0000-0000-0000-000000000000/"
    assert staff.get(url + "cancel/").status_code == 404
    assert staff.get(url + "message/").status_code == 404


# --- Message attendees ------------------------------------------------------------------------

MESSAGE = {"title": "Doors open at 19:30", "message": "Use the side entrance on Mill Street."}


def test_the_message_page_says_who_it_reaches(staff, busy):
    response = staff.get(f"/admin/events/event/{busy.pk}/message/")
    assert response.status_code == 200
    assert response.context["holders"] == 2  # Ann and Bob; Wes and Val only wait
    assert "Send to 2 people" in response.content.decode()
    assert f'href="/admin/events/event/{busy.pk}/message/"' in page(staff, busy)


def test_sending_notifies_each_holder_once_and_shows_the_delivery(staff, busy, settings):
    settings.NOTIFICATION_EMAIL_ON_COMMIT = False  # left to the mailer loop
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    response = staff.post(f"/admin/events/event/{busy.pk}/message/", MESSAGE)
    assert response.status_code == 302
    assert response["Location"] == f"/admin/events/event/{busy.pk}/change/#messages"
    sent = Notification.objects.filter(type="event_message", event=busy)
    assert sorted(sent.values_list("user__email", flat=True)) == [
        "ann@console.example.com",
        "bob@console.example.com",
    ]
    listed = staff.get(f"/admin/events/event/{busy.pk}/change/").context["event_messages"]
    assert [(m["title"], m["recipients"], m["delivered"], m["pending"]) for m in listed] == [
        (MESSAGE["title"], 2, 0, 2)
    ]
    deliver(ids=list(sent.values_list("pk", flat=True)))  # the mailer loop's round
    assert sorted(m.subject for m in mail.outbox) == [MESSAGE["title"]] * 2
    response = staff.get(f"/admin/events/event/{busy.pk}/change/")
    [message] = response.context["event_messages"]
    assert (message["delivered"], message["pending"], message["failed"]) == (2, 0, 0)
    assert "Doors open at 19:30" in response.content.decode()


def test_a_blank_message_is_a_form_error_and_sends_nothing(staff, busy):
    response = staff.post(f"/admin/events/event/{busy.pk}/message/", {"title": " ", "message": ""})
    assert response.status_code == 200
    assert response.context["form"].errors.keys() == {"title", "message"}
    assert not Notification.objects.filter(type="event_message").exists()


def test_a_cancelled_event_cannot_be_messaged(staff, busy, admin_user):
    event_cancel(event_id=busy.pk, actor=admin_user)
    response = staff.post(f"/admin/events/event/{busy.pk}/message/", MESSAGE, follow=True)
    assert "nobody holds a ticket any more" in response.content.decode()
    assert not Notification.objects.filter(type="event_message").exists()
