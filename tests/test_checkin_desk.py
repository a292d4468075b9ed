"""The check-in desk in the Django admin: who may open it, and its JSON views.

tests/test_checkin_desk_browser.py drives the page itself in a real browser.
"""

import json
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from bookings.models import TicketCheckIn
from bookings.services import booking_cancel, booking_create
from bookings.tickets.codes import TicketRef, ticket_code, ticket_id
from bookings.tickets.services import ticket_check_in
from tests.factories import PASSWORD, EventFactory, ScannerFactory, UserFactory
from tests.problems import assert_problem

pytestmark = pytest.mark.django_db


@pytest.fixture
def night():
    return EventFactory(
        name="Jazz Night", total_capacity=20, event_time=timezone.now() + timedelta(hours=2)
    )


@pytest.fixture
def door(client, scanner_user):
    client.force_login(scanner_user)
    return client


def book(event, quantity=2, **person):
    user = UserFactory(**person)
    return booking_create(event_id=event.pk, user=user, quantity=quantity).booking


# --- Who gets in ------------------------------------------------------------------------------


def test_a_scanner_signs_in_and_lands_on_the_desk(client, scanner_user, night):
    form = {"username": scanner_user.email, "password": PASSWORD, "next": "/admin/"}
    response = client.post("/admin/login/", form, follow=True)
    assert response.redirect_chain[-1][0] == "/admin/checkin/"
    assert "Jazz Night" in response.content.decode()
    # Signed in, the login page and the index lead to the desk too.
    assert client.get("/admin/login/", follow=True).redirect_chain[-1][0] == "/admin/checkin/"


def test_plain_users_and_disabled_scanners_cannot_sign_in(client, user):
    gone = ScannerFactory(is_active=False)
    for person in (user, gone):
        response = client.post("/admin/login/", {"username": person.email, "password": PASSWORD})
        assert response.status_code == 200  # the form again, with its error
        assert "_auth_user_id" not in client.session
    client.force_login(user)
    assert client.get("/admin/checkin/")["Location"].startswith("/admin/login/")


@pytest.mark.parametrize(
    "path",
    [
        "/admin/events/event/",
        "/admin/events/event/add/",
        "/admin/events/event/{event}/change/",
        "/admin/events/event/{event}/bookings.csv",
        "/admin/bookings/booking/",
        "/admin/accounts/user/",
        "/admin/accounts/user/{scanner}/change/",
        "/admin/notifications/notification/",
        "/admin/waitlist/waitlistentry/",
        "/admin/analytics/",  # no such page: still not a scanner's to know
        "/admin/dashboard/",
        "/admin/jsi18n/",
        "/admin/autocomplete/",
    ],
)
def test_a_scanner_sees_nothing_else_of_the_admin(door, scanner_user, night, path):
    path = path.format(event=night.pk, scanner=scanner_user.pk)
    response = door.get(path)
    # A page in the console's look that leads to the desk, not the API's problem document.
    assert response.status_code == 403, path
    assert response["Content-Type"] == "text/html; charset=utf-8", path
    page = response.content.decode()
    assert "This page is for staff" in page and 'href="/admin/checkin/"' in page, path
    assert "evently/console.css" in page, path


def test_a_refusal_on_a_staff_page_is_the_consoles_page_too(client, admin_user, night):
    client.force_login(admin_user)
    booking = book(night)
    # Bookings are records: nobody deletes one from the console.
    response = client.get(f"/admin/bookings/booking/{booking.pk}/delete/")
    assert (response.status_code, response["Content-Type"]) == (403, "text/html; charset=utf-8")
    page = response.content.decode()
    assert "You may not do this." in page and "Back to the console" in page


def test_a_scanners_index_is_the_desk_and_shows_no_app(door):
    response = door.get("/admin/")
    assert (response.status_code, response["Location"]) == (302, "/admin/checkin/")
    page = door.get("/admin/checkin/").content.decode()
    assert "/admin/events/" not in page and "/admin/accounts/" not in page


def test_a_scanner_may_change_their_password_and_sign_out(door):
    assert door.get("/admin/password_change/").status_code == 200
    assert door.post("/admin/logout/").status_code == 200
    assert door.get("/admin/checkin/")["Location"].startswith("/admin/login/")


def test_a_demoted_scanner_loses_the_desk_on_the_next_request(door, scanner_user, night):
    assert door.get(f"/admin/checkin/{night.pk}/").status_code == 200
    scanner_user.role = "user"
    scanner_user.save(update_fields=["role"])
    assert door.get(f"/admin/checkin/{night.pk}/")["Location"].startswith("/admin/login/")


def test_staff_open_the_desk_from_the_event_page(client, admin_user, night):
    client.force_login(admin_user)
    page = client.get(f"/admin/events/event/{night.pk}/change/").content.decode()
    assert f'href="/admin/checkin/{night.pk}/"' in page
    assert client.get(f"/admin/checkin/{night.pk}/").status_code == 200
    assert client.get("/admin/").status_code == 200  # staff keep their index


# --- The pages --------------------------------------------------------------------------------


def test_the_desk_index_lists_tonights_events(door, night):
    EventFactory(name="Next Month")
    EventFactory(name="Called Off", status="cancelled", event_time=timezone.now())
    book(night, quantity=3)
    page = door.get("/admin/checkin/").content.decode()
    assert "Jazz Night" in page and f"/admin/checkin/{night.pk}/" in page
    assert "Next Month" not in page and "Called Off" not in page


def test_the_desk_shows_the_box_the_counts_and_the_latest_check_ins(door, scanner_user, night):
    booking = book(night, quantity=3, name="Ann Holder")
    ticket_check_in(ref=TicketRef(booking.pk, 0), actor=scanner_user)
    page = door.get(f"/admin/checkin/{night.pk}/").content.decode()
    assert 'id="scan-code"' in page and "autofocus" in page
    assert '<strong id="count-in">1</strong>' in page
    assert '<strong id="count-expected">3</strong>' in page
    assert "Ann Holder" in page
    assert "bookings/checkin.js" in page and "bookings/checkin.css" in page


def test_an_unknown_events_desk_is_a_404(door):
    assert door.get("/admin/checkin/4d4d4d4d-4d4d-4d4d-8d4d-4d4d4d4d4d4d/").status_code == 404


# --- The JSON views ---------------------------------------------------------------------------


@pytest.fixture
def csrf_door(scanner_user):
    """A browser-like client: the desk's posts must carry the CSRF token."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(scanner_user)
    return client


def post_scan(client, event, body, token=None):
    headers = {"HTTP_X_CSRFTOKEN": token} if token else {}
    return client.post(
        f"/admin/checkin/{event.pk}/scan",
        json.dumps(body),
        content_type="application/json",
        **headers,
    )


def desk_token(client, event) -> str:
    client.get(f"/admin/checkin/{event.pk}/")
    return client.cookies["csrftoken"].value


def test_a_scan_needs_the_pages_csrf_token(csrf_door, night):
    booking = book(night)
    body = {"code": ticket_code(TicketRef(booking.pk, 0))}
    assert post_scan(csrf_door, night, body).status_code == 403
    assert not TicketCheckIn.objects.exists()
    response = post_scan(csrf_door, night, body, desk_token(csrf_door, night))
    assert response.status_code == 200


def test_scans_answer_like_the_api_with_the_counts(door, night):
    booking = book(night, quantity=2, name="Ann Holder")
    code = ticket_code(TicketRef(booking.pk, 0))
    first = post_scan(door, night, {"code": f" {code} "})
    assert first.status_code == 200
    body = first.json()
    assert (body["result"], body["holder"], body["ticket"]["number"]) == (
        "checked_in",
        {"name": "Ann Holder"},
        1,
    )
    assert body["counts"] == {
        "event_id": str(night.pk),
        "tickets": 2,
        "checked_in": 1,
        "remaining": 1,
    }

    # A refusal is an answer too (200), named by `result`, with the API's problem members.
    again = post_scan(door, night, {"code": code})
    assert (again.status_code, again.json()["result"]) == (200, "already_checked_in")
    assert (again.json()["code"], again.json()["status"]) == ("already_checked_in", 409)
    assert again.json()["checked_in_at"] == body["ticket"]["checked_in_at"]

    elsewhere = book(EventFactory(name="Opera Gala"))
    wrong = post_scan(door, night, {"code": ticket_code(TicketRef(elsewhere.pk, 0))}).json()
    assert (wrong["code"], wrong["ticket_event"]["name"]) == ("wrong_event", "Opera Gala")
    for junk in ({"code": "nonsense"}, {}, {"code": 12}, {"ticket_id": "nope"}):
        response = post_scan(door, night, junk)
        assert (response.status_code, response.json()["result"]) == (200, "unknown_ticket")
    assert post_scan(door, night, {"code": code}).json()["counts"]["checked_in"] == 1


def test_a_void_ticket_is_refused_at_the_desk(door, night):
    booking = book(night)
    booking_cancel(booking_id=booking.pk, actor=booking.user)
    body = post_scan(door, night, {"code": ticket_code(TicketRef(booking.pk, 0))}).json()
    assert body["result"] == "ticket_void"


def test_a_body_that_is_not_json_is_an_unknown_ticket(door, night):
    response = door.post(f"/admin/checkin/{night.pk}/scan", "{{", content_type="application/json")
    assert response.json()["result"] == "unknown_ticket"
    assert door.get(f"/admin/checkin/{night.pk}/scan").status_code == 405


def test_search_finds_people_by_name_e_mail_or_attendee_and_checks_them_in(door, night):
    ann = book(night, quantity=2, name="Ann Holder", email="ann.holder@example.com")
    book(night, quantity=1, name="Bob Other", email="bob@example.com")
    TicketCheckIn.objects.create(booking=ann, index=1)
    ann.attendees.create(index=0, name="Cleo Guest")
    for query in ("holder", "ANN.HOLDER@", "cleo"):
        found = door.get(f"/admin/checkin/{night.pk}/search", {"q": query}).json()["results"]
        assert [(t["holder"], t["number"], t["status"]) for t in found] == [
            ("Cleo Guest", 1, "valid"),
            ("Ann Holder", 2, "checked_in"),
        ], query
    assert door.get(f"/admin/checkin/{night.pk}/search", {"q": "a"}).json()["results"] == []

    [valid, _] = door.get(f"/admin/checkin/{night.pk}/search", {"q": "holder"}).json()["results"]
    manual = post_scan(door, night, {"ticket_id": valid["id"]})
    assert manual.json()["holder"] == {"name": "Cleo Guest"}
    assert TicketCheckIn.objects.filter(booking=ann).count() == 2


def test_search_stays_within_the_desks_event(door, night):
    book(EventFactory(), name="Ann Elsewhere")
    assert door.get(f"/admin/checkin/{night.pk}/search", {"q": "ann"}).json()["results"] == []


def test_the_status_view_gives_counts_and_the_latest_check_ins(door, scanner_user, night):
    booking = book(night, quantity=3, name="Ann Holder")
    for index in range(2):
        ticket_check_in(ref=TicketRef(booking.pk, index), actor=scanner_user)
    body = door.get(f"/admin/checkin/{night.pk}/status").json()
    assert body["counts"]["checked_in"] == 2
    assert [(r["holder"], r["number"]) for r in body["recent"]] == [
        ("Ann Holder", 2),
        ("Ann Holder", 1),
    ]
    assert body["recent"][0]["ticket_id"] == str(ticket_id(TicketRef(booking.pk, 1)))


# --- What the door may see --------------------------------------------------------------------


def test_the_desk_hands_out_no_code_and_masks_the_e_mail(door, night):
    ann = book(night, quantity=2, name="Ann Holder", email="ann.holder@example.com")
    codes = [ticket_code(TicketRef(ann.pk, index)) for index in range(2)]
    response = door.get(f"/admin/checkin/{night.pk}/search", {"q": "@e"})
    assert response.status_code == 200
    first, second = response.json()["results"]
    assert first == {
        "id": str(ticket_id(TicketRef(ann.pk, 0))),
        "booking_id": str(ann.pk),
        "number": 1,
        "quantity": 2,
        "status": "valid",
        "holder": "Ann Holder",
        "checked_in_at": None,
        "email": "a•••@example.com",
    }
    assert second["number"] == 2
    assert "ann.holder" not in response.content.decode()
    # Checked in from the search, the answer carries no code either.
    scan = post_scan(door, night, {"ticket_id": first["id"]})
    assert scan.json()["result"] == "checked_in"
    assert "code" not in scan.json()["ticket"]
    for answer in (response, scan, door.get(f"/admin/checkin/{night.pk}/status")):
        body = answer.content.decode()
        assert not any(code in body for code in codes)


def test_a_scanner_reaches_only_the_events_the_desk_offers(door, client, admin_user):
    later = EventFactory(name="Next Month")  # on sale, 30 days away: not tonight's
    booking = book(later, quantity=1, name="Ann Holder")
    code = ticket_code(TicketRef(booking.pk, 0))

    page = door.get(f"/admin/checkin/{later.pk}/")
    assert (page.status_code, page["Content-Type"]) == (403, "text/html; charset=utf-8")
    assert "not open to door staff" in page.content.decode()
    for response in (
        door.get(f"/admin/checkin/{later.pk}/search", {"q": "ann"}),
        door.get(f"/admin/checkin/{later.pk}/status"),
        post_scan(door, later, {"code": code}),
        post_scan(door, later, {"ticket_id": str(ticket_id(TicketRef(booking.pk, 0)))}),
    ):
        assert_problem(response, 403, "permission_denied")
        assert "Ann" not in response.content.decode()
    assert not TicketCheckIn.objects.exists()

    # Staff open any event's desk.
    client.force_login(admin_user)
    assert client.get(f"/admin/checkin/{later.pk}/").status_code == 200
    found = client.get(f"/admin/checkin/{later.pk}/search", {"q": "ann"}).json()["results"]
    assert [t["holder"] for t in found] == ["Ann Holder"]


# --- The check-in window ----------------------------------------------------------------------


def test_the_desk_shows_the_window_and_refuses_scans_outside_it(client, admin_user, door, night):
    from core.admin_tools import when

    client.force_login(admin_user)  # staff open a desk of any day
    later = EventFactory(name="Winter Gala", event_time=timezone.now() + timedelta(days=7))
    booking = book(later)
    opens = later.event_time - timedelta(minutes=240)
    page = client.get(f"/admin/checkin/{later.pk}/").content.decode()
    assert f'class="desk-window desk-window-not_open_yet">Check-in opens {when(opens)}<' in page
    answer = post_scan(client, later, {"code": ticket_code(TicketRef(booking.pk, 0))}).json()
    assert (answer["result"], answer["status"]) == ("checkin_closed", 409)
    assert answer["opens_at"] == opens.isoformat().replace("+00:00", "Z")
    assert answer["counts"]["checked_in"] == 0
    assert not TicketCheckIn.objects.exists()
    assert client.get(f"/admin/checkin/{later.pk}/status").json()["window"]["state"] == (
        "not_open_yet"
    )

    # Tonight's door is open, and says until when; the list of tonight's events says so too.
    closes = night.event_time + timedelta(minutes=720)
    label = f"Check-in open until {when(closes)}"
    assert label in door.get(f"/admin/checkin/{night.pk}/").content.decode()
    assert door.get(f"/admin/checkin/{night.pk}/status").json()["window"] == {
        "state": "open",
        "opens_at": (night.event_time - timedelta(minutes=240)).isoformat().replace("+00:00", "Z"),
        "closes_at": closes.isoformat().replace("+00:00", "Z"),
        "label": label,
    }
    assert label in door.get("/admin/checkin/").content.decode()


def test_the_desk_lists_events_until_their_door_closes(door, settings):
    gone = EventFactory(name="Matinee", event_time=timezone.now() - timedelta(hours=3))
    assert "Matinee" in door.get("/admin/checkin/").content.decode()
    settings.CHECKIN_CLOSES_MINUTES = 120
    assert "Matinee" not in door.get("/admin/checkin/").content.decode()
    assert door.get(f"/admin/checkin/{gone.pk}/").status_code == 403
