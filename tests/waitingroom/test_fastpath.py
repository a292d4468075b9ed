"""The queue join and poll answered in front of Django (waitingroom.fastpath), tested through
the WSGI application itself: its answers are Django's to the byte, the ones it leaves to Django
reach Django as they came, and its joins and polls are throttled, logged and counted as
Django's are.

Each test builds the application as evently/wsgi.py does, around a Django handler that counts
the requests it is given, and compares with that handler called directly on the same request.
"""

import io
import json
import logging
import sys
import uuid
from datetime import timedelta
from types import SimpleNamespace

import jwt
import pytest
import redis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.urls import resolve
from rest_framework_simplejwt.tokens import AccessToken

from accounts.authentication import ClaimsJWTAuthentication
from accounts.permissions import ClaimsOnly
from accounts.tokens import tokens_for
from core import metrics
from core.throttling import UserRateThrottle
from tests.factories import EventFactory, UserFactory
from tests.test_operations import run_python
from tests.waitingroom.conftest import REDIS_TEST_URL, _redis_up, rewind
from tests.waitingroom.test_queue_api import join, open_queue, poll
from waitingroom import stores
from waitingroom.fastpath import QueueFastPath
from waitingroom.models import Queue
from waitingroom.views import QueueJoinView, QueuePlaceView

pytestmark = pytest.mark.django_db


# The headers of Django's answer to a join or a poll, in its order.
ANSWER_HEADERS = [
    "Retry-After",
    "Content-Type",
    "Allow",
    "X-Frame-Options",
    "Content-Length",
    "Vary",
    "X-Content-Type-Options",
    "Referrer-Policy",
    "Cross-Origin-Opener-Policy",
    "X-Request-ID",
]


@pytest.fixture
def redis_queues(settings, monkeypatch):
    """Redis for the queues and the throttles, as production has it; each test with a cache
    key prefix of its own, so its throttle counters are its own. Retry-After's jitter fixed,
    so two answers to one request can be compared."""
    if not _redis_up():
        pytest.skip("needs Redis on 127.0.0.1:6379")
    prefix = uuid.uuid4().hex
    settings.REDIS_URL = REDIS_TEST_URL
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_TEST_URL,
            "KEY_PREFIX": prefix,
        }
    }
    monkeypatch.setattr("waitingroom.services.random.uniform", lambda low, high: 1.0)
    yield
    client = redis.Redis.from_url(REDIS_TEST_URL)
    for event_id in Queue.objects.values_list("event_id", flat=True):
        client.delete(*stores._keys(event_id))
    for key in client.scan_iter(f"{prefix}:*"):
        client.delete(key)


class CountingDjango:
    """Django's WSGI handler, counting the requests that reach it."""

    def __init__(self):
        self.handler = WSGIHandler()
        self.calls = 0

    def __call__(self, environ, start_response):
        self.calls += 1
        return self.handler(environ, start_response)


@pytest.fixture
def apps(redis_queues):
    django = CountingDjango()
    return SimpleNamespace(fast=QueueFastPath(django), django=django)


def environ(path: str, access: str | None, method: str = "GET", **extra) -> dict:
    """A request as gunicorn hands it to the application."""
    found = {
        "REQUEST_METHOD": method,
        "SCRIPT_NAME": "",
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8080",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": "localhost:8080",
        "HTTP_X_REQUEST_ID": "poll-1",
        "wsgi.input": io.BytesIO(b""),
        "wsgi.errors": sys.stderr,
        "wsgi.url_scheme": "http",
        "wsgi.version": (1, 0),
        "wsgi.multithread": False,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }
    if access is not None:
        found["HTTP_AUTHORIZATION"] = f"Bearer {access}"
    found.update(extra)
    return found


def call(app, request: dict) -> tuple[str, list, bytes]:
    """(status, headers, body) of `app` for `request`. Django's handler closes the database
    connection at the end of a request, which would end the test's transaction: as Django's
    test client does, that handler is held off while the request runs."""
    answer = {}

    def start_response(status, headers, exc_info=None):
        answer["status"], answer["headers"] = status, headers

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        body = app(dict(request, **{"wsgi.input": io.BytesIO(b"")}), start_response)
        content = b"".join(body)
        getattr(body, "close", lambda: None)()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)
    return answer["status"], answer["headers"], content


def queued(admin_api, *, admitted: bool = False):
    """(person, their access token, their place token) in an open queue, after two others."""
    event = EventFactory()
    open_queue(admin_api, event)
    for other in UserFactory.create_batch(2):
        join(other, event)
    person = UserFactory()
    place = join(person, event).json()["token"]
    if admitted:
        rewind(event.pk, 60)
    return person, tokens_for(person)["access"], place


@pytest.mark.parametrize("admitted", [False, True], ids=["waiting", "admitted"])
def test_a_poll_is_answered_before_django_with_the_views_own_bytes(apps, admin_api, admitted):
    _, access, place = queued(admin_api, admitted=admitted)
    request = environ(f"/api/queue/{place}", access)

    fast = call(apps.fast, request)
    assert apps.django.calls == 0
    django = call(apps.django.handler, request)

    assert fast == django
    status, headers, body = fast
    assert status == "200 OK"
    assert json.loads(body)["status"] == ("admitted" if admitted else "waiting")
    assert [name for name, _ in headers] == ANSWER_HEADERS


class RedisSnapshot:
    """The Redis keys of an event's queue as they are now, to put back: so one join can be
    answered twice, by each path, from the same state."""

    def __init__(self, event_id):
        self.client = redis.Redis.from_url(REDIS_TEST_URL)
        self.keys = stores._keys(event_id)
        self.dumps = {key: self.client.dump(key) for key in self.keys}

    def restore(self) -> None:
        for key, dump in self.dumps.items():
            self.client.delete(key)
            if dump is not None:
                self.client.restore(key, 0, dump)


def join_request(event, access, **extra) -> dict:
    return environ(f"/api/events/{event.pk}/queue", access, method="POST", **extra)


@pytest.mark.parametrize("again", [False, True], ids=["a new place", "the same place again"])
def test_a_join_is_answered_before_django_with_the_views_own_bytes(apps, admin_api, again):
    event = EventFactory()
    open_queue(admin_api, event)
    join(UserFactory(), event)
    person = UserFactory()
    if again:
        join(person, event)
    request = join_request(event, tokens_for(person)["access"])
    before = RedisSnapshot(event.pk)

    fast = call(apps.fast, request)
    assert apps.django.calls == 0
    before.restore()
    django = call(apps.django.handler, request)

    assert fast == django
    status, headers, body = fast
    assert status == ("200 OK" if again else "201 Created")
    assert json.loads(body)["position"] == 2
    assert dict(headers)["Allow"] == "POST, OPTIONS"
    assert [name for name, _ in headers] == ANSWER_HEADERS
    # The place the fast path gave is the person's: a poll through Django finds it.
    assert poll(person, json.loads(body)["token"]).json()["position"] == 2


@pytest.mark.parametrize(
    "change",
    [
        lambda r: r.update(REQUEST_METHOD="GET"),
        lambda r: r.update(REQUEST_METHOD="PUT"),
        lambda r: r.update(PATH_INFO=r["PATH_INFO"] + "/"),
        lambda r: r.update(
            PATH_INFO=r["PATH_INFO"].upper().replace("/API/EVENTS/", "/api/events/")
        ),
        lambda r: r.update(PATH_INFO="/api/events/not-an-event/queue"),
        lambda r: r.update(QUERY_STRING="format=json"),
        lambda r: r.update(HTTP_ORIGIN="https://shop.example.com"),
        lambda r: r.update(CONTENT_LENGTH="2", CONTENT_TYPE="application/json"),
        lambda r: r.update(HTTP_TRANSFER_ENCODING="chunked"),
        lambda r: r.update(HTTP_ACCEPT="text/html"),
    ],
    ids=[
        "GET",
        "PUT",
        "trailing slash",
        "an upper-case event id",
        "not an event id",
        "query string",
        "Origin",
        "a body",
        "a chunked body",
        "Accept HTML",
    ],
)
def test_joins_out_of_the_plain_one_reach_django_as_they_came(apps, admin_api, change):
    event = EventFactory()
    open_queue(admin_api, event)
    request = join_request(event, tokens_for(UserFactory())["access"])
    change(request)
    before = RedisSnapshot(event.pk)

    fast = call(apps.fast, request)
    assert apps.django.calls == 1
    before.restore()
    django = call(apps.django.handler, request)
    assert fast[0] == django[0]
    assert fast[2] == django[2]


def test_a_join_to_a_closed_queue_is_djangos_404(apps, admin_api):
    event = EventFactory()
    open_queue(admin_api, event)
    Queue.objects.update(enabled=False)
    redis.Redis.from_url(REDIS_TEST_URL).hset(stores._keys(event.pk)[0], "enabled", "0")
    status, _, body = call(apps.fast, join_request(event, tokens_for(UserFactory())["access"]))
    assert apps.django.calls == 1
    assert status.startswith("404") and json.loads(body)["code"] == "not_found"


def test_a_join_to_a_queue_redis_does_not_hold_yet_is_djangos(apps, admin_api):
    event = EventFactory()
    open_queue(admin_api, event)
    redis.Redis.from_url(REDIS_TEST_URL).delete(*stores._keys(event.pk))  # as after a restart
    person = UserFactory()

    status, _, body = call(apps.fast, join_request(event, tokens_for(person)["access"]))
    assert apps.django.calls == 1  # Django seeds Redis from the queue's row
    assert status == "201 Created" and json.loads(body)["position"] == 1
    status, _, _ = call(apps.fast, join_request(event, tokens_for(UserFactory())["access"]))
    assert apps.django.calls == 1 and status == "201 Created"


def test_a_join_to_an_event_without_a_queue_is_djangos_404(apps):
    event = EventFactory()
    status, _, body = call(apps.fast, join_request(event, tokens_for(UserFactory())["access"]))
    assert apps.django.calls == 1
    assert status.startswith("404") and json.loads(body)["code"] == "not_found"
    assert not redis.Redis.from_url(REDIS_TEST_URL).exists(*stores._keys(event.pk))


def test_a_poll_over_https_carries_hsts_as_djangos_does(redis_queues, admin_api, settings):
    settings.SECURE_HSTS_SECONDS = 3600
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    django = CountingDjango()
    fast = QueueFastPath(django)
    _, access, place = queued(admin_api)
    request = environ(f"/api/queue/{place}", access, HTTP_X_FORWARDED_PROTO="https")

    answer = call(fast, request)
    assert django.calls == 0
    assert answer == call(django.handler, request)
    assert ("Strict-Transport-Security", "max-age=3600; includeSubDomains") in answer[1]


def test_an_incoming_request_id_that_is_not_plain_is_replaced_as_django_replaces_it(
    apps, admin_api
):
    _, access, place = queued(admin_api)
    _, headers, _ = call(apps.fast, environ(f"/api/queue/{place}", access, HTTP_X_REQUEST_ID="a b"))
    assert apps.django.calls == 0
    request_id = dict(headers)["X-Request-ID"]
    assert request_id != "a b" and len(request_id) == 32


def other_key_token(user) -> str:
    token = AccessToken.for_user(user)
    token["role"] = user.role
    return jwt.encode(token.payload, "not-the-signing-key-but-as-long-as-one", algorithm="HS256")


def expired_token(user) -> str:
    token = AccessToken.for_user(user)
    token["role"] = user.role
    token.set_exp(lifetime=-timedelta(seconds=1))
    return str(token)


def refresh_token(user) -> str:
    return tokens_for(user)["refresh"]


def roleless_token(user) -> str:
    return str(AccessToken.for_user(user))  # the account row decides: Django's lookup


# Tokens the fast path leaves to Django: (how to make one for the person, Django's status to
# their poll, to their join). Another person's token is not one for a join: it joins as them.
REFUSED_TOKENS = {
    "no token": (lambda person: None, 401, 401),
    "not a token": (lambda person: "not-a-jwt", 401, 401),
    "signed with another key": (other_key_token, 401, 401),
    "expired": (expired_token, 401, 401),
    "a refresh token": (refresh_token, 401, 401),
    "another person's access": (lambda person: tokens_for(UserFactory())["access"], 404, None),
    "no role claim": (roleless_token, 200, 201),
}


@pytest.mark.parametrize(
    ("access", "status"),
    [(make, poll) for make, poll, _ in REFUSED_TOKENS.values()],
    ids=list(REFUSED_TOKENS),
)
def test_tokens_the_fast_path_does_not_take_get_djangos_own_answer(apps, admin_api, access, status):
    person, _, place = queued(admin_api)
    request = environ(f"/api/queue/{place}", access(person))

    fast = call(apps.fast, request)
    assert apps.django.calls == 1
    django = call(apps.django.handler, request)
    assert fast[0] == django[0] and fast[0].startswith(str(status))
    if status != 200:
        assert fast[2] == django[2]
        assert dict(fast[1])["Content-Type"] == "application/problem+json"


@pytest.mark.parametrize(
    ("access", "status"),
    [(make, join) for make, _, join in REFUSED_TOKENS.values() if join],
    ids=[name for name, (_, _, join) in REFUSED_TOKENS.items() if join],
)
def test_joins_with_tokens_the_fast_path_does_not_take_get_djangos_own_answer(
    apps, admin_api, access, status
):
    event = EventFactory()
    open_queue(admin_api, event)
    request = join_request(event, access(UserFactory()))
    before = RedisSnapshot(event.pk)

    fast = call(apps.fast, request)
    assert apps.django.calls == 1
    before.restore()
    django = call(apps.django.handler, request)
    assert fast[0] == django[0] and fast[0].startswith(str(status))
    assert fast[2] == django[2] if status == 401 else json.loads(fast[2])["position"] == 1


@pytest.mark.parametrize(
    "change",
    [
        lambda r: r.update(REQUEST_METHOD="HEAD"),
        lambda r: r.update(REQUEST_METHOD="POST"),
        lambda r: r.update(PATH_INFO=r["PATH_INFO"] + "/"),
        lambda r: r.update(QUERY_STRING="format=json"),
        lambda r: r.update(HTTP_ORIGIN="https://shop.example.com"),
        lambda r: r.update(HTTP_ACCEPT="text/html"),
        lambda r: r.update(HTTP_HOST="evil.example.com"),
        lambda r: r.update(CONTENT_LENGTH="2", CONTENT_TYPE="application/json"),
        lambda r: r.update(HTTP_TRANSFER_ENCODING="chunked"),
        lambda r: r.update(PATH_INFO=r["PATH_INFO"][:-2] + "xx"),
        lambda r: r.update(PATH_INFO="/api/queue/not-a-place"),
    ],
    ids=[
        "HEAD",
        "POST",
        "trailing slash",
        "query string",
        "Origin",
        "Accept HTML",
        "Host not allowed",
        "a body",
        "a chunked body",
        "a changed place token",
        "not a place token",
    ],
)
def test_requests_out_of_the_plain_poll_reach_django_as_they_came(apps, admin_api, change):
    _, access, place = queued(admin_api)
    request = environ(f"/api/queue/{place}", access)
    change(request)

    fast = call(apps.fast, request)
    assert apps.django.calls == 1
    django = call(apps.django.handler, request)
    assert fast[0] == django[0]
    assert fast[2] == django[2]


@pytest.mark.parametrize("where", ["no Redis", "throttles counted elsewhere"])
def test_without_redis_for_both_queues_and_throttles_django_answers(
    apps, admin_api, settings, where
):
    _, access, place = queued(admin_api)
    if where == "no Redis":
        settings.REDIS_URL = ""
    else:
        settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    fast = call(apps.fast, environ(f"/api/queue/{place}", access))
    assert apps.django.calls == 1
    assert fast[0] != "200 OK" if where == "no Redis" else fast[0] == "200 OK"


def test_a_closed_queue_is_djangos_404(apps, admin_api):
    _, access, place = queued(admin_api)
    Queue.objects.update(enabled=False)
    redis.Redis.from_url(REDIS_TEST_URL).hset(
        stores._keys(Queue.objects.get().event_id)[0], "enabled", "0"
    )
    status, _, body = call(apps.fast, environ(f"/api/queue/{place}", access))
    assert apps.django.calls == 1
    assert status.startswith("404") and json.loads(body)["code"] == "not_found"


@pytest.mark.parametrize("kind", ["join", "poll"])
def test_redis_failing_sends_joins_and_polls_to_djangos_fail_open_for_a_while(
    apps, admin_api, settings, kind
):
    _, access, place = queued(admin_api)
    event = Queue.objects.get().event
    down = "redis://127.0.0.1:1/0"
    settings.REDIS_URL = down
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": down}
    }
    if kind == "join":
        request = join_request(event, tokens_for(UserFactory())["access"])
    else:
        request = environ(f"/api/queue/{place}", access)
    first = call(apps.fast, request)
    assert apps.django.calls == 1
    assert first[0] == ("201 Created" if kind == "join" else "200 OK")
    assert json.loads(first[2])["status"] == "admitted"
    call(apps.fast, request)
    assert apps.django.calls == 2  # no second try at Redis first: straight to Django


def test_joins_and_polls_before_django_and_through_it_share_the_per_user_throttle(
    apps, admin_api, settings
):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {
            **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
            "user": "4/hour",
        },
    }
    _, access, place = queued(admin_api)  # the join counts one
    a_poll = environ(f"/api/queue/{place}", access)
    assert call(apps.django.handler, a_poll)[0] == "200 OK"
    assert call(apps.fast, a_poll)[0] == "200 OK"
    event = EventFactory()
    open_queue(admin_api, event)
    assert call(apps.fast, join_request(event, access))[0] == "201 Created"
    assert apps.django.calls == 0

    for request in (a_poll, join_request(event, access)):
        status, headers, body = call(apps.fast, request)
        assert status.startswith("429")  # over the limit: Django answers, with its 429
        assert json.loads(body)["code"] == "throttled"
        assert int(dict(headers)["Retry-After"]) > 0
    assert apps.django.calls == 2
    # the refused join took no place
    assert int(redis.Redis.from_url(REDIS_TEST_URL).hget(stores._keys(event.pk)[0], "joined")) == 1


@pytest.mark.parametrize("kind", ["join", "poll"])
def test_a_join_or_poll_before_django_writes_djangos_request_line(apps, admin_api, kind):
    person, access, place = queued(admin_api)
    forwarded = {"HTTP_X_FORWARDED_FOR": "203.0.113.9"}
    if kind == "join":
        request = join_request(Queue.objects.get().event, access, **forwarded)
    else:
        request = environ(f"/api/queue/{place}", access, **forwarded)
    records = []
    handler = logging.Handler()
    handler.emit = records.append
    request_log = logging.getLogger("evently.request")
    request_log.addHandler(handler)
    level = request_log.level
    request_log.setLevel(logging.INFO)
    try:
        call(apps.fast, request)
        call(apps.django.handler, request)
    finally:
        request_log.removeHandler(handler)
        request_log.setLevel(level)
    assert apps.django.calls == 0
    fields = ("request_id", "method", "path", "status", "user_id", "remote_addr", "levelno")
    fast, django = ({f: getattr(r, f) for f in fields} for r in records)
    assert fast == django
    assert fast["user_id"] == str(person.pk) and fast["status"] == 200
    assert records[0].getMessage().rsplit(" ", 1)[0] == records[1].getMessage().rsplit(" ", 1)[0]


@pytest.mark.parametrize("kind", ["new join", "join again", "poll"])
def test_metrics_count_a_join_or_poll_before_django_as_djangos_under_the_route(
    redis_queues, admin_api, monkeypatch, kind
):
    from prometheus_client import CollectorRegistry, Counter, Histogram

    registry = CollectorRegistry()
    requests = Counter("t_requests", "", ["method", "route", "status"], registry=registry)
    seconds = Histogram("t_seconds", "", ["route"], registry=registry)
    monkeypatch.setattr(metrics, "ENABLED", True)
    monkeypatch.setattr(metrics, "REQUESTS", requests)
    monkeypatch.setattr(metrics, "REQUEST_SECONDS", seconds)
    monkeypatch.setattr(metrics, "_request_children", {})
    django = CountingDjango()  # with RequestMetricsMiddleware, metrics being on
    fast = QueueFastPath(django)
    _, access, place = queued(admin_api)
    event = Queue.objects.get().event
    join_route = {"method": "POST", "route": "api/events/<event_id>/queue"}
    if kind == "new join":
        request = join_request(event, tokens_for(UserFactory())["access"])
        labels = {**join_route, "status": "201"}
    elif kind == "join again":
        request = join_request(event, access)
        labels = {**join_route, "status": "200"}
    else:
        request = environ(f"/api/queue/{place}", access)
        labels = {"method": "GET", "route": "api/queue/<token>", "status": "200"}

    timed = {"route": labels["route"]}

    def counted():  # the joins of `queued` count too
        return [
            registry.get_sample_value("t_requests_total", labels) or 0,
            registry.get_sample_value("t_seconds_count", timed) or 0,
        ]

    before = counted()
    redis_before = RedisSnapshot(event.pk)

    call(fast, request)
    assert django.calls == 0
    assert counted() == [before[0] + 1, before[1] + 1]
    redis_before.restore()  # so that Django's answer to a new join is a 201 too
    call(django.handler, request)
    assert counted() == [before[0] + 2, before[1] + 2]


def test_the_view_the_fast_path_stands_for_has_the_policy_it_mirrors():
    """The fast path checks what these classes check; a change here must change it too."""
    match = resolve("/api/queue/token")
    assert match.func.view_class is QueuePlaceView
    assert QueuePlaceView.permission_classes == [ClaimsOnly]
    assert QueuePlaceView.throttle_classes == [UserRateThrottle]
    assert QueuePlaceView.authentication_classes == [ClaimsJWTAuthentication]
    match = resolve("/api/events/00000000-0000-0000-0000-000000000000/queue")
    assert match.func.view_class is QueueJoinView
    assert QueueJoinView.permission_classes == [ClaimsOnly]
    assert QueueJoinView.throttle_classes == [UserRateThrottle]
    assert QueueJoinView.authentication_classes == [ClaimsJWTAuthentication]


def test_the_wsgi_application_is_django_behind_the_fast_path():
    code = (
        "import evently.wsgi as w; from waitingroom.fastpath import QueueFastPath; "
        "assert isinstance(w.application, QueueFastPath); "
        "assert w.application.django is w.django_application"
    )
    result = run_python(code, DEBUG="false", SECRET_KEY="s" * 50)
    assert result.returncode == 0, result.stderr
