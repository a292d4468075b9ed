"""`make bench-instructions`: the app's instructions per booking and per queue poll and join,
counted by callgrind.

Time per request moves with whatever else the machine runs; the instructions a process executes
do not. For each service (Evently and the two floors, each on its own settings) this runs,
under `valgrind --tool=callgrind`, a process that calls the service's WSGI application
in-process for `POST /api/bookings` N1 times, and another that calls it N2 times. Start-up and
first-request costs are the same in both, so (I(N2) - I(N1)) / (N2 - N1) is what one more
booking costs the app. PostgreSQL and Redis run in their own processes and are not counted.

Evently's waiting-room poll (`GET /api/queue/{token}`, the Redis store) is counted the same
way, N1 and N2 polls, for people waiting (a paused queue) and people admitted (a queue whose
rate has let everyone in). A person polls again and again while waiting, so each process
polls the same N1 people in turn: the N2 - N1 counted polls are repeat polls, as a worker
mostly sees them; the first poll of a token a process has not seen (its access token verified
in full) is counted too, as its own row, and so is a join (`POST /api/events/{id}/queue`), each
by a person the process has not seen.

The database is prepared like `make bench`'s (fresh, migrated, bench users with tokens); every
process books or polls its own event, for users no other process books for, so they can run
side by side. `BENCH_INSTRUCTIONS_DB` names the database (default `evently_instructions`; it is
dropped and created again). The figures go to the console and to their section of
docs/benchmarks.md.
"""

import argparse
import io
import json
import os
import re
import subprocess
import sys
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.prepare import (  # noqa: E402
    EVENTLY,
    EVENTLY_METRICS,
    FRAMEWORK,
    PLAIN,
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

DB_NAME = os.environ.get("BENCH_INSTRUCTIONS_DB", "evently_instructions")
SERVICES = [EVENTLY, FRAMEWORK, PLAIN, EVENTLY_METRICS]
HEADING = "## Instructions per booking"
# The poll runs: (key, what the people polling are, whether each poll is a new person).
POLLS = [
    ("poll-waiting", "waiting", False),
    ("poll-admitted", "admitted", False),
    ("poll-first", "waiting", True),
    # Each a person joining, as an on-sale's crowd does in its first seconds.
    ("join", "joining", True),
]


def booking_environ(token: str, user_id: str, event_id: str) -> dict:
    """The WSGI environ of the request the bench's wrk scripts send."""
    body = json.dumps(
        {"event_id": event_id, "user_id": user_id, "quantity": 1, "join_waitlist": False}
    ).encode()
    return request_environ("POST", "/api/bookings", token, body)


def poll_environ(token: str, place: str) -> dict:
    """The WSGI environ of a waiting-room poll, as bench/crowd.py sends it."""
    return request_environ("GET", f"/api/queue/{place}", token, b"")


def join_environ(token: str, event_id: str) -> dict:
    """The WSGI environ of joining a waiting room, as bench/crowd.py sends it."""
    return request_environ("POST", f"/api/events/{event_id}/queue", token, b"")


def request_environ(method: str, path: str, token: str, body: bytes) -> dict:
    environ = {
        "REQUEST_METHOD": method,
        "SCRIPT_NAME": "",
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8095",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": "127.0.0.1:8095",
        "HTTP_AUTHORIZATION": f"Bearer {token}",
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr,
        "wsgi.url_scheme": "http",
        "wsgi.version": (1, 0),
        "wsgi.multithread": False,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }
    if body:
        environ["CONTENT_TYPE"] = "application/json"
        environ["CONTENT_LENGTH"] = str(len(body))
    return environ


def child(application: str, count: int, first_user: int, event_id: str) -> int:
    """Under callgrind: book `count` times through the WSGI application, as gunicorn calls it;
    or, with `event_id` "places:<file>", poll the places listed in that file in turn; or, with
    "joins:<event id>:<file>", join that event's queue as each person listed in the file."""
    module, name = application.split(":")
    app = getattr(__import__(module, fromlist=[name]), name)
    if event_id.startswith("places:"):
        places = [line.split() for line in Path(event_id[7:]).read_text().splitlines()]
        environs = [poll_environ(*places[i % len(places)]) for i in range(count)]
        expected = "200"
    elif event_id.startswith("joins:"):
        _, queued_event, path = event_id.split(":", 2)
        people = Path(path).read_text().split()
        environs = [join_environ(token, queued_event) for token in people[:count]]
        expected = "201"
    else:
        people = read_requests()[first_user : first_user + count]
        assert len(people) == count, "not enough bench users"
        environs = [booking_environ(token, user_id, event_id) for token, user_id, _ in people]
        expected = "201"
    statuses = []

    def start_response(status, headers, exc_info=None):
        statuses.append(status)

    for environ in environs:
        body = app(environ, start_response)
        try:
            content = b"".join(body)
        finally:
            # request_finished: Django hands the connection back, as under gunicorn. A poll
            # answered before Django (waitingroom.fastpath) is a plain list, with no close.
            if hasattr(body, "close"):
                body.close()
        if not statuses[-1].startswith(expected):
            print(
                f"{environ['PATH_INFO']} answered {statuses[-1]}: {content[:300]!r}",
                file=sys.stderr,
            )
            return 1
    return 0


def join_queue(event_id: str, people: list[tuple[str, str, str]], state: str, path: Path):
    """Turn the event's waiting room on (paused, so everyone waits; or at a rate that has let
    everyone in by the first poll), and join `people` to it, listing "<access token> <place
    token>" in `path` for the polling process; or, `state` "joining", list their access
    tokens for the joining process."""
    from accounts.models import User
    from waitingroom.services import queue_configure, queue_join

    admitted = state == "admitted"
    queue_configure(event_id=event_id, enabled=True, rate=1_000_000 if admitted else 1)
    if not admitted:
        queue_configure(event_id=event_id, paused=True)
    if state == "joining":
        path.write_text("".join(f"{token}\n" for token, _, _ in people))
        return
    lines = []
    for token, user_id, _ in people:
        place = queue_join(event_id=uuid.UUID(event_id), user=User(pk=user_id))
        lines.append(f"{token} {place.token}\n")
    path.write_text("".join(lines))


def counted(service: Service, count: int, first_user: int, event_id: str, key: str) -> int:
    """Instructions callgrind counts in a process that books (or polls) `count` times."""
    out = WORK / f"callgrind.{key}.{count}.out"
    env = {**service.env(dict(os.environ)), "PYTHONHASHSEED": "0"}
    if env.get("METRICS_TOKEN"):  # the value files gunicorn.conf.py would give its workers
        directory = WORK / f"metrics.{key}.{count}"
        directory.mkdir(parents=True, exist_ok=True)
        for stale in directory.glob("*.db"):
            stale.unlink()
        env["PROMETHEUS_MULTIPROC_DIR"] = str(directory)
    command = [
        "valgrind",
        "--tool=callgrind",
        "--quiet",
        f"--callgrind-out-file={out}",
        sys.executable,
        str(Path(__file__).resolve()),
        "--child",
        service.application,
        str(count),
        str(first_user),
        event_id,
    ]
    subprocess.run(command, cwd=ROOT, env=env, check=True)
    totals = re.search(r"^(?:totals|summary): (\d+)", out.read_text(), re.M)
    out.unlink()
    return int(totals.group(1))


def valgrind_version() -> str:
    return subprocess.run(["valgrind", "--version"], capture_output=True, text=True).stdout.strip()


def commit() -> str:
    return subprocess.run(
        ["git", "describe", "--always", "--dirty"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()


def section(per_booking: dict[str, float], n1: int, n2: int, redis: bool) -> str:
    evently, framework, plain, metrics = (per_booking[s.key] for s in SERVICES)
    cache = "Redis" if redis else "the database cache table (no Redis answered)"
    lines = [
        HEADING,
        "",
        f"Measured by `make bench-instructions` on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC at "
        f"commit `{commit()}` ({valgrind_version()}, Python {sys.version.split()[0]}). For each "
        "service, callgrind counts the instructions of a process that calls its WSGI "
        f"application in-process for `POST /api/bookings` {n1} times, and of one that calls it "
        f"{n2} times, each on its own settings; the difference over {n2 - n1} is the app's "
        "instructions per booking, with start-up and first requests cancelled out. Unlike "
        "time, it does not move with the machine's load. Callgrind counts the process's own "
        "(user-space) instructions: PostgreSQL and the cache run in other processes, gunicorn "
        "is not in the loop, and the kernel's work on the sockets is left out, so these ratios "
        f"are wider than the CPU-time ones. Evently's throttle counters are in {cache}.",
        "",
        "| service | instructions per booking | / plain floor | / framework floor |",
        "|---|---:|---:|---:|",
        f"| Evently | {evently / 1e6:.2f} M | {evently / plain:.2f} | {evently / framework:.2f} |",
        f"| framework floor | {framework / 1e6:.2f} M | {framework / plain:.2f} | 1.00 |",
        f"| plain floor | {plain / 1e6:.2f} M | 1.00 | |",
        "",
        "With metrics on (`METRICS_TOKEN` set, values in prometheus-client's multiprocess "
        "files as under gunicorn), against Evently above, with them off:",
        "",
        "| service | instructions per booking | / metrics off |",
        "|---|---:|---:|",
        f"| Evently, metrics on | {metrics / 1e6:.2f} M | {metrics / evently:.3f} |",
        "",
    ]
    if POLLS[0][0] not in per_booking:
        lines += ["No Redis answered, so the queue poll was not counted.", ""]
        return "\n".join(lines)
    waiting, admitted, first, join = (per_booking[key] for key, _, _ in POLLS)
    lines += [
        "### Instructions per queue poll and join",
        "",
        f"`GET /api/queue/{{token}}` on a queued event, Redis store, counted the same way "
        f"({n1} and {n2} polls in two processes, metrics off). Each process polls the same "
        f"{n1} people in turn, as a worker sees a person poll again and again while they wait, "
        "so the counted polls find the access token verified already; the third row is the "
        "first poll of a person the process has not seen (its access token verified in full). "
        "The last is `POST /api/events/{id}/queue`, each a person joining (a paused queue, so "
        "everyone waits). Against Evently's booking above (whose every request is a new "
        "person):",
        "",
        "| request | instructions | / a booking | target |",
        "|---|---:|---:|---:|",
        f"| poll, person waiting | {waiting / 1e6:.3f} M | {waiting / evently:.3f} | ≤ 0.1 |",
        f"| poll, person admitted | {admitted / 1e6:.3f} M | {admitted / evently:.3f} | ≤ 0.1 |",
        f"| first poll of a person, waiting | {first / 1e6:.3f} M | {first / evently:.3f} | |",
        f"| join, a new person | {join / 1e6:.3f} M | {join / evently:.3f} | |",
        "",
    ]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n1", type=int, default=20, help="bookings in the shorter process")
    parser.add_argument("--n2", type=int, default=120, help="bookings in the longer process")
    parser.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        application, count, first_user, event_id = args.child
        return child(application, int(count), int(first_user), event_id)
    if not 0 < args.n1 < args.n2:
        parser.error("need 0 < n1 < n2")

    os.environ.update(environment(DB_NAME))
    redis = redis_answers(REDIS_URL)
    if not redis:
        print("no Redis answers; Evently's throttle counters go to the database cache")
        del os.environ["REDIS_URL"]
    import django

    fresh_database(DB_NAME)
    django.setup()
    runs = [(s, n, None) for s in SERVICES for n in (args.n1, args.n2)]
    if redis:  # the poll is measured on the Redis store, as the contract's figure asks
        runs += [(EVENTLY, n, poll) for poll in POLLS for n in (args.n1, args.n2)]
    else:
        print("no Redis answers: the queue poll is not counted")
    seed_users(len(runs) * args.n2)
    events = seed_events(len(runs), "Instructions")
    people = read_requests()
    targets = []
    for i, (_service, n, poll) in enumerate(runs):
        if poll is None:
            targets.append(events[i])
            continue
        key, state, every_one_new = poll
        path = WORK / f"places.{key}.{n}.txt"
        joined = people[i * args.n2 : i * args.n2 + (n if every_one_new else args.n1)]
        join_queue(events[i], joined, state, path)
        targets.append(f"joins:{events[i]}:{path}" if state == "joining" else f"places:{path}")
    print(f"callgrind: {len(runs)} processes, {os.cpu_count()} at a time", flush=True)
    with ThreadPoolExecutor(max_workers=os.cpu_count()) as pool:
        futures = {
            (poll[0] if poll else service.key, n): pool.submit(
                counted, service, n, i * args.n2, targets[i], poll[0] if poll else service.key
            )
            for i, (service, n, poll) in enumerate(runs)
        }
        totals = {key: future.result() for key, future in futures.items()}
    keys = [s.key for s in SERVICES] + ([key for key, _, _ in POLLS] if redis else [])
    per_booking = {
        key: (totals[key, args.n2] - totals[key, args.n1]) / (args.n2 - args.n1) for key in keys
    }
    text = section(per_booking, args.n1, args.n2, redis)
    print(text)
    write_section(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
