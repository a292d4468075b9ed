"""`make bench-instructions`: the app's instructions per booking, counted by callgrind.

Time per request moves with whatever else the machine runs; the instructions a process executes
do not. For each service (Evently and the two floors, each on its own settings) this runs,
under `valgrind --tool=callgrind`, a process that calls the service's WSGI application
in-process for `POST /api/bookings` N1 times, and another that calls it N2 times. Start-up and
first-request costs are the same in both, so (I(N2) - I(N1)) / (N2 - N1) is what one more
booking costs the app. PostgreSQL and Redis run in their own processes and are not counted.

The database is prepared like `make bench`'s (fresh, migrated, bench users with tokens); every
process books its own event, for users no other process books for, so they can run side by
side. The figures go to the console and to their section of docs/benchmarks.md.
"""

import argparse
import io
import json
import os
import re
import subprocess
import sys
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
)

DB_NAME = "evently_instructions"
SERVICES = [EVENTLY, FRAMEWORK, PLAIN, EVENTLY_METRICS]
HEADING = "## Instructions per booking"


def booking_environ(token: str, user_id: str, event_id: str) -> dict:
    """The WSGI environ of the request the bench's wrk scripts send."""
    body = json.dumps(
        {"event_id": event_id, "user_id": user_id, "quantity": 1, "join_waitlist": False}
    ).encode()
    return {
        "REQUEST_METHOD": "POST",
        "SCRIPT_NAME": "",
        "PATH_INFO": "/api/bookings",
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8095",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": "127.0.0.1:8095",
        "HTTP_AUTHORIZATION": f"Bearer {token}",
        "CONTENT_TYPE": "application/json",
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr,
        "wsgi.url_scheme": "http",
        "wsgi.version": (1, 0),
        "wsgi.multithread": False,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }


def child(application: str, count: int, first_user: int, event_id: str) -> int:
    """Under callgrind: book `count` times through the WSGI application, as gunicorn calls it."""
    module, name = application.split(":")
    app = getattr(__import__(module, fromlist=[name]), name)
    people = read_requests()[first_user : first_user + count]
    assert len(people) == count, "not enough bench users"
    statuses = []

    def start_response(status, headers, exc_info=None):
        statuses.append(status)

    for token, user_id, _email in people:
        body = app(booking_environ(token, user_id, event_id), start_response)
        try:
            content = b"".join(body)
        finally:
            body.close()  # request_finished: Django hands the connection back, as under gunicorn
        if not statuses[-1].startswith("201"):
            print(f"booking answered {statuses[-1]}: {content[:300]!r}", file=sys.stderr)
            return 1
    return 0


def counted(service: Service, count: int, first_user: int, event_id: str) -> int:
    """Instructions callgrind counts in a process that books `count` times."""
    out = WORK / f"callgrind.{service.key}.{count}.out"
    env = {**service.env(dict(os.environ)), "PYTHONHASHSEED": "0"}
    if env.get("METRICS_TOKEN"):  # the value files gunicorn.conf.py would give its workers
        directory = WORK / f"metrics.{service.key}.{count}"
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
    return "\n".join(lines)


def write_section(text: str) -> None:
    """Put the section into docs/benchmarks.md, replacing an earlier one."""
    path = ROOT / "docs" / "benchmarks.md"
    doc = path.read_text() if path.exists() else "# Benchmarks\n"
    start = doc.find(HEADING)
    if start < 0:
        doc = doc.rstrip("\n") + "\n\n" + text
    else:
        end = doc.find("\n## ", start + 1)
        doc = doc[:start] + text + ("" if end < 0 else doc[end:])
    path.write_text(doc)


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
    runs = [(s, n) for s in SERVICES for n in (args.n1, args.n2)]
    seed_users(len(runs) * args.n2)
    events = seed_events(len(runs), "Instructions")
    print(f"callgrind: {len(runs)} processes, {os.cpu_count()} at a time", flush=True)
    with ThreadPoolExecutor(max_workers=os.cpu_count()) as pool:
        futures = {
            (service.key, n): pool.submit(counted, service, n, i * args.n2, events[i])
            for i, (service, n) in enumerate(runs)
        }
        totals = {key: future.result() for key, future in futures.items()}
    per_booking = {
        s.key: (totals[s.key, args.n2] - totals[s.key, args.n1]) / (args.n2 - args.n1)
        for s in SERVICES
    }
    text = section(per_booking, args.n1, args.n2, redis)
    print(text)
    write_section(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
