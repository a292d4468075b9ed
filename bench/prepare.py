"""What `make bench` and `make bench-instructions` share: the services, their environment, and
the database they book in (migrated fresh, with users holding tokens and the events to book).
"""

import os
import re
import subprocess
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "bench" / ".work"
PG = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/15")
# The services' first port (they take the next few): another checkout's bench can run beside.
PORT_BASE = int(os.environ.get("BENCH_PORT_BASE", "8095"))
# Every bench user's password (one Argon2 hash, computed once, shared by all the rows).
PASSWORD = "bench-password-not-secret"
# `make bench` writes it whole; every other bench command (bench-instructions, bench-checkout)
# writes one `## ` section of it, and each keeps what the others wrote.
BENCHMARKS_DOC = ROOT / "docs" / "benchmarks.md"


def environment(database: str) -> dict[str, str]:
    """Evently's production settings on the bench database (the floors read the same names)."""
    return {
        "DJANGO_SETTINGS_MODULE": "evently.settings",
        "DATABASE_URL": f"{PG}/{database}",
        "SECRET_KEY": "bench-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz-0123456789",
        "DEBUG": "false",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "REDIS_URL": REDIS_URL,
        "EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend",
        "GUNICORN_ACCESS_LOG": "",
        "LOG_LEVEL": "WARNING",
        # The throttles stay in the path (their counter round trips are part of the cost), with
        # rates no benchmark reaches: one load generator is one client address.
        "THROTTLE_LOGIN": "100000000/min",
        "THROTTLE_ANON": "100000000/min",
        "THROTTLE_USER": "100000000/min",
        # Metrics off, unless a service turns them on (EVENTLY_METRICS).
        "METRICS_TOKEN": "",
        # Bookings confirmed at once, unless a service takes payments (bench/checkout.py).
        "PAYMENT_PROVIDER": "none",
    }


@dataclass(frozen=True)
class Service:
    """One WSGI application as the bench serves it, with the settings it runs on."""

    key: str
    label: str
    settings: str
    application: str
    port: int
    # Variables removed from the environment (REDIS_URL, for Evently without Redis).
    unset: tuple[str, ...] = field(default=())
    # Variables set on top of it (METRICS_TOKEN, for Evently with metrics on; the reference
    # floors' REF_DB, REF_SECRET and PYTHONPATH).
    extra: tuple[tuple[str, str], ...] = field(default=())

    def env(self, base: dict[str, str]) -> dict[str, str]:
        env = {**base, "DJANGO_SETTINGS_MODULE": self.settings, **dict(self.extra)}
        env["GUNICORN_BIND"] = f"127.0.0.1:{self.port}"
        for name in self.unset:
            env.pop(name, None)
        return env


EVENTLY = Service("evently", "Evently", "evently.settings", "evently.wsgi:application", PORT_BASE)
FRAMEWORK = Service(
    "framework",
    "framework floor (DRF + simplejwt)",
    "bench.floors.framework_settings",
    "bench.floors.wsgi:application",
    PORT_BASE + 1,
)
PLAIN = Service(
    "plain",
    "plain floor (Django view)",
    "bench.floors.plain_settings",
    "bench.floors.wsgi:application",
    PORT_BASE + 2,
)
# Evently with metrics on (core/metrics.py); plain EVENTLY runs with them off, as it always has.
METRICS_TOKEN = "bench-metrics-token"
EVENTLY_METRICS = Service(
    "evently-metrics",
    "Evently, metrics on",
    "evently.settings",
    "evently.wsgi:application",
    PORT_BASE + 4,
    extra=(("METRICS_TOKEN", METRICS_TOKEN),),
)
EVENTLY_NO_REDIS = Service(
    "evently-no-redis",
    "Evently, REDIS_URL unset",
    "evently.settings",
    "evently.wsgi:application",
    PORT_BASE + 3,
    unset=("REDIS_URL",),
)


# The reference floors: two WSGI apps kept outside the repository (their README says how they
# are run), read from this directory at run time; skipped when it is not there.
REFERENCE_FLOORS = Path(os.environ.get("BENCH_FLOORS_DIR", "/work/shared/bench-floors"))
REFERENCE_SECRET = "bench-reference-secret-0123456789-abcdefghijklmnopqrstuvwxyz"
REFERENCE_TABLES = """
DROP TABLE IF EXISTS ref_bookings, ref_events;
CREATE TABLE ref_events(id int primary key, available_seats int not null
    check (available_seats >= 0));
INSERT INTO ref_events VALUES (1, 100000000);
CREATE TABLE ref_bookings(id bigserial primary key, event_id int not null references ref_events(id),
  user_id int not null, quantity int not null, status text not null,
  created_at timestamptz default now());
CREATE INDEX ON ref_bookings(event_id);
"""


def reference_floors_present() -> bool:
    return all((REFERENCE_FLOORS / name).is_file() for name in ("ref_app.py", "ref_drf_app.py"))


def reference_service(key: str, label: str, module: str, port: int, database: str) -> Service:
    pg = PG.replace("postgres://", "postgresql://", 1)
    return Service(
        key,
        label,
        "",
        f"{module}:application",
        port,
        unset=("DJANGO_SETTINGS_MODULE",),
        extra=(
            ("REF_DB", f"{pg}/{database}"),
            ("REF_SECRET", REFERENCE_SECRET),
            ("PYTHONPATH", str(REFERENCE_FLOORS)),
        ),
    )


def reference_setup(count: int) -> None:
    """The floors' own two tables, and `count` DRF-floor tokens (simplejwt's backend, signed
    with the floor's key, a `user_id` claim each) in bench/.work/reference_requests.txt."""
    from datetime import timedelta as span

    from django.db import connection
    from rest_framework_simplejwt.backends import TokenBackend

    with connection.cursor() as cursor:
        cursor.execute(REFERENCE_TABLES)
    backend = TokenBackend("HS256", signing_key=REFERENCE_SECRET)
    expires = int((datetime.now(UTC) + span(hours=6)).timestamp())
    lines = []
    for i in range(1, count + 1):
        claims = {"token_type": "access", "exp": expires, "jti": f"ref{i}", "user_id": i}
        lines.append(f"{backend.encode(claims)} {i} ref{i}@example.com\n")
    WORK.mkdir(parents=True, exist_ok=True)
    (WORK / "reference_requests.txt").write_text("".join(lines))


def reference_bookings() -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM ref_bookings")
        return cursor.fetchone()[0]


def redis_answers(url: str) -> bool:
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except redis.RedisError:
        return False
    return True


def fresh_database(name: str) -> None:
    """Drop and create `name`, then migrate it with the current environment's settings."""
    import psycopg

    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {name}")
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, check=True, env=os.environ
    )
    # The table Evently counts throttles in when REDIS_URL is unset: migrate creates it only for
    # the caches configured as it runs, and the bench migrates with Redis configured.
    without_redis = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    subprocess.run(
        [sys.executable, "manage.py", "createcachetable"], cwd=ROOT, check=True, env=without_redis
    )


def seed_users(count: int) -> None:
    """`count` users who can log in with PASSWORD, with an access token each, written to
    bench/.work/requests.txt as "<token> <user id> <email>" lines for the wrk scripts."""
    from django.contrib.auth.hashers import make_password

    from accounts.models import User
    from accounts.tokens import tokens_for

    password = make_password(PASSWORD)
    people = User.objects.bulk_create(
        User(email=f"bench{i}@example.com", name=f"Bench {i}", password=password)
        for i in range(count)
    )
    WORK.mkdir(parents=True, exist_ok=True)
    (WORK / "requests.txt").write_text(
        "".join(f"{tokens_for(p)['access']} {p.pk} {p.email}\n" for p in people)
    )


def seed_events(count: int, prefix: str) -> list[str]:
    """`count` scheduled events a month away with a million seats each, each selling one
    ticket type; their ids."""
    from bench.data import general_admission
    from events.models import Event

    when = datetime.now(UTC) + timedelta(days=30)
    events = Event.objects.bulk_create(
        Event(
            name=f"{prefix} {i}",
            venue="Arena",
            event_time=when,
            price="20.00",
            total_capacity=1_000_000,
            available_seats=1_000_000,
        )
        for i in range(count)
    )
    general_admission()
    return [str(e.pk) for e in events]


def seed_ticket_types(event_ids: list[str], more: int) -> list[str]:
    """`more` ticket types beside each event's General admission, each with a quota of the
    whole capacity, at prices from 30.00 up; every type id of those events, by position."""
    from django.db.models import F

    from events.models import Event, TicketType

    for event_id in event_ids:
        TicketType.objects.bulk_create(
            TicketType(
                event_id=event_id,
                name=f"Type {n}",
                price=f"{20 + 10 * n}.00",
                quota=1_000_000,
                available=1_000_000,
                position=n,
            )
            for n in range(1, more + 1)
        )
    Event.objects.filter(pk__in=event_ids).update(
        ticket_types_version=F("ticket_types_version") + 1
    )
    types = TicketType.objects.filter(event_id__in=event_ids).order_by("event_id", "position")
    return [str(pk) for pk in types.values_list("pk", flat=True)]


def read_requests() -> list[tuple[str, str, str]]:
    """(token, user id, email) of every bench user, as seed_users wrote them."""
    return [tuple(line.split()) for line in (WORK / "requests.txt").read_text().splitlines()]


def doc_sections(text: str) -> list[str]:
    """`text` cut before each `## ` heading: what precedes the first, then every section
    with its `###` subsections."""
    starts = [0] + [found.start() + 1 for found in re.finditer(r"\n## ", text)]
    return [text[a:b] for a, b in zip(starts, [*starts[1:], len(text)], strict=True)]


def heading(section: str) -> str:
    return section.split("\n", 1)[0]


def join_sections(sections: list[str]) -> str:
    return "\n\n".join(section.strip("\n") for section in sections) + "\n"


def write_section(section: str) -> None:
    """Put one command's section into docs/benchmarks.md in place of its earlier copy (the
    section of the same heading), or else at the end; the rest stays as it was."""
    doc = BENCHMARKS_DOC.read_text() if BENCHMARKS_DOC.exists() else "# Benchmarks\n"
    parts = doc_sections(doc)
    same = [i for i, part in enumerate(parts) if heading(part) == heading(section)]
    if same:
        parts[same[0]] = section
    else:
        parts.append(section)
    BENCHMARKS_DOC.write_text(join_sections(parts))
