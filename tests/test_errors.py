"""Every error, whoever raises it, is an RFC 9457 problem document."""

import pytest
from django.test import override_settings

from tests.factories import EventFactory
from tests.hostile import NESTED_JSON, NON_ASCII_DIGITS
from tests.problems import assert_problem

pytestmark = pytest.mark.django_db


def test_unknown_route_is_problem_404(anon_api):
    assert_problem(anon_api.get("/api/nope"), 404, "not_found")
    assert_problem(anon_api.get("/api"), 404, "not_found")


def test_wrong_method_is_problem_405(anon_api, user_api):
    assert_problem(user_api.delete("/api/auth/me"), 405, "method_not_allowed")
    assert_problem(anon_api.get("/api/auth/login"), 405, "method_not_allowed")


def test_routes_answer_with_and_without_trailing_slash_without_redirecting(anon_api, user_api):
    event = EventFactory()
    for path in (
        "/api/events",
        "/api/events/",
        f"/api/events/{event.pk}",
        f"/api/events/{event.pk}/",
        "/api/health/",
    ):
        assert anon_api.get(path).status_code == 200, path
    assert user_api.get("/api/auth/me/").status_code == 200
    response = anon_api.post(
        "/api/auth/login/", {"email": "a@example.com", "password": "x"}, format="json"
    )
    assert response.status_code == 401  # handled, not a 301 that would drop the body


def test_unexpected_error_is_problem_500_without_trace(anon_api, monkeypatch):
    from events import selectors

    def boom(**kwargs):
        raise RuntimeError("SELECT secret FROM internals")

    monkeypatch.setattr(selectors, "event_list_upcoming", boom)
    anon_api.raise_request_exception = False
    response = anon_api.get("/api/events")
    body = assert_problem(response, 500, "server_error")
    assert "secret" not in response.content.decode()
    assert "Traceback" not in response.content.decode()
    assert body["detail"] == "An unexpected error occurred."


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=1024)
def test_oversized_body_is_refused(admin_api):
    response = admin_api.post("/api/events", {"name": "x" * 5000}, format="json")
    assert_problem(response, 413, "request_too_large")


@pytest.mark.parametrize("name", ["limit", "offset"])
@pytest.mark.parametrize("digit", NON_ASCII_DIGITS)
def test_non_ascii_digits_in_paging_are_400(anon_api, name, digit):
    assert_problem(anon_api.get("/api/events", {name: digit}), 400, "validation_error")


def test_deeply_nested_json_is_a_parse_error(anon_api):
    response = anon_api.post("/api/auth/login", NESTED_JSON, content_type="application/json")
    assert_problem(response, 400, "parse_error")


@pytest.mark.parametrize("path", ["/api", "/api/", "/api/nope", "/api/events/x/y/z", "/api/auth"])
def test_unknown_api_routes_are_problem_404_with_debug_on(anon_api, settings, path):
    # With DEBUG on, Django answers an unmatched URL with its HTML page of every route.
    settings.DEBUG = True
    response = anon_api.get(path)
    assert_problem(response, 404, "not_found")
    assert b"<html" not in response.content.lower()


def test_unexpected_error_is_problem_500_with_debug_on(anon_api, settings, monkeypatch):
    from events import selectors

    def boom(**kwargs):
        raise RuntimeError("SELECT secret FROM internals")

    settings.DEBUG = True
    monkeypatch.setattr(selectors, "event_list_upcoming", boom)
    response = anon_api.get("/api/events")
    assert_problem(response, 500, "server_error")
    assert "secret" not in response.content.decode()


@pytest.mark.parametrize("method", ["post", "put", "delete"])
def test_a_write_to_an_unknown_api_route_is_404_not_a_csrf_refusal(anon_api, method):
    assert_problem(getattr(anon_api, method)("/api/waitlist/0.5/"), 404, "not_found")
