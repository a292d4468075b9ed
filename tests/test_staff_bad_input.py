"""Never a 500 on a staff page: the console's lists, records, forms and dashboard, and the
check-in desk, fed the hostile inputs the API's tests use (tests/hostile.py).

A list page refuses a query it cannot read as Django refuses any (back to the unfiltered list
with `?e=1`); a form answers with its errors; the desk answers its own refusals. Every admin
class registered is covered, so one added later is held to the same.
"""

import json
from datetime import timedelta

import pytest
from django.contrib import admin
from django.urls import reverse
from django.utils import timezone

from bookings.models import TicketCheckIn
from bookings.services import booking_create
from events.models import Event
from tests.factories import EventFactory, UserFactory
from tests.hostile import JSON_BODIES, NESTED_JSON, VALUES
from tests.problems import assert_problem

pytestmark = pytest.mark.django_db

ADMINS = sorted(admin.site._registry.items(), key=lambda item: item[0]._meta.label)


def _parameters(model_admin, request) -> list[str]:
    """The query parameters a list page reads: search, order, page, each filter's own and the
    date hierarchy's parts."""
    changelist = model_admin.get_changelist_instance(request)
    names = ["q", "o", "p"]
    for spec in changelist.filter_specs:
        names += spec.expected_parameters()
    if model_admin.date_hierarchy:
        names += [f"{model_admin.date_hierarchy}__{part}" for part in ("year", "month", "day")]
    return names


def _query(name: str, value: str) -> dict:
    # A month or a day counts only below a year, so the hierarchy's parts go in together.
    field, _, part = name.rpartition("__")
    if part == "month":
        return {f"{field}__year": "2030", name: value}
    if part == "day":
        return {f"{field}__year": "2030", f"{field}__month": "6", name: value}
    return {name: value}


@pytest.fixture
def night():
    return EventFactory(name="Jazz Night", event_time=timezone.now() + timedelta(hours=2))


def changelist(model) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")


@pytest.mark.parametrize(
    "model", [pytest.param(model, id=model._meta.label) for model, _ in ADMINS]
)
def test_a_list_page_takes_any_value_of_its_query_parameters(staff, rf, admin_user, model):
    url = changelist(model)
    request = rf.get(url)
    request.user = admin_user
    for name in _parameters(admin.site._registry[model], request):
        for value in VALUES:
            response = staff.get(url, _query(name, value))
            assert response.status_code in (200, 302), (name, value, response.status_code)
            if response.status_code == 302:
                assert response["Location"] == f"{url}?e=1", (name, value)


@pytest.mark.parametrize(
    ("url", "query"),
    [
        ("/admin/events/event/", {"event_time__year": "99999999999"}),
        ("/admin/bookings/booking/", {"booking_time__year": "99999999999"}),
        ("/admin/events/event/", {"event_time__year": "2030", "event_time__month": "99999999999"}),
        ("/admin/events/event/", {"status__exact": "\x00"}),
        ("/admin/bookings/booking/", {"q": "ann\x00"}),
        ("/admin/accounts/user/", {"role": "\x00"}),
    ],
)
def test_the_500s_found_are_now_the_unfiltered_list(staff, url, query):
    response = staff.get(url, query)
    assert (response.status_code, response["Location"]) == (302, f"{url}?e=1")
    assert staff.get(response["Location"]).status_code == 200


@pytest.mark.parametrize(
    "model", [pytest.param(model, id=model._meta.label) for model, _ in ADMINS]
)
def test_a_record_page_takes_any_id(staff, model):
    url = changelist(model)
    for value in ("\x00", "99999999999", "-1", "x" * 300, "' OR 1=1 --", "%25"):
        for page in ("change/", "history/", "delete/"):
            response = staff.get(f"{url}{value}/{page}")
            assert response.status_code in (200, 302, 403, 404), (value, page)


def test_the_event_form_answers_hostile_values_with_its_errors(staff):
    for value in VALUES:
        form = {
            "name": value,
            "description": value,
            "venue": value,
            "event_time_0": value,
            "event_time_1": value,
            "total_capacity": value,
            "price": value,
        }
        response = staff.post("/admin/events/event/add/", form)
        assert response.status_code == 200, (value, response.status_code)
        assert response.context["adminform"].form.errors, value
    assert not Event.objects.exists()


def test_the_login_form_answers_hostile_values_with_its_errors(client, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"login": None, "anon": None, "user": None},
    }
    for value in VALUES:
        response = client.post("/admin/login/", {"username": value, "password": value})
        assert response.status_code == 200, (value, response.status_code)
        assert "_auth_user_id" not in client.session


@pytest.mark.parametrize("value", VALUES)
def test_the_dashboard_takes_any_period(staff, value):
    assert staff.get("/admin/dashboard/", {"days": value}).status_code == 200


@pytest.mark.parametrize("value", ["\x00", "99999999999", "x" * 300, "..%2F..%2F"])
def test_an_event_page_of_the_console_takes_any_id(staff, value):
    for page in ("cancel/", "message/", "bookings.csv"):
        assert staff.get(f"/admin/events/event/{value}/{page}").status_code in (302, 404)


# --- The desk ---------------------------------------------------------------------------------


@pytest.fixture
def door(client, scanner_user):
    client.force_login(scanner_user)
    return client


def test_the_desk_search_takes_any_query(door, night):
    booking_create(event_id=night.pk, user=UserFactory(name="Ann Holder"), quantity=1)
    for value in VALUES:
        response = door.get(f"/admin/checkin/{night.pk}/search", {"q": value})
        if "\x00" in value:
            # PostgreSQL text cannot hold a NUL: no name or e-mail has one (was a DataError).
            assert_problem(response, 400, "validation_error", fields={"q"})
        else:
            assert response.status_code == 200, (value, response.status_code)
            assert response.json()["results"] == []


@pytest.mark.parametrize(
    "body",
    [
        NESTED_JSON,  # was a RecursionError
        '{"code": ' + NESTED_JSON + "}",
        "{{",
        "\x00",
        *JSON_BODIES,
        *(json.dumps({"code": value}) for value in VALUES),
        *(json.dumps({"ticket_id": value}) for value in VALUES),
    ],
)
def test_a_scan_of_anything_is_an_unknown_ticket(door, night, body):
    response = door.post(f"/admin/checkin/{night.pk}/scan", body, content_type="application/json")
    assert response.status_code == 200
    assert response.json()["result"] == "unknown_ticket"
    assert not TicketCheckIn.objects.exists()


@pytest.mark.parametrize("value", ["\x00", "99999999999", "x" * 300, "%25"])
def test_a_desk_of_no_event_id_is_refused(door, value):
    # Not a desk's address: the console's 404, or its 403 page for a scanner.
    for page in ("", "search", "status"):
        assert door.get(f"/admin/checkin/{value}/{page}").status_code in (403, 404)
