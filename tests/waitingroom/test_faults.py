"""The waiting room under faults: Redis restarted, Redis gone, several web servers at once."""

import json
import logging
import shutil
import subprocess
import time
import urllib.error
import urllib.request
from contextlib import ExitStack, contextmanager

import pytest
import redis

from accounts.tokens import tokens_for
from tests.conftest import client_for
from tests.factories import AdminFactory, EventFactory, UserFactory
from tests.server import free_port, gunicorn
from tests.waitingroom.conftest import REDIS_TEST_URL, _redis_up
from waitingroom import services, stores


@contextmanager
def redis_server(directory):
    """A redis-server of the test's own on a free port, with the append-only file on: what
    the operations guide asks production to run the queue on."""
    if shutil.which("redis-server") is None:
        pytest.skip("needs redis-server")
    port = free_port()
    command = [
        "redis-server",
        "--port",
        str(port),
        "--bind",
        "127.0.0.1",
        "--dir",
        str(directory),
        "--appendonly",
        "yes",
        "--save",
        "",
    ]

    def start():
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        client = redis.Redis(port=port, socket_connect_timeout=1)
        for _ in range(100):
            try:
                client.ping()
                return process
            except redis.RedisError:
                time.sleep(0.05)
        process.kill()
        raise RuntimeError("redis-server did not start")

    state = {"process": start()}

    def restart():
        redis.Redis(port=port).shutdown()  # as a restart does: the AOF is flushed, then exit
        state["process"].wait(10)
        state["process"] = start()

    try:
        yield f"redis://127.0.0.1:{port}/0", restart
    finally:
        state["process"].terminate()
        state["process"].wait(10)


@pytest.mark.django_db
def test_a_redis_restart_keeps_every_place_and_joining_resumes_after_them(
    tmp_path, settings, admin_api
):
    with redis_server(tmp_path) as (url, restart):
        settings.REDIS_URL = url
        event = EventFactory()
        body = {"queue_enabled": True, "queue_rate": 6}
        assert admin_api.patch(f"/api/admin/events/{event.pk}/queue", body, format="json")
        people = [UserFactory() for _ in range(3)]
        places = [client_for(p).post(f"/api/events/{event.pk}/queue").json() for p in people]
        assert [p["position"] for p in places] == [1, 2, 3]
        restart()
        after = [
            client_for(p).get(f"/api/queue/{place['token']}").json()
            for p, place in zip(people, places, strict=True)
        ]
        assert [p["position"] for p in after] == [1, 2, 3]
        newcomer = client_for(UserFactory()).post(f"/api/events/{event.pk}/queue")
        assert newcomer.status_code == 201
        assert newcomer.json()["position"] == 4
        again = client_for(people[1]).post(f"/api/events/{event.pk}/queue")
        assert again.status_code == 200 and again.json()["token"] == places[1]["token"]


@pytest.mark.django_db
def test_with_redis_unreachable_the_queue_fails_open_and_says_so(settings, caplog, user):
    event = EventFactory()
    settings.REDIS_URL = ""
    services.queue_configure(event_id=event.pk, enabled=True, rate=6)
    settings.REDIS_URL = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    services._outage_warning.reset()
    with caplog.at_level(logging.WARNING, logger="waitingroom.services"):
        first = client_for(user).post(f"/api/events/{event.pk}/queue")
        second = client_for(UserFactory()).post(f"/api/events/{event.pk}/queue")
    assert first.status_code == 201 and second.status_code == 201
    assert first.json()["status"] == "admitted"
    outage_lines = [r for r in caplog.records if "Redis unreachable" in r.getMessage()]
    assert len(outage_lines) == 1  # at most one line every ten seconds
    booked = client_for(user).post(
        "/api/bookings",
        {"event_id": str(event.pk), "quantity": 1},
        format="json",
        HTTP_EVENTLY_ADMISSION=first.json()["admission_token"],
    )
    assert booked.status_code == 201


@pytest.mark.django_db
def test_a_poll_on_redis_runs_no_database_query(
    settings, admin_api, user, django_assert_num_queries
):
    if not _redis_up():
        pytest.skip("needs Redis on 127.0.0.1:6379")
    settings.REDIS_URL = REDIS_TEST_URL
    event = EventFactory()
    body = {"queue_enabled": True, "queue_rate": 6}
    assert admin_api.patch(f"/api/admin/events/{event.pk}/queue", body, format="json")
    api = client_for(user)
    token = api.post(f"/api/events/{event.pk}/queue").json()["token"]
    try:
        with django_assert_num_queries(0):
            assert api.get(f"/api/queue/{token}").status_code == 200
            assert api.post(f"/api/events/{event.pk}/queue").status_code == 200
    finally:
        redis.Redis.from_url(REDIS_TEST_URL).delete(*stores._keys(event.pk))


def _call(method, url, token):
    request = urllib.request.Request(
        url, method=method, headers={"Authorization": f"Bearer {token}"}
    )
    try:
        with urllib.request.urlopen(request, timeout=20) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_web_servers_share_one_queue(settings):
    if not _redis_up():
        pytest.skip("needs Redis on 127.0.0.1:6379")
    settings.REDIS_URL = REDIS_TEST_URL
    AdminFactory()
    event = EventFactory()
    services.queue_configure(event_id=event.pk, enabled=True, rate=6)
    people = [tokens_for(UserFactory())["access"] for _ in range(6)]
    env = {"REDIS_URL": REDIS_TEST_URL}
    try:
        with ExitStack() as stack:
            servers = [stack.enter_context(gunicorn(workers=2, env=env))[0] for _ in range(2)]
            joined = [
                _call("POST", f"{servers[i % 2]}/api/events/{event.pk}/queue", token)
                for i, token in enumerate(people)
            ]
            assert [status for status, _ in joined] == [201] * 6
            assert [body["position"] for _, body in joined] == [1, 2, 3, 4, 5, 6]
            # Each place reads the same from the other server, and joining again there
            # finds it.
            for i, (token, (_, body)) in enumerate(zip(people, joined, strict=True)):
                other = servers[(i + 1) % 2]
                status, now = _call("GET", f"{other}/api/queue/{body['token']}", token)
                assert status == 200 and now["position"] == i + 1
                status, again = _call("POST", f"{other}/api/events/{event.pk}/queue", token)
                assert status == 200 and again["token"] == body["token"]
    finally:
        redis.Redis.from_url(REDIS_TEST_URL).delete(*stores._keys(event.pk))
