"""`make bench`: the flash-sale benchmark, reported as ratios and CPU per booking from one run.

Serves Evently and two floors side by side, each with gunicorn and the project's
gunicorn.conf.py on one fresh PostgreSQL database: the plain floor (a Django view booking in
raw SQL, no middleware, no project code) and the framework floor (the same SQL behind a DRF
APIView with simplejwt claims-only authentication); see bench/floors. wrk drives one service at
a time from a separate process, in interleaved rounds, and the table goes to
docs/benchmarks.md. Beside each rate it reports the CPU each booking cost the app's processes,
the database's and the cache's, read from /proc around the run (bench/cpu.py): on a shared,
noisy machine that moves far less than a rate.

Fails (exit 1) on any error or unexpected status in any run, or if the seat books do not
balance afterwards.
"""

import argparse
import json
import os
import platform
import resource
import runpy
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import cpu, crowd  # noqa: E402
from bench.prepare import (  # noqa: E402
    BENCHMARKS_DOC,
    EVENTLY,
    EVENTLY_METRICS,
    EVENTLY_NO_REDIS,
    FRAMEWORK,
    METRICS_TOKEN,
    PASSWORD,
    PLAIN,
    PORT_BASE,
    REDIS_URL,
    REFERENCE_FLOORS,
    WORK,
    Service,
    doc_sections,
    environment,
    fresh_database,
    heading,
    join_sections,
    read_requests,
    redis_answers,
    reference_bookings,
    reference_floors_present,
    reference_service,
    reference_setup,
    seed_events,
    seed_ticket_types,
    seed_users,
)

DB_NAME = os.environ.get("BENCH_DB", "evently_bench")
WRK_THREADS = 2
# Seconds to let a server finish the requests wrk left queued when it stopped: the next run
# then starts on an idle server (they put 150 ms into the p99 of the run after a 64-connection
# one), and their CPU and bookings fall inside the run that made them.
DRAIN = 1.0
# The sections of docs/benchmarks.md this command writes, some on some runs only (with Redis,
# the reference floors, `--granian`, growth). Every other section is another command's
# (bench/instructions.py, bench/checkout.py): a run keeps it as it was.
OWN_HEADINGS = (
    "## Flash sale: `POST /api/bookings`, one seat each",
    "## Evently against the floors",
    "## Where the CPU goes, per booking (ms, 16 connections)",
    "## On sale: one login per ten bookings, 16 connections",
    "## Throttle counters without Redis (16 connections, one hot event)",
    "## Metrics on and off (16 connections, one hot event)",
    "## On-sale with a queue: a crowd ten times the booking path",
    "## Evently against the reference floors (16 connections, one hot event)",
    "## Another WSGI server: granian beside gunicorn (16 connections, one hot event)",
    "## With an Idempotency-Key (16 connections, one hot event)",
    "## Growth: median latency (p50) as the data grows",
)


def log(message: str) -> None:
    print(f"[bench {datetime.now():%H:%M:%S}] {message}", flush=True)


class Server:
    """A service under gunicorn, configured by gunicorn.conf.py as production runs it (or,
    for `--granian`'s one measurement, under granian with as many single-threaded workers)."""

    def __init__(self, service: Service):
        self.service = service
        command = [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", service.application]
        if service.key == GRANIAN.key:
            command = [
                str(Path(sys.executable).parent / "granian"),
                "--interface",
                "wsgi",
                "--workers",
                str(gunicorn_workers()),
                "--blocking-threads",
                "1",
                "--host",
                "127.0.0.1",
                "--port",
                str(service.port),
                "--no-access-log",
                "--log-level",
                "warning",
                service.application,
            ]
        self.process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=service.env(dict(os.environ)),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    @property
    def master(self) -> int:
        return self.process.pid

    def wait_until_serving(self) -> None:
        for _ in range(150):
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn for {self.service.label} exited at start")
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{self.service.port}/", timeout=2)
                return
            except urllib.error.HTTPError:
                return  # any HTTP answer: a worker is serving
            except OSError:
                time.sleep(0.2)
        raise RuntimeError(f"gunicorn for {self.service.label} did not start")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(30)


@contextmanager
def servers(services: list[Service]):
    with ExitStack() as stack:
        running = {}
        for service in services:
            server = Server(service)
            stack.callback(server.stop)
            running[service.key] = server
        for server in running.values():
            server.wait_until_serving()
        yield running


def wrk_command(
    script: str,
    port: int,
    path: str,
    connections: int,
    seconds: float,
    threads: int,
    timeout: float = 10,
) -> list[str]:
    return [
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{seconds}s",
        "--timeout",
        f"{timeout}s",
        "-s",
        script,
        f"http://127.0.0.1:{port}{path}",
    ]


def wrk_result(out: str) -> dict:
    """What a wrk script that loads bench/report.lua printed: its RESULT, its STATUSES."""
    line = next(line for line in out.splitlines() if line.startswith("RESULT "))
    result = json.loads(line.removeprefix("RESULT "))
    statuses = next((ln for ln in out.splitlines() if ln.startswith("STATUSES ")), "")
    result["statuses"] = statuses.removeprefix("STATUSES ").strip()
    result["rps"] = result["requests"] / (result["duration_us"] / 1e6)
    return result


def wrk(
    script: str,
    port: int,
    path: str,
    connections: int,
    seconds: float,
    threads: int = WRK_THREADS,
    env: dict | None = None,
) -> dict:
    out = subprocess.run(
        wrk_command(script, port, path, connections, seconds, threads),
        cwd=ROOT,
        env={**os.environ, "EVENTLY_THREADS": str(threads), **(env or {})},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return wrk_result(out)


@dataclass(frozen=True)
class Scenario:
    key: str
    label: str
    service: Service
    connections: int
    events: int = 1  # how many events of its own it books
    mix: bool = False  # the on-sale mix: one login per ten bookings
    keyed: bool = False  # every booking sent with an Idempotency-Key of its own
    webhook: bool = False  # one webhook endpoint subscribed to booking.confirmed, active
    reference: bool = False  # a reference floor: POST /book, its own tables and tokens
    types: int = 1  # ticket types each of its events sells; more than one: booked by `items`


def webhook_endpoint_active(active: bool) -> None:
    """Switch the bench's one webhook endpoint (booking.confirmed) on or off. No worker sends
    its messages: the run measures what writing them costs the booking."""
    from webhooks.models import WebhookEndpoint

    WebhookEndpoint.objects.update(is_active=active)


def add_webhook_endpoint() -> None:
    from webhooks.models import WebhookEndpoint
    from webhooks.services import new_secret

    WebhookEndpoint.objects.create(
        url="https://hooks.example.com/evently",
        events=["booking.confirmed"],
        is_active=False,
        secret=new_secret(),
    )


def bookings_made(event_ids: list[str]) -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM bookings_booking WHERE event_id = ANY(%s::uuid[])", [event_ids]
        )
        return cursor.fetchone()[0]


def own_backend() -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def children_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def self_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


class FlashSale:
    """Runs the scenarios against the running servers, each measured from /proc around it."""

    def __init__(
        self,
        running: dict,
        event_sets: dict,
        redis_pid: int | None,
        users: int,
        type_sets: dict | None = None,
    ):
        self.running = running
        self.event_sets = event_sets
        self.type_sets = type_sets or {}
        self.redis_pid = redis_pid
        # Bookings made so far per scenario (each books events of its own): each run deals users
        # on from there, so no one nears the ten-ticket limit (the requests still in flight when
        # wrk stops count too).
        self.dealt = dict.fromkeys(event_sets, 0)
        self.users = users
        self.problems: list[str] = []

    def cache_seconds(self) -> float:
        return cpu.process_seconds(self.redis_pid) if self.redis_pid else 0.0

    def run(self, scenario: Scenario, seconds: float) -> dict:
        ids = self.event_sets[scenario.key]
        from bookings.models import MAX_TICKETS_PER_PERSON

        if scenario.reference:
            return self._run_reference(scenario, seconds)
        if self.dealt[scenario.key] > self.users * (MAX_TICKETS_PER_PERSON - 2):
            # Another run could deal someone an eleventh ticket: a 409, not a measurement.
            raise RuntimeError(f"{scenario.key}: too few users for its bookings; raise --users")
        (WORK / "events.txt").write_text("".join(f"{e}\n" for e in ids))
        types = self.type_sets.get(scenario.key, [])
        (WORK / "types.txt").write_text("".join(f"{t}\n" for t in types))
        env = {"EVENTLY_START": str(self.dealt[scenario.key]), "EVENTLY_PASSWORD": PASSWORD}
        if scenario.mix:
            # One connection per thread: the script times each kind of request itself.
            script, path, threads = "bench/onsale.lua", "/", scenario.connections
        else:
            script, path, threads = "bench/booking.lua", "/api/bookings", WRK_THREADS
            env["EVENTLY_PATH"] = path
            if scenario.keyed:
                env["EVENTLY_IDEMPOTENCY"] = "1"
        port, master = scenario.service.port, self.running[scenario.service.key].master
        before, exclude = bookings_made(ids), {own_backend()}

        app, cache = cpu.server_seconds(master), self.cache_seconds()
        machine, load, bench = cpu.machine_busy_seconds(), children_seconds(), self_seconds()
        started = time.monotonic()
        webhook_endpoint_active(scenario.webhook)
        try:
            with cpu.DatabaseBackends(DB_NAME, exclude) as database:
                result = wrk(script, port, path, scenario.connections, seconds, threads, env)
                time.sleep(DRAIN)
        finally:
            webhook_endpoint_active(False)
        elapsed = time.monotonic() - started
        seconds_of = {
            "app": cpu.server_seconds(master) - app,
            "db": database.seconds(),
            "cache": self.cache_seconds() - cache,
            "wrk": children_seconds() - load,
        }
        busy = cpu.machine_busy_seconds() - machine
        seconds_of["other"] = max(0.0, busy - sum(seconds_of.values()) - (self_seconds() - bench))

        self.dealt[scenario.key] += result["requests"] + scenario.connections
        result["bookings"] = bookings_made(ids) - before
        for name, spent in seconds_of.items():
            result[f"{name}_ms"] = 1000 * spent / max(result["bookings"], 1)
        result["db_cache_ms"] = result["db_ms"] + result["cache_ms"]
        result["other_cores"] = seconds_of["other"] / elapsed
        if scenario.mix:
            duration = result["duration_us"] / 1e6
            result["rps"] = result["booking_answers"] / duration
            result["logins_per_s"] = result["login_answers"] / duration
            result["p50_ms"], result["p99_ms"] = result["booking_p50_ms"], result["booking_p99_ms"]
        if result["errors"] or result["statuses"] or not result["bookings"]:
            self.problems.append(
                f"{scenario.key}: {result['errors']} errors, unexpected statuses "
                f"{result['statuses'] or 'none'}, {result['bookings']} bookings"
            )
        return result

    def _run_reference(self, scenario: Scenario, seconds: float) -> dict:
        """A reference floor, as its README runs it: `POST /book` with `{"event_id": "1",
        "quantity": 1}` (booking.lua's body, whose other fields its serializer ignores), the
        DRF floor's tokens, bookings counted in its own table."""
        (WORK / "events.txt").write_text("1\n")
        env = {
            "EVENTLY_PATH": "/book",
            "EVENTLY_REQUESTS": str(WORK / "reference_requests.txt"),
        }
        port, master = scenario.service.port, self.running[scenario.service.key].master
        before, exclude = reference_bookings(), {own_backend()}
        app, cache = cpu.server_seconds(master), self.cache_seconds()
        with cpu.DatabaseBackends(DB_NAME, exclude) as database:
            result = wrk("bench/booking.lua", port, "/book", scenario.connections, seconds, env=env)
            time.sleep(DRAIN)
        result["bookings"] = reference_bookings() - before
        spent = {
            "app": cpu.server_seconds(master) - app,
            "db": database.seconds(),
            "cache": self.cache_seconds() - cache,
        }
        for name, value in spent.items():
            result[f"{name}_ms"] = 1000 * value / max(result["bookings"], 1)
        result["db_cache_ms"] = result["db_ms"] + result["cache_ms"]
        for name in ("wrk_ms", "other_ms", "other_cores"):
            result[name] = 0.0
        if result["errors"] or result["statuses"] or not result["bookings"]:
            self.problems.append(
                f"{scenario.key}: {result['errors']} errors, unexpected statuses "
                f"{result['statuses'] or 'none'}, {result['bookings']} bookings"
            )
        return result

    def rounds(self, plan: list[Scenario], seconds: float) -> dict[str, dict]:
        # Unrecorded: every worker imports and connects on its first requests.
        for scenario in plan:
            if scenario.connections == 16:
                self.run(scenario, 2)
        results: dict[str, list] = {}
        for round_ in range(3):  # interleaved, so drift on a shared machine hits all alike
            for scenario in plan:
                result = self.run(scenario, seconds)
                results.setdefault(scenario.key, []).append(result)
                log(
                    f"round {round_ + 1} {scenario.key}: {result['rps']:.0f} bookings/s, "
                    f"p99 {result['p99_ms']:.1f} ms, app {result['app_ms']:.2f} ms, "
                    f"db {result['db_ms']:.2f} ms, cache {result['cache_ms']:.2f} ms a booking, "
                    f"errors {result['errors']}"
                )
        return {key: median_of(runs) for key, runs in results.items()}


MEDIAN_KEYS = (
    "rps",
    "p50_ms",
    "p99_ms",
    "app_ms",
    "db_ms",
    "cache_ms",
    "db_cache_ms",
    "wrk_ms",
    "other_ms",
    "other_cores",
    "logins_per_s",
    "login_p50_ms",
    "login_p99_ms",
)


def median_of(runs: list[dict]) -> dict:
    merged = {k: statistics.median(r[k] for r in runs) for k in MEDIAN_KEYS if k in runs[0]}
    merged["errors"] = sum(r["errors"] for r in runs)
    return merged


# Evently under granian, measured once beside gunicorn (`--granian`; granian must be installed
# in the virtualenv: `.venv/bin/pip install granian`). Production stays on gunicorn.
GRANIAN = Service(
    "evently-granian",
    "Evently under granian",
    "evently.settings",
    "evently.wsgi:application",
    PORT_BASE + 7,
)


def granian_installed() -> bool:
    return (Path(sys.executable).parent / "granian").exists()


REF_PLAIN = reference_service(
    "ref-plain", "reference plain floor (ref_app.py)", "ref_app", EVENTLY.port + 5, DB_NAME
)
REF_DRF = reference_service(
    "ref-drf", "reference DRF floor (ref_drf_app.py)", "ref_drf_app", EVENTLY.port + 6, DB_NAME
)


def flash_plan(redis: bool, reference: bool = False, granian: bool = False) -> list[Scenario]:
    hot = "one hot event"
    plan = [
        Scenario("evently-16", f"Evently, {hot}, 16 connections", EVENTLY, 16),
        # Beside metrics off in every round, so drift on the machine hits the pair alike.
        Scenario("metrics-16", f"Evently, metrics on, {hot}, 16 connections", EVENTLY_METRICS, 16),
        Scenario(
            "webhook-16",
            f"Evently, {hot}, one webhook endpoint subscribed to booking.confirmed, 16 connections",
            EVENTLY,
            16,
            webhook=True,
        ),
        Scenario("framework-16", f"framework floor, {hot}, 16 connections", FRAMEWORK, 16),
        Scenario("plain-16", f"plain floor, {hot}, 16 connections", PLAIN, 16),
        Scenario("spread-16", "Evently, 100 events, 16 connections", EVENTLY, 16, events=100),
        Scenario(
            "types-16",
            f"Evently, {hot} selling three ticket types (`items`), 16 connections",
            EVENTLY,
            16,
            types=3,
        ),
        Scenario(
            "keyed-16",
            f"Evently, {hot}, each booking with an Idempotency-Key, 16 connections",
            EVENTLY,
            16,
            keyed=True,
        ),
        Scenario(
            "onsale-16",
            "Evently on sale (1 login per 10 bookings), 16 connections",
            EVENTLY,
            16,
            mix=True,
        ),
        Scenario("evently-64", f"Evently, {hot}, 64 connections", EVENTLY, 64),
        Scenario("framework-64", f"framework floor, {hot}, 64 connections", FRAMEWORK, 64),
        Scenario("plain-64", f"plain floor, {hot}, 64 connections", PLAIN, 64),
    ]
    if reference:
        plan[5:5] = [
            Scenario(
                "ref-plain-16", f"{REF_PLAIN.label}, 16 connections", REF_PLAIN, 16, reference=True
            ),
            Scenario("ref-drf-16", f"{REF_DRF.label}, 16 connections", REF_DRF, 16, reference=True),
        ]
    if granian:  # right after Evently under gunicorn, in every round
        plan.insert(
            1,
            Scenario(
                "granian-16",
                f"Evently under granian ({gunicorn_workers()} workers, one thread each), "
                f"{hot}, 16 connections",
                GRANIAN,
                16,
            ),
        )
    if redis:
        plan.insert(
            6 + (2 if reference else 0) + (1 if granian else 0),
            Scenario(
                "no-redis-16",
                f"Evently, REDIS_URL unset, {hot}, 16 connections",
                EVENTLY_NO_REDIS,
                16,
            ),
        )
    return plan


def metrics_count_every_booking(event_ids: list[str]) -> list[str]:
    """The metrics service's scrape against its bookings in the database: workers were recycled
    during the runs (max_requests), and every booking they made must still be counted."""
    request = urllib.request.Request(
        f"http://127.0.0.1:{EVENTLY_METRICS.port}/metrics",
        headers={"Authorization": f"Bearer {METRICS_TOKEN}"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        text = response.read().decode()
    line = 'evently_bookings_total{result="booked"} '
    counted = next(float(x.removeprefix(line)) for x in text.splitlines() if x.startswith(line))
    made = bookings_made(event_ids)
    if counted != made:
        return [f"metrics: evently_bookings_total booked {counted:.0f}, bookings made {made}"]
    log(f"metrics: the scrape counts all {made} bookings of the metrics-on runs")
    return []


# The share of the path's rate docs/operations.md advises for a queue ("Choosing the rate").
GUIDED_RATE = 0.7


def onsale_with_queue(sale: FlashSale, sustained: float, booking_app_ms: float) -> dict:
    """The crowd scenario (bench/crowd.py): ten times the bookings a second the path
    sustained (`sustained`, Evently's 16-connection flash sale) arrive in the first seconds,
    on an event with its waiting room admitting at that rate, then on one admitting at the
    share of it docs/operations.md advises (GUIDED_RATE), then on one without a queue."""
    from waitingroom.services import queue_configure

    tokens = [token for token, _, _ in read_requests()]
    size = min(len(tokens), max(50, round(10 * sustained)))
    queued_event, guided_event, open_event = seed_events(3, "crowd")
    queue_configure(event_id=queued_event, enabled=True, rate=max(1, round(sustained * 60)))
    guided_rate = max(1, round(GUIDED_RATE * sustained * 60))
    queue_configure(event_id=guided_event, enabled=True, rate=guided_rate)
    master = sale.running[EVENTLY.key].master
    # Where the machine's CPU went while the crowd was served: the crowd's own client runs in
    # this process, on the same cores as the servers.
    app_before, cache_before = cpu.server_seconds(master), sale.cache_seconds()
    machine_before, client_before = cpu.machine_busy_seconds(), self_seconds()
    started = time.monotonic()
    with cpu.DatabaseBackends(DB_NAME, {own_backend()}) as database:
        with_queue = crowd.run_crowd(EVENTLY.port, queued_event, tokens[:size], queued=True)
    queued_wall = time.monotonic() - started
    queued_app = cpu.server_seconds(master) - app_before
    queued_cpu = {
        "app": queued_app,
        "db": database.seconds(),
        "cache": sale.cache_seconds() - cache_before,
        "client": self_seconds() - client_before,
        "busy": cpu.machine_busy_seconds() - machine_before,
    }
    time.sleep(DRAIN)
    # The CPU a poll costs: polls alone, from 16 clients, for a few seconds.
    load = crowd.Tally()
    app_before = cpu.server_seconds(master)
    polls = crowd.poll_load(EVENTLY.port, with_queue.places[:16], 4, load)
    poll_app_ms = 1000 * (cpu.server_seconds(master) - app_before) / max(polls, 1)
    time.sleep(DRAIN)
    guided = crowd.run_crowd(EVENTLY.port, guided_event, tokens[:size], queued=True)
    time.sleep(DRAIN)
    without = crowd.run_crowd(EVENTLY.port, open_event, tokens[:size], queued=False)
    time.sleep(DRAIN)
    result = {
        "crowd": size,
        "rate_per_minute": round(sustained * 60),
        "sustained": sustained,
        # The poll load's answers count among the queued crowd's 5xx.
        "queued": queued_figures(with_queue, extra_5xx=load.server_errors()),
        "poll_app_ms": poll_app_ms,
        "booking_app_ms": booking_app_ms,
        "queued_app_s": queued_app,
        "queued_cpu_s": queued_cpu,
        "queued_wall_s": queued_wall,
        "cores": os.cpu_count(),
        "guided": {**queued_figures(guided), "rate_per_minute": guided_rate},
        "open_rps": crowd.booking_rate(without.booked_at),
        "open_bookings": len(without.booked_at),
        "open_p99": without.p99("booking"),
        "open_timeouts": sum(without.timeouts.values()),
        "open_429": without.count("booking", 429),
        "open_409": without.count("booking", 409),
        "open_5xx": without.server_errors(),
    }
    errors = sum(result[run]["5xx"] for run in ("queued", "guided"))
    out_of_order = sum(result[run]["order_violations"] for run in ("queued", "guided"))
    if errors or out_of_order:
        sale.problems.append(
            f"on-sale with a queue: {errors} 5xx, {out_of_order} answers out of arrival order"
        )
    log(f"on-sale with a queue: {json.dumps(result)}")
    return result


def queued_figures(tally: crowd.Tally, extra_5xx: int = 0) -> dict:
    """What a crowd with the queue got: its admitted bookings, latencies and faults."""
    return {
        "rps": crowd.booking_rate(tally.booked_at),
        "bookings": len(tally.booked_at),
        "booking_p99": tally.p99("booking"),
        "poll_p99": tally.p99("poll"),
        "join_p99": tally.p99("join"),
        "polls": tally.count("poll"),
        "timeouts": sum(tally.timeouts.values()),
        "5xx": tally.server_errors() + extra_5xx,
        "order_violations": crowd.order_violations(tally.observed),
        "observations": len(tally.observed),
    }


# The target for admitted bookings a second, against the path with no crowd.
ADMITTED_TARGET = 0.9


def line_budget(q: dict) -> dict:
    """What the line may cost and what it did, in bookings' worth of CPU a person.

    Each person books once, and the path alone already fills the machine, so for admitted
    bookings to come at ADMITTED_TARGET of the path, everything else a person brings (their
    join and polls, and here the crowd's client on the same cores) may take at most
    1 / ADMITTED_TARGET - 1 of a booking's CPU. What they took: the servers' CPU during the
    queued crowd beyond its bookings (each counted at the flash sale's app CPU a booking), and
    the client's, each a person, over a booking's."""
    people = q["queued"]["bookings"]
    booking_ms = q["booking_app_ms"]
    if not people or not booking_ms:
        return {"allowed": 1 / ADMITTED_TARGET - 1, "line": 0.0, "client": 0.0, "line_ms": 0.0}
    line_ms = 1000 * q["queued_cpu_s"]["app"] / people - booking_ms
    return {
        "allowed": 1 / ADMITTED_TARGET - 1,
        "line_ms": line_ms,
        "line": line_ms / booking_ms,
        "client": 1000 * q["queued_cpu_s"]["client"] / people / booking_ms,
    }


def queue_section(q: dict) -> list[str]:
    def verdict(ok: bool) -> str:
        return "yes" if ok else "**no**"

    queued, guided = q["queued"], q["guided"]
    ratio = queued["rps"] / q["sustained"] if q["sustained"] else 0.0
    budget = line_budget(q)
    spent = q["queued_cpu_s"]
    cpu_ratio = q["poll_app_ms"] / q["booking_app_ms"] if q["booking_app_ms"] else 0.0
    return [
        "",
        "## On-sale with a queue: a crowd ten times the booking path",
        "",
        f"{q['crowd']} people (ten times the {q['sustained']:.0f} bookings a second of the "
        f"16-connection flash sale above) arrive over the first {crowd.ARRIVAL_SECONDS:.0f} "
        f"seconds, each with a connection of their own (bench/crowd.py). With the queue, the "
        f"event's waiting room admits {q['rate_per_minute']} people a minute (that rate); each "
        "person joins, polls when `Retry-After` says, and books with the admission. Without "
        "it, the same crowd books at once.",
        "",
        "| figure | value | target | met |",
        "|---|---:|---:|---|",
        f"| admitted bookings/s / the path with no crowd | {ratio:.2f} "
        f"({queued['rps']:.0f} / {q['sustained']:.0f}) | ≥ {ADMITTED_TARGET} "
        f"| {verdict(ratio >= ADMITTED_TARGET)} |",
        f"| p99 of admitted bookings, ms | {queued['booking_p99']:.1f} | ≤ 100 "
        f"| {verdict(queued['booking_p99'] <= 100)} |",
        f"| p99 of polls, ms ({queued['polls']} polls) | {queued['poll_p99']:.1f} | ≤ 20 "
        f"| {verdict(queued['poll_p99'] <= 20)} |",
        f"| p99 of joins, ms | {queued['join_p99']:.1f} | | |",
        f"| 5xx | {queued['5xx']} | 0 | {verdict(queued['5xx'] == 0)} |",
        f"| answers out of arrival order (of {queued['observations']} polls) "
        f"| {queued['order_violations']} | 0 | {verdict(queued['order_violations'] == 0)} |",
        f"| app CPU a poll / a booking's | {cpu_ratio:.3f} ({q['poll_app_ms']:.2f} ms / "
        f"{q['booking_app_ms']:.2f} ms) | ≤ 0.1 | {verdict(cpu_ratio <= 0.1)} |",
        "",
        "| the same crowd | booked | bookings/s | p99 ms | timeouts (10 s) | 429 | 409 | 5xx |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
        f"| with the queue at the path's rate | {queued['bookings']} | {queued['rps']:.0f} "
        f"| {queued['booking_p99']:.1f} | {queued['timeouts']} | 0 | 0 | {queued['5xx']} |",
        f"| with the queue at {GUIDED_RATE:.0%} of the path "
        f"({guided['rate_per_minute']} a minute) | {guided['bookings']} "
        f"| {guided['rps']:.0f} | {guided['booking_p99']:.1f} | {guided['timeouts']} "
        f"| 0 | 0 | {guided['5xx']} |",
        f"| without it | {q['open_bookings']} | {q['open_rps']:.0f} | {q['open_p99']:.1f} "
        f"| {q['open_timeouts']} | {q['open_429']} | {q['open_409']} | {q['open_5xx']} |",
        "",
        f"At {GUIDED_RATE:.0%} of the path, the most docs/operations.md advises, the same crowd's "
        f"admitted bookings came at {guided['rps']:.0f} a second "
        f"({guided['rps'] / (guided['rate_per_minute'] / 60):.2f} of that rate), with a p99 "
        f"of {guided['poll_p99']:.1f} ms for polls and {guided['join_p99']:.1f} ms for "
        f"joins; {guided['order_violations']} answers out of arrival order.",
        "",
        "Where the machine's CPU went while the queued crowd at the path's full rate was served "
        f"({q['queued_wall_s']:.1f} s on {q['cores']} cores, "
        f"{spent['busy'] / q['queued_wall_s']:.2f} cores busy on average, from /proc):",
        "",
        "| Evently (gunicorn) | PostgreSQL | Redis | the crowd's client (this process) |",
        "|---:|---:|---:|---:|",
        f"| {spent['app']:.1f} s | {spent['db']:.1f} s | {spent['cache']:.1f} s "
        f"| {spent['client']:.1f} s |",
        "",
        "What the line may cost. Every person books once, and the path alone fills the "
        f"machine, so for admitted bookings to come at {ADMITTED_TARGET} of the path the rest "
        "of what a person brings (a join, their polls, and here the crowd's client on the same "
        f"cores) may take at most 1 / {ADMITTED_TARGET} - 1 = {budget['allowed']:.2f} of a "
        "booking's CPU. In this run, the servers spent "
        f"{budget['line_ms']:.2f} ms a person beyond their booking (at the flash sale's "
        f"{q['booking_app_ms']:.2f} ms), {budget['line']:.2f} of a booking, and the client "
        f"{budget['client']:.2f} more: {budget['line'] + budget['client']:.2f} against "
        f"{budget['allowed']:.2f}: "
        + (
            f"admitted bookings cannot reach {ADMITTED_TARGET} of the path while the line and "
            "the bookings share these cores."
            if budget["line"] + budget["client"] > budget["allowed"]
            else "within it."
        ),
    ]


def reference_section(flash: dict) -> list[str]:
    if "ref-plain-16" not in flash:
        return [
            "",
            f"The reference floors were not found in {REFERENCE_FLOORS} (`BENCH_FLOORS_DIR`), "
            "so Evently was not measured against them.",
        ]
    ev, plain, drf = flash["evently-16"], flash["ref-plain-16"], flash["ref-drf-16"]
    return [
        "",
        "## Evently against the reference floors (16 connections, one hot event)",
        "",
        f"The two reference floors of `{REFERENCE_FLOORS}` as they are (`ref_app.py`: Django, "
        "no apps, no middleware, raw SQL into a table of one row; `ref_drf_app.py`: the same "
        "behind DRF, simplejwt's stateless authentication and a serializer), each on its own "
        "two tables in the bench database, served by gunicorn with the workers Evently has, "
        "sent `POST /book` by the same wrk script, in the same interleaved rounds. Unlike the "
        "floors above, they write into tables with none of Evently's indexes and counters.",
        "",
        "| ratio | value |",
        "|---|---:|",
        f"| bookings/s, Evently / reference plain floor | {_ratio(ev['rps'], plain['rps'])} |",
        f"| bookings/s, Evently / reference DRF floor | {_ratio(ev['rps'], drf['rps'])} |",
        f"| app CPU per booking, Evently / reference plain floor "
        f"| {_ratio(ev['app_ms'], plain['app_ms'])} |",
        f"| app CPU per booking, Evently / reference DRF floor "
        f"| {_ratio(ev['app_ms'], drf['app_ms'])} |",
        f"| db CPU per booking, Evently / reference plain floor "
        f"| {_ratio(ev['db_ms'], plain['db_ms'])} |",
    ]


def granian_section(flash: dict) -> list[str]:
    if "granian-16" not in flash:
        return []
    gu, gr = flash["evently-16"], flash["granian-16"]
    rows = [
        f"| {label} | {r['rps']:.0f} | {r['p50_ms']:.1f} | {r['p99_ms']:.1f} "
        f"| {r['app_ms']:.2f} | {r['db_cache_ms']:.2f} |"
        for label, r in [("gunicorn (production)", gu), ("granian", gr)]
    ]
    return [
        "",
        "## Another WSGI server: granian beside gunicorn (16 connections, one hot event)",
        "",
        "One measurement, not a switch: Evently's own WSGI application under granian "
        f"(`--interface wsgi`, {gunicorn_workers()} workers with one blocking thread each, no "
        "access log), in the same interleaved rounds as gunicorn with gunicorn.conf.py "
        "(`make bench BENCH_ARGS=--granian`, granian installed in the virtualenv).",
        "",
        "| server | bookings/s | p50 ms | p99 ms | app ms | db + cache ms |",
        "|---|---:|---:|---:|---:|---:|",
        *rows,
        f"| granian / gunicorn | {_ratio(gr['rps'], gu['rps'])} | | "
        f"| {_ratio(gr['app_ms'], gu['app_ms'])} | |",
    ]


def books_balance() -> list[str]:
    from django.db.models import Count, Q, Sum

    from events.models import Event

    problems = []
    events = Event.objects.annotate(
        confirmed=Sum("bookings__quantity", filter=Q(bookings__status="confirmed"), default=0),
        bookings_confirmed=Count("bookings", filter=Q(bookings__status="confirmed")),
    )
    for event in events:
        if event.available_seats + event.booked_seats + event.held_seats != event.total_capacity:
            problems.append(f"{event.name}: counters do not add up")
        if event.booked_seats != event.confirmed:
            problems.append(
                f"{event.name}: booked_seats {event.booked_seats} != rows {event.confirmed}"
            )
        if event.confirmed_bookings != event.bookings_confirmed:
            problems.append(f"{event.name}: confirmed_bookings does not match the rows")
    return problems


def sales_events(count: int = 1000) -> None:
    from django.db import connection

    from bench.data import general_admission
    from events.summary import rebuild_scheduled_days

    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO events_event (id, name, description, venue, event_time, total_capacity,
                available_seats, booked_seats, held_seats, revenue, confirmed_bookings,
                cancelled_bookings, cancelled_tickets, price, status, created_at, updated_at)
            SELECT gen_random_uuid(), 'Sales ' || i, '', 'Stadium', now() + interval '60 days',
                1000000, 1000000, 0, 0, 0, 0, 0, 0, 25, 'scheduled', now(), now()
            FROM generate_series(1, %s) AS i
            """,
            [count],
        )
    general_admission()
    rebuild_scheduled_days()  # the list's day summary, as the services would keep it


def bulk_bookings(count: int) -> None:
    """`count` confirmed bookings of 25.00 spread over the 'Sales' events and the past 90 days,
    written with SQL, with each event's counters kept balanced."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            """
            WITH ids AS (SELECT array_agg(id) AS e FROM events_event WHERE name LIKE 'Sales %%'),
            buyers AS (SELECT array_agg(id) AS u FROM accounts_user)
            INSERT INTO bookings_booking (id, event_id, user_id, quantity, total_amount, status,
                booking_time, cancelled_at, refunded_amount, created_at, updated_at)
            SELECT gen_random_uuid(), ids.e[1 + i %% array_length(ids.e, 1)],
                buyers.u[1 + i %% array_length(buyers.u, 1)], 1, 25, 'confirmed',
                now() - ((i %% 90) || ' days')::interval, NULL, 0, now(), now()
            FROM generate_series(1, %(count)s) AS i, ids, buyers
            """,
            {"count": count},
        )
        cursor.execute(
            """
            UPDATE events_event e SET booked_seats = s.n, confirmed_bookings = s.n,
                revenue = s.total, available_seats = e.total_capacity - s.n
            FROM (SELECT event_id, count(*) AS n, sum(total_amount) AS total
                  FROM bookings_booking WHERE status = 'confirmed' GROUP BY event_id) s
            WHERE s.event_id = e.id AND e.name LIKE 'Sales %%'
            """
        )
        # Each booking is one item of its event's type, whose counters follow the event's.
        cursor.execute(
            """
            INSERT INTO bookings_bookingitem (booking_id, ticket_type_id, quantity, unit_price,
                amount)
            SELECT b.id, t.id, b.quantity, b.total_amount / b.quantity, b.total_amount
            FROM bookings_booking b JOIN events_tickettype t ON t.event_id = b.event_id
            WHERE NOT EXISTS (SELECT 1 FROM bookings_bookingitem i WHERE i.booking_id = b.id)
            """
        )
        cursor.execute(
            """
            UPDATE events_tickettype t SET booked = e.booked_seats,
                available = e.available_seats, held = e.held_seats, revenue = e.revenue
            FROM events_event e WHERE t.event_id = e.id AND e.name LIKE 'Sales %%'
            """
        )
    vacuum_analyze()


def vacuum_analyze() -> None:
    """What autovacuum would have done by then on a live database."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")


def latency(path: str, token: str | None = None, seconds: int = 4) -> float:
    runs = [
        wrk(
            "bench/get.lua",
            EVENTLY.port,
            path,
            4,
            seconds,
            env={"EVENTLY_TOKEN": token} if token else {},
        )
        for _ in range(3)
    ]
    assert all(r["errors"] == 0 for r in runs), runs
    return statistics.median(r["p50_ms"] for r in runs)


def growth(seconds: int) -> list[tuple[str, float, float]]:
    from accounts.models import User
    from accounts.tokens import tokens_for
    from bench.data import bulk_events
    from events.models import Event

    admin = User.objects.create(email="bench-admin@example.com", name="Admin", role="admin")
    token = tokens_for(admin)["access"]
    rows = []

    upcoming = Event.objects.filter(status="scheduled").count()
    bulk_events(1000 - upcoming)
    vacuum_analyze()
    small = latency("/api/events", seconds=seconds)
    bulk_events(99_000)
    vacuum_analyze()
    large = latency("/api/events", seconds=seconds)
    rows.append(("GET /api/events, 1k → 100k events", small, large))
    with urllib.request.urlopen(f"http://127.0.0.1:{EVENTLY.port}/api/events") as response:
        listed = json.load(response)["count"]
    upcoming = Event.objects.filter(status="scheduled", event_time__gt=datetime.now(UTC)).count()
    assert listed == upcoming, f"the list counts {listed} upcoming events, the table {upcoming}"

    admin_paths = [
        "/api/admin/events",
        "/api/admin/analytics/events?limit=10",
        "/api/admin/analytics/overview",
    ]
    sales_events(1000)
    hot = Event.objects.filter(name="Sales 1").values_list("pk", flat=True).get()
    paths = [*admin_paths, f"/api/admin/events/{hot}/analytics"]
    bulk_bookings(10_000)
    before = [latency(p, token, seconds) for p in paths]
    bulk_bookings(990_000)
    after = [latency(p, token, seconds) for p in paths]
    labels = [*admin_paths, "/api/admin/events/{id}/analytics"]
    rows += [
        (f"GET {label}, 10k → 1M bookings", b, a)
        for label, b, a in zip(labels, before, after, strict=True)
    ]
    return rows


def machine() -> str:
    cpu_name = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if "model name" in line
        ),
        "?",
    )
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        pg = cursor.fetchone()[0]
    mem = int(Path("/proc/meminfo").read_text().split()[1]) // 1024 // 1024
    return (
        f"{os.cpu_count()} cores ({cpu_name}), {mem} GiB, {platform.system()} "
        f"{platform.release()}, Python {platform.python_version()}, PostgreSQL {pg}"
    )


def commit() -> str:
    return subprocess.run(
        ["git", "describe", "--always", "--dirty"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()


def gunicorn_workers() -> int:
    """The worker count gunicorn.conf.py settles on here (WEB_CONCURRENCY or by the cores)."""
    return runpy.run_path(str(ROOT / "gunicorn.conf.py"))["workers"]


def _ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}" if b else "-"


def report(
    flash: dict, plan: list[Scenario], growth_rows: list, args, redis: bool, queue: dict
) -> str:
    ev16, fw16, pl16 = flash["evently-16"], flash["framework-16"], flash["plain-16"]
    ev64, fw64, pl64 = flash["evently-64"], flash["framework-64"], flash["plain-64"]
    cache = "Redis" if redis else "the database cache table (no Redis answered)"
    lines = [
        "# Benchmarks",
        "",
        f"Measured by `make bench` on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC at commit "
        f"`{commit()}`, on {machine()}.",
        "",
        "Each service runs under gunicorn with the project's `gunicorn.conf.py` "
        f"({gunicorn_workers()} sync workers each); all are started side by side on one fresh "
        f"PostgreSQL database and loaded one at a time by wrk ({WRK_THREADS} threads) on the "
        f"same machine. {args.seconds}-second runs after a warm-up; each figure is the median "
        "of 3 interleaved rounds. Every service is sent the same request: `POST /api/bookings` "
        "with a bearer token and the JSON body Evently takes, one seat each. Bookings come from "
        f"{args.users} users with their own tokens, dealt round-robin, so no one reaches the "
        "ten-ticket limit.",
        "",
        f"- **Evently**: `evently.wsgi` on `evently.settings`, throttle counters in {cache}.",
        "- **framework floor** (`bench/floors/framework.py`): a DRF `APIView` with simplejwt's "
        "`JWTStatelessUserAuthentication` (the user from the token's claims, no query), a "
        "two-field input serializer and the plain floor's SQL. Installed apps: "
        "`rest_framework`, `rest_framework_simplejwt`, and `django.contrib.auth` and "
        "`contenttypes` because simplejwt imports their models (no table of theirs is read). "
        "No middleware.",
        "- **plain floor** (`bench/floors/plain.py`): a Django view doing raw SQL: lock the "
        "event row, take the seat, insert the booking. No middleware, no installed app, no "
        "authentication, no validation.",
    ]
    if redis:
        lines.append(
            "- **Evently, `REDIS_URL` unset**: Evently again, its throttle counters in the "
            "database cache table."
        )
    lines += [
        "",
        "The floors have their own settings (`bench/floors/*_settings.py`) and share only the "
        "database and persistent connections (`CONN_MAX_AGE`) with Evently: none of its "
        "middleware, apps, logging or connection health checks. So Evently / framework floor "
        "is what Evently's own code costs, and framework floor / plain floor what DRF and "
        "simplejwt cost.",
        "",
        "## Flash sale: `POST /api/bookings`, one seat each",
        "",
        "CPU per booking is the CPU the service's processes (app) and the database and cache "
        "spent during the run, over the bookings it made; see *Where the CPU goes*.",
        "",
        "| scenario | bookings/s | p50 ms | p99 ms | errors | app CPU ms/booking "
        "| db + cache CPU ms/booking |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for scenario in plan:
        r = flash[scenario.key]
        lines.append(
            f"| {scenario.label} | {r['rps']:.0f} | {r['p50_ms']:.1f} | {r['p99_ms']:.1f} "
            f"| {r['errors']} | {r['app_ms']:.2f} | {r['db_cache_ms']:.2f} |"
        )
    lines += [
        "",
        "## Evently against the floors",
        "",
        "| ratio | 16 connections | 64 connections |",
        "|---|---:|---:|",
        f"| bookings/s, Evently / plain floor | {_ratio(ev16['rps'], pl16['rps'])} "
        f"| {_ratio(ev64['rps'], pl64['rps'])} |",
        f"| bookings/s, Evently / framework floor | {_ratio(ev16['rps'], fw16['rps'])} "
        f"| {_ratio(ev64['rps'], fw64['rps'])} |",
        f"| app CPU per booking, Evently / plain floor | {_ratio(ev16['app_ms'], pl16['app_ms'])} "
        f"| {_ratio(ev64['app_ms'], pl64['app_ms'])} |",
        f"| app CPU per booking, Evently / framework floor "
        f"| {_ratio(ev16['app_ms'], fw16['app_ms'])} | {_ratio(ev64['app_ms'], fw64['app_ms'])} |",
        f"| app CPU per booking, framework floor / plain floor "
        f"| {_ratio(fw16['app_ms'], pl16['app_ms'])} | {_ratio(fw64['app_ms'], pl64['app_ms'])} |",
        f"| db + cache CPU per booking, Evently / plain floor "
        f"| {_ratio(ev16['db_cache_ms'], pl16['db_cache_ms'])} "
        f"| {_ratio(ev64['db_cache_ms'], pl64['db_cache_ms'])} |",
        "",
        "| ratio | value | target |",
        "|---|---:|---:|",
        f"| bookings/s, one hot event / spread over 100 events "
        f"| {_ratio(ev16['rps'], flash['spread-16']['rps'])} | ≥ 0.9 |",
        f"| bookings/s, one webhook endpoint subscribed / none "
        f"| {_ratio(flash['webhook-16']['rps'], ev16['rps'])} | ≥ 0.95 |",
        f"| bookings/s, three ticket types / one type, one hot event "
        f"| {_ratio(flash['types-16']['rps'], ev16['rps'])} | |",
        f"| app CPU per booking, three ticket types / one type "
        f"| {_ratio(flash['types-16']['app_ms'], ev16['app_ms'])} | |",
        "",
        "## Where the CPU goes, per booking (ms, 16 connections)",
        "",
        "| service | app | database | cache | db + cache | wrk | rest of the machine "
        "| other work, cores busy |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for key, label in [
        ("evently-16", "Evently"),
        ("framework-16", "framework floor"),
        ("plain-16", "plain floor"),
        ("no-redis-16", "Evently, `REDIS_URL` unset"),
        ("onsale-16", "Evently on sale (logins included)"),
    ]:
        if key in flash:
            r = flash[key]
            lines.append(
                f"| {label} | {r['app_ms']:.2f} | {r['db_ms']:.2f} | {r['cache_ms']:.2f} "
                f"| {r['db_cache_ms']:.2f} | {r['wrk_ms']:.2f} | {r['other_ms']:.2f} "
                f"| {r['other_cores']:.2f} |"
            )
    lines += [
        "",
        "How each column is read, before and after every run (bench/cpu.py), utime + stime "
        "in the kernel's 10 ms ticks, divided by the bookings the run made as counted in the "
        "database once the server has drained (so the requests wrk left in flight count on "
        "both sides):",
        "",
        "- **app**: `/proc/<pid>/stat` of the service's gunicorn master and workers; a worker "
        "recycled during the run (`max_requests`) is counted through the master's "
        "cutime/cstime.",
        "- **database**: the PostgreSQL backends of the bench database, found by their process "
        "title and sampled every 50 ms, so a backend that exits during the run counts up to "
        "its last sample. The server's shared processes (checkpointer, WAL writer, background "
        "writer) also serve the other databases on this shared server and are left out.",
        "- **cache**: the whole `redis-server` process.",
        "- **wrk**: the load generator's own CPU (its rusage).",
        "- **rest of the machine**: `/proc/stat` busy time minus all of the above and the "
        "bench script itself: other work on this shared machine. The last column is the same "
        f"work as the cores it kept busy on average during the run (of {os.cpu_count()}): the "
        "rates above are measured on what it left. It is also why the database and cache are "
        "read per process rather than as the machine's busy time minus the app's.",
    ]
    onsale = flash["onsale-16"]
    lines += [
        "",
        "## On sale: one login per ten bookings, 16 connections",
        "",
        "Each connection logs in (`POST /api/auth/login`, an Argon2 check) and then makes ten "
        "bookings (`bench/onsale.lua`, one wrk thread per connection so each request is "
        "timed by kind).",
        "",
        "| requests | per second | p50 ms | p99 ms |",
        "|---|---:|---:|---:|",
        f"| bookings | {onsale['rps']:.0f} | {onsale['p50_ms']:.1f} | {onsale['p99_ms']:.1f} |",
        f"| logins | {onsale['logins_per_s']:.0f} | {onsale['login_p50_ms']:.1f} "
        f"| {onsale['login_p99_ms']:.1f} |",
        "",
        f"CPU per booking, its share of the logins included: app {onsale['app_ms']:.2f} ms, "
        f"db + cache {onsale['db_cache_ms']:.2f} ms (bookings alone, above: app "
        f"{ev16['app_ms']:.2f} ms, db + cache {ev16['db_cache_ms']:.2f} ms). Bookings/s on sale "
        f"/ bookings alone: {_ratio(onsale['rps'], ev16['rps'])}.",
    ]
    if redis:
        nr = flash["no-redis-16"]
        lines += [
            "",
            "## Throttle counters without Redis (16 connections, one hot event)",
            "",
            "| `REDIS_URL` | bookings/s | p50 ms | p99 ms | app ms | database ms | cache ms "
            "| db + cache ms |",
            "|---|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for label, r in [("set: Redis", ev16), ("unset: database cache table", nr)]:
            lines.append(
                f"| {label} | {r['rps']:.0f} | {r['p50_ms']:.1f} | {r['p99_ms']:.1f} "
                f"| {r['app_ms']:.2f} | {r['db_ms']:.2f} | {r['cache_ms']:.2f} "
                f"| {r['db_cache_ms']:.2f} |"
            )
        lines.append(
            f"| unset / set | {_ratio(nr['rps'], ev16['rps'])} | | "
            f"| {_ratio(nr['app_ms'], ev16['app_ms'])} | | "
            f"| {_ratio(nr['db_cache_ms'], ev16['db_cache_ms'])} |"
        )
    else:
        lines += ["", "No Redis answered, so Evently ran without it and no comparison was made."]
    on = flash["metrics-16"]
    lines += [
        "",
        "## Metrics on and off (16 connections, one hot event)",
        "",
        "Evently with `METRICS_TOKEN` set (core/metrics.py: request and domain metrics, "
        "prometheus-client's multiprocess files) and unset (nothing recorded), in the same "
        "interleaved rounds. Nothing scrapes during the runs; afterwards the scrape is checked "
        "to count every booking the metrics-on runs made.",
        "",
        "| metrics | bookings/s | p50 ms | p99 ms | app ms | db + cache ms |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for label, r in [("off", ev16), ("on", on)]:
        lines.append(
            f"| {label} | {r['rps']:.0f} | {r['p50_ms']:.1f} | {r['p99_ms']:.1f} "
            f"| {r['app_ms']:.2f} | {r['db_cache_ms']:.2f} |"
        )
    lines.append(
        f"| on / off | {_ratio(on['rps'], ev16['rps'])} | | "
        f"| {_ratio(on['app_ms'], ev16['app_ms'])} "
        f"| {_ratio(on['db_cache_ms'], ev16['db_cache_ms'])} |"
    )
    lines += queue_section(queue)
    lines += reference_section(flash)
    lines += granian_section(flash)
    keyed = flash["keyed-16"]
    lines += [
        "",
        "## With an Idempotency-Key (16 connections, one hot event)",
        "",
        "With a key, the booking is a savepoint of the key's transaction, which also renders the "
        "answer and writes the key row before it commits: the event row stays locked that much "
        "longer (core/idempotency.py).",
        "",
        "| `Idempotency-Key` | bookings/s | p50 ms | p99 ms | app ms | db + cache ms |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for label, r in [("none", ev16), ("one per booking", keyed)]:
        lines.append(
            f"| {label} | {r['rps']:.0f} | {r['p50_ms']:.1f} | {r['p99_ms']:.1f} "
            f"| {r['app_ms']:.2f} | {r['db_cache_ms']:.2f} |"
        )
    lines.append(
        f"| with / without | {_ratio(keyed['rps'], ev16['rps'])} | | "
        f"| {_ratio(keyed['app_ms'], ev16['app_ms'])} "
        f"| {_ratio(keyed['db_cache_ms'], ev16['db_cache_ms'])} |"
    )
    if growth_rows:
        lines += [
            "",
            "## Growth: median latency (p50) as the data grows",
            "",
            "| route | small ms | large ms | large / small | target |",
            "|---|---:|---:|---:|---:|",
        ]
        for label, small, large in growth_rows:
            lines.append(f"| {label} | {small:.1f} | {large:.1f} | {large / small:.2f} | ≤ 1.5 |")
    lines += [
        "",
        "After the runs every event's seat books balanced "
        "(available + booked + held = capacity; booked = confirmed tickets; "
        "the count of confirmed bookings matches the rows).",
        "",
    ]
    return "\n".join(lines)


def others_sections(doc: str, text: str) -> list[str]:
    """The sections of `doc` (docs/benchmarks.md before this run) that another command wrote:
    neither one this command may write nor one `text`, its new report, has."""
    own = {*OWN_HEADINGS, *map(heading, doc_sections(text))}
    return [s for s in doc_sections(doc) if s.startswith("## ") and heading(s) not in own]


def webhook_comparison(flash: dict, problems: list[str]) -> int:
    off, on = flash["evently-16"], flash["webhook-16"]
    for label, r in [("no endpoint", off), ("one endpoint on booking.confirmed", on)]:
        print(
            f"{label}: {r['rps']:.0f} bookings/s, p50 {r['p50_ms']:.1f} ms, p99 "
            f"{r['p99_ms']:.1f} ms, app {r['app_ms']:.2f} ms, db + cache "
            f"{r['db_cache_ms']:.2f} ms a booking"
        )
    print(f"bookings/s with / without: {_ratio(on['rps'], off['rps'])} (target ≥ 0.95)")
    if problems:
        print("FAILED:\n" + "\n".join(problems), file=sys.stderr)
    return 1 if problems else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=8, help="length of each wrk run")
    parser.add_argument("--users", type=int, default=4000)
    parser.add_argument("--skip-growth", action="store_true")
    parser.add_argument(
        "--webhook-only",
        action="store_true",
        help="only Evently with and without a subscribed webhook endpoint; prints, writes no docs",
    )
    parser.add_argument(
        "--queue-only",
        action="store_true",
        help="one run of Evently's flash sale, then the on-sale crowd; print, write nothing",
    )
    parser.add_argument(
        "--floors-only",
        action="store_true",
        help="only Evently and the two reference floors, three rounds; print the ratios, "
        "write no docs",
    )
    parser.add_argument(
        "--granian",
        action="store_true",
        help="also serve Evently under granian and measure it beside gunicorn (one hot event)",
    )
    args = parser.parse_args()
    if args.granian and not granian_installed():
        parser.error("--granian: granian is not installed (.venv/bin/pip install granian)")

    os.environ.update(environment(DB_NAME))
    redis = redis_answers(REDIS_URL)
    if not redis:
        log("no Redis answers; throttle counters go to the database cache")
        del os.environ["REDIS_URL"]
    import django

    log("fresh database, migrate")
    fresh_database(DB_NAME)
    django.setup()
    seed_users(args.users)
    reference = reference_floors_present()
    if reference:
        reference_setup(args.users)
    else:
        log(
            f"reference floors not found in {REFERENCE_FLOORS} (BENCH_FLOORS_DIR): "
            "their comparison is skipped"
        )
    plan = flash_plan(redis, reference, args.granian)
    if args.webhook_only:
        plan = [s for s in plan if s.key in {"evently-16", "webhook-16"}]
    if args.queue_only:
        plan = [s for s in plan if s.key == "evently-16"]
    if args.floors_only:
        if not reference:
            parser.error(f"--floors-only: the reference floors are not in {REFERENCE_FLOORS}")
        floors = {"evently-16", "granian-16", "ref-plain-16", "ref-drf-16"}
        plan = [s for s in plan if s.key in floors]
    add_webhook_endpoint()
    # Every scenario books events of its own: at a few hundred bookings a second, three rounds
    # on one shared event would deal each user more than ten tickets of it.
    event_sets = {s.key: seed_events(s.events, s.key) for s in plan}
    type_sets = {
        s.key: seed_ticket_types(event_sets[s.key], s.types - 1) for s in plan if s.types > 1
    }
    services = list({s.service.key: s.service for s in plan}.values())
    redis_pid = None
    if redis:
        import redis as redis_client

        redis_pid = redis_client.Redis.from_url(REDIS_URL).info("server")["process_id"]
    log(f"serving {', '.join(s.label for s in services)}")
    with servers(services) as running:
        sale = FlashSale(running, event_sets, redis_pid, args.users, type_sets)
        if args.queue_only:
            sale.run(plan[0], 2)
            flash = {"evently-16": sale.run(plan[0], args.seconds)}
            queue = onsale_with_queue(
                sale, flash["evently-16"]["rps"], flash["evently-16"]["app_ms"]
            )
            print("\n".join(queue_section(queue)))
            return 1 if sale.problems else 0
        flash = sale.rounds(plan, args.seconds)
        if args.floors_only:
            medians = [
                f"{key}: {r['rps']:.0f} bookings/s, p99 {r['p99_ms']:.1f} ms, "
                f"app {r['app_ms']:.2f} ms, db {r['db_ms']:.2f} ms a booking"
                for key, r in flash.items()
            ]
            print("\n".join(medians + reference_section(flash) + granian_section(flash)))
            return 1 if sale.problems else 0
        if args.webhook_only:  # the two services only: no metrics service, no crowd
            return webhook_comparison(flash, sale.problems + books_balance())
        queue = onsale_with_queue(sale, flash["evently-16"]["rps"], flash["evently-16"]["app_ms"])
        problems = (
            sale.problems + books_balance() + metrics_count_every_booking(event_sets["metrics-16"])
        )
        if problems:
            print("\n".join(problems), file=sys.stderr)
        growth_rows = [] if args.skip_growth or problems else growth(args.seconds)
    text = report(flash, plan, growth_rows, args, redis, queue)
    print(text)
    if problems:
        # A failed run's figures stay out of the docs.
        print("FAILED:\n" + "\n".join(problems), file=sys.stderr)
        return 1
    kept = others_sections(BENCHMARKS_DOC.read_text(), text) if BENCHMARKS_DOC.exists() else []
    BENCHMARKS_DOC.parent.mkdir(exist_ok=True)
    BENCHMARKS_DOC.write_text(join_sections([text, *kept]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
