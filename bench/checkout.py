"""`make bench-checkout`: a flash sale through the checkout, half paid and half walked away,
beside plain bookings in the same run.

Evently is served twice as `make bench` serves it (bench/run.py: gunicorn with
gunicorn.conf.py, loaded by wrk, CPU read from /proc by bench/cpu.py), on one fresh database:
with `PAYMENT_PROVIDER=none`, where a booking is confirmed at once, and with `dummy`
(django-payments' DummyProvider) and a short `CHECKOUT_HOLD_SECONDS`, where a booking of the
priced event is a checkout holding its seat. bench/checkout.lua books one seat a request on
both; on the dummy server it pays every other checkout by POSTing the dummy form at its
payment_url and walks away from the rest. Interleaved rounds give confirmed bookings a second
against plain bookings a second, and the CPU a sold seat cost against a plain booking's.

Once the walked-away holds are due they are expired (`bookings.checkout.expire_due`, what
`expire_waitlist_offers` runs), timed, and the seats must be back and every event's counters
balance (tests/invariants.py). Then `--holds` holds of one event expire while bookings of that
event go on: the longest a booking waited is how long the expiry kept the event locked at a
stretch.

Fails (exit 1), writing nothing, on any error or unexpected status, or if the books do not
balance; otherwise writes its section of docs/benchmarks.md.
"""

import argparse
import asyncio
import os
import signal
import statistics
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402

from bench import cpu, crowd  # noqa: E402
from bench.prepare import (  # noqa: E402
    EVENTLY,
    PG,
    PORT_BASE,
    REDIS_URL,
    WORK,
    Service,
    environment,
    fresh_database,
    read_requests,
    redis_answers,
    seed_events,
    seed_users,
    write_section,
)
from bench.run import (  # noqa: E402
    DRAIN,
    WRK_THREADS,
    commit,
    gunicorn_workers,
    log,
    machine,
    own_backend,
    servers,
    wrk,
    wrk_command,
    wrk_result,
)

DB_NAME = os.environ.get("BENCH_CHECKOUT_DB", "evently_checkout_bench")
HEADING = "## Checkout: half paid, half expired"
CONNECTIONS = 16
ROUNDS = 3
# The bookings that go on while the holds of their event expire: fewer connections than the
# server has workers, so a booking waits for the event's lock, never for a worker.
PROBE_CONNECTIONS = 2


def checkout_service(hold: int) -> Service:
    port = PORT_BASE + 8
    return Service(
        "evently-checkout",
        "Evently, PAYMENT_PROVIDER=dummy",
        "evently.settings",
        "evently.wsgi:application",
        port,
        extra=(
            ("PAYMENT_PROVIDER", "dummy"),
            ("CHECKOUT_HOLD_SECONDS", str(hold)),
            ("PUBLIC_URL", f"http://127.0.0.1:{port}"),
        ),
    )


def seats_by_status(event_id: str) -> dict[str, int]:
    from django.db.models import Sum

    from bookings.models import Booking

    rows = (
        Booking.objects.filter(event_id=event_id)
        .values_list("status")
        .annotate(seats=Sum("quantity"))
        .order_by()
    )
    return dict(rows)


class Sale:
    """wrk runs of bench/checkout.lua, each measured from the database and /proc around it."""

    def __init__(self, running: dict, users: int):
        self.running = running
        self.users = users
        self.dealt: dict[str, int] = {}  # bookings dealt so far per event, as bench/run.py
        self.problems: list[str] = []

    def run(self, service: Service, event_id: str, seconds: float) -> dict:
        from bookings.models import MAX_TICKETS_PER_PERSON

        dealt = self.dealt.get(event_id, 0)
        if dealt > self.users * (MAX_TICKETS_PER_PERSON - 2):
            raise RuntimeError(f"{service.key}: too few users for its bookings; raise --users")
        (WORK / "events.txt").write_text(f"{event_id}\n")
        master = self.running[service.key].master
        before, app = seats_by_status(event_id), cpu.server_seconds(master)
        with cpu.DatabaseBackends(DB_NAME, {own_backend()}) as database:
            result = wrk(
                "bench/checkout.lua",
                service.port,
                "/api/bookings",
                CONNECTIONS,
                seconds,
                env={"EVENTLY_START": str(dealt)},
            )
            time.sleep(DRAIN)
        app = cpu.server_seconds(master) - app
        after = seats_by_status(event_id)
        made = {status: seats - before.get(status, 0) for status, seats in after.items()}
        self.dealt[event_id] = dealt + result["requests"] + CONNECTIONS
        sold = made.get("confirmed", 0)
        result.update(
            sold=sold,
            walked_away=made.get("pending_payment", 0),
            sold_per_s=sold / (result["duration_us"] / 1e6),
            app_ms=1000 * app / max(sold, 1),
            db_ms=1000 * database.seconds() / max(sold, 1),
        )
        if result["errors"] or result["statuses"] or not sold:
            self.problems.append(
                f"{service.key}: {result['errors']} errors, unexpected statuses "
                f"{result['statuses'] or 'none'}, {sold} seats sold"
            )
        return result


def wait_until_due(event_id: str) -> None:
    """Sleep until every pending checkout of the event is past its hold."""
    from django.db.models import Max
    from django.utils import timezone

    from bookings.models import Booking

    last = Booking.objects.filter(event_id=event_id, status="pending_payment").aggregate(
        last=Max("expires_at")
    )["last"]
    if last is not None:
        time.sleep(max(0.0, (last - timezone.now()).total_seconds()) + 0.5)


def expire(event_id: str) -> dict:
    """Expire the event's due holds as the expiry command does, timed; what came back.

    `expire_due` skips an event whose row another transaction holds (SKIP LOCKED: another
    copy of the command expiring it, or a booking of the event), so it is called again until
    every hold is expired, as the command's loop would on its next rounds; `tries` counts the
    calls.
    """
    from bookings import checkout
    from events.models import Event

    event = Event.objects.get(pk=event_id)
    held = seats_by_status(event_id).get("pending_payment", 0)
    started = time.monotonic()
    expired = tries = 0
    while expired < held and (not tries or time.monotonic() - started < 300):
        if tries:
            time.sleep(0.005)
        expired += checkout.expire_due()
        tries += 1
    seconds = time.monotonic() - started
    after = Event.objects.get(pk=event_id)
    return {
        "holds": held,
        "expired": expired,
        "tries": tries,
        "seconds": seconds,
        "recovered": after.available_seats - event.available_seats,
        "held_after": after.held_seats,
    }


def hold_seats(service: Service, event_id: str, count: int) -> int:
    """`count` checkouts of one seat of the event, from as many bench users, CONNECTIONS at a
    time (bench/crowd.py's client); how many were answered pending_payment."""
    tokens = [token for token, _, _ in read_requests()[:count]]

    async def main() -> int:
        gate = asyncio.Semaphore(CONNECTIONS)

        async def one(token: str) -> bool:
            async with gate:
                body = {"event_id": event_id, "quantity": 1}
                status, _, answer = await crowd.request(
                    service.port, "POST", "/api/bookings", token, body
                )
            return status == 201 and answer.get("result") == "pending_payment"

        return sum(await asyncio.gather(*(one(token) for token in tokens)))

    return crowd.run(main())


@contextmanager
def longest_transaction(pid: int):
    """The longest a transaction of the PostgreSQL backend `pid` was seen open while the block
    ran (pg_stat_activity's xact_start, sampled every 10 ms from a connection of its own), in
    seconds, under "seconds" in the dict it yields."""
    found = {"seconds": 0.0}
    stop = threading.Event()

    def sample() -> None:
        with psycopg.connect(f"{PG}/{DB_NAME}", autocommit=True) as conn:
            while not stop.wait(0.01):
                (open_for,) = conn.execute(
                    "SELECT extract(epoch FROM clock_timestamp() - xact_start) "
                    "FROM pg_stat_activity WHERE pid = %s",
                    [pid],
                ).fetchone() or (None,)
                if open_for is not None:
                    found["seconds"] = max(found["seconds"], float(open_for))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        yield found
    finally:
        stop.set()
        sampler.join()


def expire_while_booking(event_id: str, first_user: int) -> dict:
    """Expire the event's due holds while wrk books seats of the same event on the plain
    server (booking.lua). The expiry's longest transaction is the longest it kept the event
    locked at a stretch; the bookings' longest wait is what that cost them."""
    (WORK / "events.txt").write_text(f"{event_id}\n")
    (WORK / "types.txt").write_text("")
    command = wrk_command(
        "bench/booking.lua", EVENTLY.port, "/api/bookings", PROBE_CONNECTIONS, 600, 1, timeout=60
    )
    env = {**os.environ, "EVENTLY_THREADS": "1", "EVENTLY_START": str(first_user)}
    probe = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)
    try:
        time.sleep(2)
        with longest_transaction(own_backend()) as longest:
            result = expire(event_id)
        time.sleep(2)
    finally:
        probe.send_signal(signal.SIGINT)  # wrk stops and prints its summary
        out, _ = probe.communicate(timeout=60)
    result["probe"] = wrk_result(out)
    result["longest_transaction"] = longest["seconds"]
    return result


def books_balance(event_ids: list[str]) -> list[str]:
    from events.models import Event
    from tests.invariants import assert_books_balance

    problems = []
    for event in Event.objects.filter(pk__in=event_ids):
        try:
            assert_books_balance(event)
        except AssertionError as unbalanced:
            problems.append(f"{event.name}: the books do not balance: {unbalanced!r}")
    return problems


def median_of(runs: list[dict], key: str) -> float:
    return statistics.median(r[key] for r in runs)


def section(
    args, plain: list[dict], paid: list[dict], sale_total: dict, expiry: dict, lock: dict
) -> str:
    ratios = {
        key: [c[key] / p[key] for p, c in zip(plain, paid, strict=True)]
        for key in ("sold_per_s", "app_ms", "db_ms")
    }

    def row(label: str, runs: list[dict]) -> str:
        return (
            f"| {label} | {median_of(runs, 'sold_per_s'):.0f} | {median_of(runs, 'p50_ms'):.1f} "
            f"| {median_of(runs, 'p99_ms'):.1f} | {sum(r['errors'] for r in runs)} "
            f"| {median_of(runs, 'app_ms'):.2f} | {median_of(runs, 'db_ms'):.2f} |"
        )

    def ratio(key: str) -> str:
        rounds = ", ".join(f"{r:.2f}" for r in ratios[key])
        return f"{statistics.median(ratios[key]):.2f} ({rounds})"

    probe = lock["probe"]
    return "\n".join(
        [
            HEADING,
            "",
            f"Measured by `make bench-checkout` on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC at "
            f"commit `{commit()}`, on {machine()}.",
            "",
            "Evently served twice side by side as `make bench` serves it (gunicorn.conf.py, "
            f"{gunicorn_workers()} sync workers each, one fresh database, throttle counters in "
            f"{'Redis' if 'REDIS_URL' in os.environ else 'the database cache table'}): "
            "with `PAYMENT_PROVIDER=none`, where a booking is confirmed at once, and with "
            "`PAYMENT_PROVIDER=dummy` (django-payments' DummyProvider) and "
            f"`CHECKOUT_HOLD_SECONDS={args.hold}`, where a booking of the priced event (20.00) "
            f"is a checkout holding its seat. wrk ({WRK_THREADS} threads, {CONNECTIONS} "
            "connections) runs `bench/checkout.lua` against each in turn, one event each: "
            f"one-seat `POST /api/bookings` from {args.users} users; on the dummy server every "
            "other checkout is paid at once by POSTing the dummy form to its `payment_url` "
            "(`status=confirmed`, `fraud_status=accept`, `gateway_response=3ds-disabled`) and "
            "the rest are walked away from (so are those whose payment was still to be sent "
            f"when a run stopped). {args.seconds}-second runs after a warm-up, "
            f"{ROUNDS} interleaved rounds: figures are medians, ratios the median of the "
            "rounds' (each round's in brackets). A sold seat is a confirmed booking; the "
            "checkout's CPU per sold seat includes the walked-away checkouts' bookings, and its "
            "latencies mix bookings and payments.",
            "",
            "| server | sold seats/s | p50 ms | p99 ms | errors | app CPU ms / sold seat "
            "| db CPU ms / sold seat |",
            "|---|---:|---:|---:|---:|---:|---:|",
            row("`PAYMENT_PROVIDER=none`: every booking confirmed", plain),
            row("`dummy`: half the checkouts paid, half walked away", paid),
            "",
            "| ratio | value |",
            "|---|---:|",
            f"| confirmed bookings/s through the checkout / plain bookings/s "
            f"| {ratio('sold_per_s')} |",
            f"| app CPU per sold seat, checkout / plain booking | {ratio('app_ms')} |",
            f"| database CPU per sold seat, checkout / plain booking | {ratio('db_ms')} |",
            "",
            "Once the walked-away holds were due, `bookings.checkout.expire_due` (what "
            "`expire_waitlist_offers` runs) expired them, timed in the bench's own process:",
            "",
            "| figure | value |",
            "|---|---:|",
            f"| checkouts, warm-up included: paid, walked away "
            f"| {sale_total.get('confirmed', 0)}, {sale_total.get('pending_payment', 0)} |",
            f"| holds expired | {expiry['expired']} of {expiry['holds']}, in "
            f"{expiry['tries']} call(s) |",
            f"| time to expire them | {expiry['seconds']:.2f} s "
            f"({1000 * expiry['seconds'] / max(expiry['expired'], 1):.2f} ms a hold) |",
            f"| seats recovered (the event's `available_seats`, after minus before) "
            f"| {expiry['recovered']} |",
            f"| seats still held afterwards | {expiry['held_after']} |",
            "| errors | 0 |",
            "",
            f"Then {lock['holds']} one-seat holds of another event, all due, expired while "
            f"wrk booked seats of that same event on the `none` server ({PROBE_CONNECTIONS} "
            "connections, fewer than its workers; `bench/booking.lua`; from 2 s before to 2 s "
            "after). The expiry's longest transaction (pg_stat_activity, sampled every 10 ms) "
            "is the longest it kept the event locked at a stretch; each booking waits for that "
            "lock.",
            "",
            "| figure | value |",
            "|---|---:|",
            f"| holds expired | {lock['expired']} in {lock['seconds']:.2f} s |",
            f"| the expiry's longest transaction | {1000 * lock['longest_transaction']:.0f} ms |",
            f"| calls of `expire_due` it took (each skips the event while a booking holds its "
            f"row) | {lock['tries']} |",
            f"| bookings of the event meanwhile | {probe['requests']} "
            f"({probe['rps']:.0f} a second), {probe['errors']} errors |",
            f"| their p50, p99, longest wait | {probe['p50_ms']:.1f} ms, "
            f"{probe['p99_ms']:.1f} ms, {probe['max_ms']:.0f} ms |",
            "",
            "Afterwards every event's counters balanced (tests/invariants.py: per event, "
            "available + confirmed + held = capacity, with booked, held and revenue matching "
            "the rows; per ticket type, available + booked + held = quota).",
            "",
        ]
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=8, help="length of each wrk run")
    parser.add_argument("--users", type=int, default=4000)
    parser.add_argument("--hold", type=int, default=10, help="CHECKOUT_HOLD_SECONDS")
    parser.add_argument(
        "--holds", type=int, default=1000, help="holds expired while their event is booked"
    )
    args = parser.parse_args()
    if args.holds > args.users:
        parser.error("--holds: at most --users (one hold a user)")

    os.environ.update(environment(DB_NAME))
    if not redis_answers(REDIS_URL):
        log("no Redis answers; throttle counters go to the database cache")
        del os.environ["REDIS_URL"]
    import django

    log("fresh database, migrate")
    fresh_database(DB_NAME)
    django.setup()
    seed_users(args.users)
    (WORK / "types.txt").write_text("")
    plain_event, paid_event, lock_event = seed_events(3, "Checkout bench")
    dummy = checkout_service(args.hold)
    log(f"serving {EVENTLY.label} and {dummy.label}")
    with servers([EVENTLY, dummy]) as running:
        sale = Sale(running, args.users)
        sale.run(EVENTLY, plain_event, 2)  # unrecorded: every worker imports and connects
        sale.run(dummy, paid_event, 2)
        plain, paid = [], []
        plan = [(EVENTLY, plain_event, plain), (dummy, paid_event, paid)]
        for round_ in range(ROUNDS):  # interleaved, so drift on the machine hits both alike
            for service, event_id, runs in plan:
                result = sale.run(service, event_id, args.seconds)
                runs.append(result)
                log(
                    f"round {round_ + 1} {service.key}: {result['sold_per_s']:.0f} seats sold/s, "
                    f"{result['walked_away']} walked away, app {result['app_ms']:.2f} ms and db "
                    f"{result['db_ms']:.2f} ms a sold seat, errors {result['errors']}"
                )
        sale_total = seats_by_status(paid_event)
        log("waiting for the walked-away holds to be due")
        wait_until_due(paid_event)
        expiry = expire(paid_event)
        log(f"expiry: {expiry}")
        held = hold_seats(dummy, lock_event, args.holds)
        log(f"{held} holds of one event; waiting for them to be due")
        wait_until_due(lock_event)
        lock = expire_while_booking(lock_event, args.holds)
        log(f"expiry while booking: {lock}")
    problems = sale.problems + books_balance([plain_event, paid_event, lock_event])
    walked_away = sale_total.get("pending_payment", 0)
    if expiry["expired"] != walked_away or expiry["recovered"] != walked_away:
        problems.append(f"expiry: {expiry} after {walked_away} walked-away checkouts")
    if held != args.holds or lock["expired"] != held or lock["held_after"]:
        problems.append(f"expiry while booking: {held} holds made, {lock}")
    if lock["probe"]["errors"] or lock["probe"]["statuses"]:
        problems.append(
            f"bookings during the expiry: {lock['probe']['errors']} errors, unexpected "
            f"statuses {lock['probe']['statuses'] or 'none'}"
        )
    text = section(args, plain, paid, sale_total, expiry, lock)
    print(text)
    if problems:
        print("FAILED:\n" + "\n".join(problems), file=sys.stderr)
        return 1
    write_section(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
