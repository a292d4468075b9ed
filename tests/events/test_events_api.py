from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from events.models import Event
from tests.factories import EventFactory
from tests.problems import assert_problem

pytestmark = pytest.mark.django_db

EVENT_KEYS = {
    "id",
    "name",
    "description",
    "venue",
    "event_time",
    "total_capacity",
    "available_seats",
    "price",
    "status",
    "created_by",
    "created_at",
    "updated_at",
}


def future(days=10):
    return timezone.now() + timedelta(days=days)


def valid_payload(**overrides):
    payload = {
        "name": "Jazz Night",
        "description": "Live quartet.",
        "venue": "Blue Hall",
        "event_time": future().isoformat(),
        "total_capacity": 50,
        "price": "49.99",
    }
    payload.update(overrides)
    return payload


# --- list -------------------------------------------------------------------------------------


def test_list_shows_only_upcoming_scheduled_events_soonest_first(anon_api):
    later = EventFactory(event_time=future(20))
    sooner = EventFactory(event_time=future(2))
    EventFactory(event_time=timezone.now() - timedelta(hours=1))  # started
    EventFactory(event_time=future(5), status=Event.Status.CANCELLED)
    response = anon_api.get("/api/events")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"count", "next", "previous", "results"}
    assert body["count"] == 2
    assert [e["id"] for e in body["results"]] == [str(sooner.pk), str(later.pk)]
    assert set(body["results"][0]) == EVENT_KEYS
    assert body["results"][0]["price"] == "49.99"


def test_list_pages_with_limit_and_offset(anon_api):
    events = [EventFactory(event_time=future(i + 1)) for i in range(5)]
    body = anon_api.get("/api/events?limit=2&offset=1").json()
    assert body["count"] == 5
    assert [e["id"] for e in body["results"]] == [str(events[1].pk), str(events[2].pk)]
    assert body["next"].endswith("/api/events?limit=2&offset=3")
    assert body["previous"].endswith("/api/events?limit=2")


def test_list_default_limit_is_20_and_larger_limits_are_cut_to_100(anon_api):
    EventFactory.create_batch(105)
    assert len(anon_api.get("/api/events").json()["results"]) == 20
    assert len(anon_api.get("/api/events?limit=500").json()["results"]) == 100


@pytest.mark.parametrize("query", ["limit=-1", "limit=abc", "offset=-5", "offset=1.5", "limit=2x"])
def test_list_rejects_malformed_paging(anon_api, query):
    assert_problem(
        anon_api.get(f"/api/events?{query}"), 400, "validation_error", fields={query.split("=")[0]}
    )


def test_list_filters(anon_api):
    jazz = EventFactory(
        name="Jazz Night", venue="Blue Hall", price=Decimal("20.00"), event_time=future(3)
    )
    rock = EventFactory(
        name="Rock Show",
        venue="Arena",
        description="loud jazz-free",
        price=Decimal("60.00"),
        event_time=future(6),
    )
    free = EventFactory(
        name="Open Day",
        venue="Blue Hall Annex",
        price=Decimal("0.00"),
        event_time=future(9),
        total_capacity=5,
        available_seats=0,
        booked_seats=5,
    )

    def ids(query):
        response = anon_api.get(f"/api/events?{query}")
        assert response.status_code == 200, response.content
        return {e["id"] for e in response.json()["results"]}

    assert ids("search=jazz") == {str(jazz.pk), str(rock.pk)}
    assert ids("search=ARENA") == {str(rock.pk)}
    assert ids("venue=blue hall") == {str(jazz.pk), str(free.pk)}
    assert ids("min_price=20") == {str(jazz.pk), str(rock.pk)}
    assert ids("max_price=20.00") == {str(jazz.pk), str(free.pk)}
    assert ids("min_price=20&max_price=20") == {str(jazz.pk)}
    assert ids("has_seats=true") == {str(jazz.pk), str(rock.pk)}
    assert ids("has_seats=false") == {str(free.pk)}
    after = rock.event_time.isoformat().replace("+", "%2B")
    assert ids(f"starts_after={after}") == {str(rock.pk), str(free.pk)}  # inclusive
    assert ids(f"starts_before={after}") == {str(jazz.pk), str(rock.pk)}
    naive = (rock.event_time.replace(tzinfo=None)).isoformat()
    assert ids(f"starts_after={naive}") == {str(rock.pk), str(free.pk)}  # naive means UTC


def test_list_ordering(anon_api):
    a = EventFactory(name="Bravo", price=Decimal("30"), event_time=future(1))
    b = EventFactory(name="Alpha", price=Decimal("10"), event_time=future(2))
    c = EventFactory(name="Charlie", price=Decimal("20"), event_time=future(3))

    def order(value):
        return [e["id"] for e in anon_api.get(f"/api/events?ordering={value}").json()["results"]]

    assert order("event_time") == [str(a.pk), str(b.pk), str(c.pk)]
    assert order("-event_time") == [str(c.pk), str(b.pk), str(a.pk)]
    assert order("price") == [str(b.pk), str(c.pk), str(a.pk)]
    assert order("-price") == [str(a.pk), str(c.pk), str(b.pk)]
    assert order("name") == [str(b.pk), str(a.pk), str(c.pk)]


def test_list_pages_events_at_the_same_time_by_id_without_overlap(anon_api):
    # The upcoming index holds event_time alone; ties are put in order by id in the query.
    when = future(3)
    events = sorted(EventFactory.create_batch(7, event_time=when), key=lambda e: str(e.pk))
    seen = []
    for offset in range(0, 7, 3):
        body = anon_api.get(f"/api/events?limit=3&offset={offset}").json()
        assert body["count"] == 7
        seen += [e["id"] for e in body["results"]]
    assert seen == [str(e.pk) for e in events]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("ordering=created_by", "ordering"),
        ("ordering=price,,name", "ordering"),
        ("has_seats=maybe", "has_seats"),
        ("min_price=cheap", "min_price"),
        ("starts_after=yesterday", "starts_after"),
    ],
)
def test_list_rejects_invalid_filters(anon_api, query, field):
    assert_problem(anon_api.get(f"/api/events?{query}"), 400, "validation_error", fields={field})


@pytest.mark.parametrize(
    "query",
    [
        # PostgreSQL takes UTC offsets up to ±15:59 only; these were database errors (500).
        "starts_after=2030-01-01T00:00:00-17:09",
        "starts_before=2030-01-01T00:00:00%2B23:59",
        # Bounds whose UTC time falls outside the years 1-9999.
        "starts_after=0001-01-01T00:00:00%2B05:00",
        "starts_before=9999-12-31T23:59:00-05:00",
    ],
)
def test_list_takes_any_iso_utc_offset(anon_api, query):
    EventFactory()
    assert anon_api.get(f"/api/events?{query}").status_code == 200


def test_list_runs_two_queries_whatever_the_page_size(anon_api, django_assert_num_queries):
    EventFactory.create_batch(30)
    # 1: the count (today's events still to come, plus the day summary of the days after);
    # 2: the page itself.
    with django_assert_num_queries(2):
        assert len(anon_api.get("/api/events?limit=5").json()["results"]) == 5
    with django_assert_num_queries(2):
        assert len(anon_api.get("/api/events?limit=30").json()["results"]) == 30
    window = f"starts_after={future(1).date()}&starts_before={future(60).date()}"
    with django_assert_num_queries(2):
        assert anon_api.get(f"/api/events?{window}&ordering=-price").json()["count"] == 30


# --- detail -----------------------------------------------------------------------------------


def test_detail_shows_any_event_including_past_and_cancelled(anon_api):
    past = EventFactory(event_time=timezone.now() - timedelta(days=3))
    cancelled = EventFactory(status=Event.Status.CANCELLED)
    for event in (past, cancelled):
        response = anon_api.get(f"/api/events/{event.pk}")
        assert response.status_code == 200
        assert response.json()["id"] == str(event.pk)
        assert response.json()["status"] == event.status


@pytest.mark.parametrize("event_id", ["00000000-0000-0000-0000-000000000000", "not-a-uuid", "42"])
def test_detail_unknown_or_malformed_id_is_404(anon_api, event_id):
    assert_problem(anon_api.get(f"/api/events/{event_id}"), 404, "not_found")


# --- create -----------------------------------------------------------------------------------


def test_admin_creates_event(admin_api, admin_user):
    response = admin_api.post(
        "/api/events", valid_payload(available_seats=3, status="cancelled"), format="json"
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == EVENT_KEYS | {"ticket_types"}
    assert body["available_seats"] == 50  # never taken from input
    [general] = body["ticket_types"]
    assert (general["name"], general["price"], general["quota"], general["available"]) == (
        "General admission",
        "49.99",
        50,
        50,
    )
    assert body["status"] == "scheduled"
    assert body["created_by"] == str(admin_user.pk)
    event = Event.objects.get(pk=body["id"])
    assert (event.total_capacity, event.available_seats, event.price) == (50, 50, Decimal("49.99"))


def test_create_reads_naive_event_time_as_utc(admin_api):
    naive = (timezone.now() + timedelta(days=3)).replace(tzinfo=None, microsecond=0)
    response = admin_api.post(
        "/api/events", valid_payload(event_time=naive.isoformat()), format="json"
    )
    assert response.status_code == 201
    assert response.json()["event_time"] == naive.isoformat() + "Z"


@pytest.mark.parametrize(
    ("override", "field"),
    [
        ({"name": ""}, "name"),
        ({"venue": None}, "venue"),
        ({"event_time": "tomorrow"}, "event_time"),
        ({"event_time": (timezone.now() - timedelta(minutes=1)).isoformat()}, "event_time"),
        ({"total_capacity": 0}, "total_capacity"),
        ({"total_capacity": 1_000_001}, "total_capacity"),
        ({"total_capacity": "many"}, "total_capacity"),
        ({"price": "-1.00"}, "price"),
        ({"price": "10.999"}, "price"),
        ({"price": "abc"}, "price"),
        ({"price": ""}, "price"),
        ({"price": "1e2"}, "price"),
        ({"price": " 5"}, "price"),
        ({"price": "\u0663"}, "price"),  # ARABIC-INDIC DIGIT THREE
        ({"price": 10.999}, "price"),
        ({"name": 0}, "name"),
        ({"name": "   "}, "name"),
        ({"total_capacity": "5"}, "total_capacity"),
        ({"total_capacity": 5.0}, "total_capacity"),
        ({"total_capacity": True}, "total_capacity"),
    ],
)
def test_create_rejects_each_invalid_field(admin_api, override, field):
    response = admin_api.post("/api/events", valid_payload(**override), format="json")
    assert_problem(response, 400, "validation_error", fields={field})
    assert Event.objects.count() == 0


def test_create_accepts_the_bounds(admin_api):
    for capacity, price in ((1, "0"), (1_000_000, "99999999.99"), (1, 0), (1, 49.99)):
        response = admin_api.post(
            "/api/events", valid_payload(total_capacity=capacity, price=price), format="json"
        )
        assert response.status_code == 201, response.content


@pytest.mark.parametrize(("sent", "stored"), [(10, "10.00"), (49.9, "49.90"), ("49.99", "49.99")])
def test_a_price_may_be_a_json_number_with_at_most_two_decimals(admin_api, sent, stored):
    # Written down in the README: the Go service's clients send numbers; answers are strings.
    response = admin_api.post("/api/events", valid_payload(price=sent), format="json")
    assert response.status_code == 201, response.content
    assert response.json()["price"] == stored
    assert str(Event.objects.get().price) == stored


def test_create_needs_admin(anon_api, user_api):
    assert_problem(
        anon_api.post("/api/events", valid_payload(), format="json"), 401, "not_authenticated"
    )
    assert_problem(
        user_api.post("/api/events", valid_payload(), format="json"), 403, "permission_denied"
    )
    assert Event.objects.count() == 0


def test_create_rejects_non_json_bodies(admin_api):
    form = "application/x-www-form-urlencoded"
    response = admin_api.post("/api/events", "name=x", content_type=form)
    assert_problem(response, 415, "unsupported_media_type")
    response = admin_api.post("/api/events", "{not json", content_type="application/json")
    assert_problem(response, 400, "parse_error")


# --- update -----------------------------------------------------------------------------------


def test_patch_changes_only_given_fields(admin_api):
    event = EventFactory(name="Old", price=Decimal("10.00"))
    response = admin_api.patch(f"/api/events/{event.pk}", {"name": "New"}, format="json")
    assert response.status_code == 200
    event.refresh_from_db()
    assert (event.name, event.price) == ("New", Decimal("10.00"))


def test_put_replaces_all_editable_fields_and_needs_them_all(admin_api):
    event = EventFactory()
    response = admin_api.put(f"/api/events/{event.pk}", {"name": "Only name"}, format="json")
    assert_problem(
        response, 400, "validation_error", fields={"venue", "event_time", "total_capacity", "price"}
    )
    response = admin_api.put(
        f"/api/events/{event.pk}", valid_payload(name="Replaced"), format="json"
    )
    assert response.status_code == 200
    assert response.json()["name"] == "Replaced"


def test_raising_capacity_adds_free_seats(admin_api):
    event = EventFactory(total_capacity=10, available_seats=6, booked_seats=4)
    response = admin_api.patch(f"/api/events/{event.pk}", {"total_capacity": 15}, format="json")
    assert response.status_code == 200
    assert (response.json()["total_capacity"], response.json()["available_seats"]) == (15, 11)


def test_capacity_may_drop_to_taken_seats_but_not_below(admin_api):
    event = EventFactory(total_capacity=10, available_seats=4, booked_seats=4, held_seats=2)
    body = assert_problem(
        admin_api.patch(f"/api/events/{event.pk}", {"total_capacity": 5}, format="json"),
        409,
        "capacity_below_taken",
    )
    assert body["taken_seats"] == 6
    event.refresh_from_db()
    assert (event.total_capacity, event.available_seats) == (10, 4)

    response = admin_api.patch(f"/api/events/{event.pk}", {"total_capacity": 6}, format="json")
    assert response.status_code == 200
    assert (response.json()["total_capacity"], response.json()["available_seats"]) == (6, 0)


def test_update_keeps_a_past_event_time_but_refuses_moving_into_the_past(admin_api):
    event = EventFactory(event_time=timezone.now() - timedelta(days=1))
    assert (
        admin_api.patch(
            f"/api/events/{event.pk}", {"description": "Recap"}, format="json"
        ).status_code
        == 200
    )
    moved = admin_api.patch(
        f"/api/events/{event.pk}",
        {"event_time": (timezone.now() - timedelta(hours=2)).isoformat()},
        format="json",
    )
    assert_problem(moved, 400, "validation_error", fields={"event_time"})


def test_update_of_cancelled_event_is_409(admin_api):
    event = EventFactory(status=Event.Status.CANCELLED)
    assert_problem(
        admin_api.patch(f"/api/events/{event.pk}", {"name": "x"}, format="json"),
        409,
        "event_cancelled",
    )


def test_update_permissions_and_missing_event(anon_api, user_api, admin_api):
    event = EventFactory()
    assert_problem(
        anon_api.patch(f"/api/events/{event.pk}", {"name": "x"}, format="json"),
        401,
        "not_authenticated",
    )
    assert_problem(
        user_api.patch(f"/api/events/{event.pk}", {"name": "x"}, format="json"),
        403,
        "permission_denied",
    )
    assert_problem(
        admin_api.patch(
            "/api/events/00000000-0000-0000-0000-000000000000", {"name": "x"}, format="json"
        ),
        404,
        "not_found",
    )


# --- delete -----------------------------------------------------------------------------------


def test_admin_deletes_event_without_bookings(admin_api, user_api):
    event = EventFactory()
    assert_problem(user_api.delete(f"/api/events/{event.pk}"), 403, "permission_denied")
    response = admin_api.delete(f"/api/events/{event.pk}")
    assert response.status_code == 204
    assert not Event.objects.filter(pk=event.pk).exists()
    assert_problem(admin_api.delete(f"/api/events/{event.pk}"), 404, "not_found")


def test_delete_event_with_bookings_cancels_it(admin_api, user):
    from bookings.services import booking_create

    event = EventFactory()
    booking_create(event_id=event.pk, user=user, quantity=2)
    assert admin_api.delete(f"/api/events/{event.pk}").status_code == 204
    event.refresh_from_db()
    assert event.status == "cancelled"
    assert admin_api.get(f"/api/events/{event.pk}").json()["status"] == "cancelled"
