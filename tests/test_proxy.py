"""nginx in front of gunicorn, as docker-compose.yml ships it: deploy/nginx/evently.conf.template
rendered for loopback and run by Debian's nginx in front of the production gunicorn command
(gunicorn.conf.py, three sync workers) on the test database.

Slow clients are the reason for the proxy: a sync worker serves one connection from its first
byte to its last, so a client that trickles its headers holds a worker, and three such clients
hold them all. The control case sends the same slow clients straight to gunicorn and shows
/api/health stop answering, so the proxy case is known to measure something.
"""

import http.client
import http.server
import json
import os
import select
import socket
import threading
import time
import uuid
from contextlib import contextmanager, suppress
from urllib.parse import urlsplit

import pytest
from django.conf import settings

from tests.factories import EventFactory
from tests.server import gunicorn, nginx, nginx_binary

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

WORKERS = 3
SLOW_CLIENTS = 32
# A health check that takes longer than this has failed, for a load balancer as for this test.
PATIENCE = 1.0
METRICS_TOKEN = "metrics-token-for-the-proxy-test"


@pytest.fixture(scope="module")
def nginx_path():
    path = nginx_binary()
    if path is None:
        message = (
            "Debian's nginx is not installed (apt-get install nginx; scripts/test.sh installs "
            "it when run as root)"
        )
        if os.environ.get("CI"):
            pytest.fail(message + ": CI is set, so the proxy test may not be skipped")
        pytest.skip(message)
    return path


@pytest.fixture(scope="module")
def servers(nginx_path, django_db_setup, tmp_path_factory):
    """(gunicorn's address, nginx's address, nginx's access log, gunicorn's log lines), both
    configured as docker-compose.yml runs them."""
    log: list[str] = []
    env = {
        "NUM_PROXIES": "1",
        "LOG_FORMAT": "json",
        "LOG_LEVEL": "INFO",
        "METRICS_TOKEN": METRICS_TOKEN,
    }
    with (
        gunicorn(workers=WORKERS, production=True, env=env, log=log) as (app, _),
        nginx(
            upstream=urlsplit(app).netloc,
            max_request_bytes=settings.DATA_UPLOAD_MAX_MEMORY_SIZE,
            directory=tmp_path_factory.mktemp("nginx"),
        ) as (proxy, access_log),
    ):
        yield app, proxy, access_log, log


def request(base: str, method: str = "GET", path: str = "/api/health", *, body=None, headers=None):
    """(status, headers, body, seconds) of one request on a new connection; raises
    TimeoutError if the answer takes longer than PATIENCE."""
    address = urlsplit(base)
    connection = http.client.HTTPConnection(address.hostname, address.port, timeout=PATIENCE)
    started = time.monotonic()
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        content = response.read()
        return response.status, response.headers, content, time.monotonic() - started
    finally:
        connection.close()


def wait_for(found, timeout: float = 5):
    """found()'s first true value, polled until `timeout`; None if there was none."""
    deadline = time.monotonic() + timeout
    while True:
        value = found()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.05)


def wait_until_healthy(base: str) -> None:
    """Until /api/health answers promptly (a previous test's slow clients are gone)."""

    def healthy():
        try:
            return request(base)[0] == 200
        except OSError:
            return False

    assert wait_for(healthy, timeout=15), f"{base}/api/health does not answer"


@contextmanager
def slow_clients(base: str, count: int = SLOW_CLIENTS):
    """`count` connections that send a request line, then one header line a second, and never
    end their headers (slowloris). Yields a function counting those the server still holds
    open without having answered. Closed on exit."""
    address = urlsplit(base)
    sockets = []
    stop = threading.Event()

    def trickle():
        line = 0
        while not stop.wait(1):
            line += 1
            for sock in sockets:
                # A connection the server closed has stopped costing it anything.
                with suppress(OSError):
                    sock.sendall(f"X-Slow-{line}: {line}\r\n".encode())

    thread = threading.Thread(target=trickle, daemon=True)
    try:
        for _ in range(count):
            sock = socket.create_connection((address.hostname, address.port), timeout=5)
            sockets.append(sock)
            sock.sendall(f"GET /api/health HTTP/1.1\r\nHost: {address.netloc}\r\n".encode())
        thread.start()
        # Let every connection be taken up and a header line go out before measuring.
        time.sleep(1.5)
        yield lambda: sum(waiting(sock) for sock in sockets)
    finally:
        stop.set()
        if thread.is_alive():
            thread.join(5)
        for sock in sockets:
            sock.close()


def waiting(sock: socket.socket) -> bool:
    """Whether the server holds this connection open and has sent nothing on it yet: nothing
    to read, neither an answer nor the end of the connection."""
    readable, _, _ = select.select([sock], [], [], 0)
    return not readable


def health_latencies(base: str, times: int) -> list[float | None]:
    """Seconds /api/health took to answer 200, or None where it did not within PATIENCE."""
    latencies: list[float | None] = []
    for _ in range(times):
        try:
            status, _, _, seconds = request(base)
            latencies.append(seconds if status == 200 else None)
        except TimeoutError:
            latencies.append(None)
        time.sleep(0.1)
    return latencies


def app_log_line(log: list[str], request_id: str, timeout: float = 5) -> dict | None:
    """The app's request log line for `request_id`, or None if none came within `timeout`."""

    def found():
        for text in list(log):
            if request_id in text:
                line = json.loads(text)
                if line.get("logger") == "evently.request" and line["request_id"] == request_id:
                    return line
        return None

    return wait_for(found, timeout)


# --- slow clients -----------------------------------------------------------------------------


def test_slow_header_clients_leave_health_answering_through_nginx_within_a_second(servers):
    app, proxy, _, _ = servers
    wait_until_healthy(app)
    with slow_clients(proxy) as held_open:
        latencies = health_latencies(proxy, times=5)
        # nginx still holds every slow client: it absorbed them rather than turned them away.
        assert held_open() == SLOW_CLIENTS
    print(f"through nginx, {SLOW_CLIENTS} slow clients: /api/health in {latencies} s")
    assert None not in latencies, latencies
    assert max(latencies) < PATIENCE


def test_control_the_same_slow_clients_straight_to_gunicorn_stop_health_answering(servers):
    app, _, _, _ = servers
    wait_until_healthy(app)
    with slow_clients(app) as held_open:
        latencies = health_latencies(app, times=2)
        assert held_open() == SLOW_CLIENTS
    print(f"straight to gunicorn, {SLOW_CLIENTS} slow clients: /api/health in {latencies} s")
    # Every worker is stuck reading a slow client's headers: nothing answers.
    assert latencies == [None, None]
    # And once the slow clients are gone, the workers come back.
    wait_until_healthy(app)


# --- what nginx passes on ---------------------------------------------------------------------


def test_nginx_replaces_a_client_written_x_forwarded_for_with_the_address_it_saw(servers):
    app, proxy, _, log = servers
    spoofed = {"X-Forwarded-For": "203.0.113.9"}

    request_id = f"xff-{uuid.uuid4().hex[:12]}"
    status, headers, _, _ = request(proxy, headers={**spoofed, "X-Request-ID": request_id})
    assert status == 200
    # The client's request id goes through to the app and back.
    assert headers["X-Request-ID"] == request_id
    line = app_log_line(log, request_id)
    assert line is not None and line["remote_addr"] == "127.0.0.1", line

    # Control: the app (NUM_PROXIES=1) believes whatever reaches it directly, which is why
    # gunicorn must be reachable by nginx alone.
    request_id = f"xff-{uuid.uuid4().hex[:12]}"
    assert request(app, headers={**spoofed, "X-Request-ID": request_id})[0] == 200
    line = app_log_line(log, request_id)
    assert line is not None and line["remote_addr"] == "203.0.113.9", line


def test_a_request_without_an_id_gets_nginx_s_id_in_both_logs(servers):
    _, proxy, access_log, log = servers
    status, headers, _, _ = request(proxy)
    assert status == 200
    request_id = headers["X-Request-ID"]
    assert app_log_line(log, request_id) is not None
    entries = wait_for(
        lambda: [
            json.loads(line) for line in access_log.read_text().splitlines() if request_id in line
        ]
    )
    assert [(entry["status"], entry["uri"], entry["remote"]) for entry in entries] == [
        (200, "/api/health", "127.0.0.1")
    ]


def test_links_the_app_builds_point_back_at_the_proxy(servers):
    _, proxy, _, _ = servers
    EventFactory.create_batch(2)
    status, _, body, _ = request(proxy, path="/api/events?limit=1")
    assert status == 200
    assert json.loads(body)["next"].startswith(f"{proxy}/api/events?")


# --- the body limit ---------------------------------------------------------------------------


def login_body(size: int) -> bytes:
    """A login request of exactly `size` bytes (JSON padded with spaces)."""
    body = json.dumps({"email": "nobody@example.com", "password": "wrong"}).encode()
    return body + b" " * (size - len(body))


def test_a_body_over_the_apps_limit_gets_413_from_nginx_in_the_apps_own_shape(servers):
    app, proxy, _, log = servers
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    json_type = {"Content-Type": "application/json"}

    request_id = f"big-{uuid.uuid4().hex[:12]}"
    status, headers, body, _ = request(
        proxy,
        "POST",
        "/api/auth/login",
        body=login_body(limit + 1),
        headers={**json_type, "X-Request-ID": request_id},
    )
    assert status == 413
    assert headers["Content-Type"] == "application/problem+json"
    assert headers["X-Request-ID"] == request_id
    # Refused by nginx: the app never saw it.
    assert app_log_line(log, request_id, timeout=1) is None
    # The same document the app itself sends for that body.
    direct = request(app, "POST", "/api/auth/login", body=login_body(limit + 1), headers=json_type)
    assert direct[0] == 413
    assert json.loads(body) == json.loads(direct[2])

    # A body of exactly the limit is the app's to judge: the two limits are the same.
    request_id = f"big-{uuid.uuid4().hex[:12]}"
    status, _, _, _ = request(
        proxy,
        "POST",
        "/api/auth/login",
        body=login_body(limit),
        headers={**json_type, "X-Request-ID": request_id},
    )
    assert status == 401  # wrong credentials
    line = app_log_line(log, request_id)
    assert line is not None and line["status"] == 401


class EchoHeaders(http.server.BaseHTTPRequestHandler):
    """An upstream that answers with the request headers it received, as JSON."""

    def do_GET(self):
        body = json.dumps({name.lower(): value for name, value in self.headers.items()}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format, *args):
        pass


def test_the_forwarded_headers_are_nginx_s_own_not_the_client_s(nginx_path, tmp_path):
    echo = http.server.ThreadingHTTPServer(("127.0.0.1", 0), EchoHeaders)
    thread = threading.Thread(target=echo.serve_forever, daemon=True)
    thread.start()
    try:
        upstream = f"127.0.0.1:{echo.server_address[1]}"
        with nginx(upstream=upstream, max_request_bytes=1024 * 1024, directory=tmp_path) as (
            proxy,
            _,
        ):
            spoofed = {"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https"}
            _, _, body, _ = request(proxy, headers={**spoofed, "X-Request-ID": "edge-1.a_B"})
            seen = json.loads(body)
            _, _, body, _ = request(proxy, headers={"X-Request-ID": "not a sane id"})
            generated = json.loads(body)["x-request-id"]
    finally:
        echo.shutdown()
        echo.server_close()
        thread.join(5)
    # Replaced, not appended to: the app never sees an address the client wrote.
    assert seen["x-forwarded-for"] == "127.0.0.1"
    assert seen["x-forwarded-proto"] == "http"
    assert seen["host"] == urlsplit(proxy).netloc
    assert seen["x-request-id"] == "edge-1.a_B"
    # An id the app would not keep is replaced by nginx's own, which both logs then share.
    assert len(generated) == 32 and int(generated, 16) >= 0


# --- the app down -----------------------------------------------------------------------------


def test_nginx_answers_a_problem_document_when_the_app_does_not(nginx_path, tmp_path):
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        nowhere = f"127.0.0.1:{closed.getsockname()[1]}"
        # Bound but not listening: connections are refused.
        with nginx(upstream=nowhere, max_request_bytes=1024 * 1024, directory=tmp_path) as (
            proxy,
            _,
        ):
            status, headers, body, _ = request(proxy)
    assert status == 503
    assert headers["Content-Type"] == "application/problem+json"
    assert headers["Retry-After"] == "5"
    problem = json.loads(body)
    assert (problem["status"], problem["code"]) == (503, "service_unavailable")


# --- metrics ----------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/metrics", "/metrics/", "//metrics", "/metrics?x=1"])
def test_the_public_port_never_serves_metrics_even_with_the_token(servers, path):
    app, proxy, _, _ = servers
    auth = {"Authorization": f"Bearer {METRICS_TOKEN}"}
    status, headers, body, _ = request(proxy, path=path, headers=auth)
    assert status == 404
    assert headers["Content-Type"] == "application/problem+json"
    assert json.loads(body)["code"] == "not_found"
    # The control: gunicorn itself serves it to the same request.
    status, _, body, _ = request(app, path="/metrics", headers=auth)
    assert status == 200
    assert b"evently_database_up 1" in body
