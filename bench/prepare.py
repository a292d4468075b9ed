"""What `make bench` and `make bench-instructions` share: the services, their environment, and
the database they book in (migrated fresh, with users holding tokens and the events to book).
"""

import os
import subprocess
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "bench" / ".work"
PG = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/15")
# Every bench user's password (one Argon2 hash, computed once, shared by all the rows).
PASSWORD = "bench-password-not-secret"


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
    # Variables set on top of it (METRICS_TOKEN, for Evently with metrics on).
    extra: tuple[tuple[str, str], ...] = field(default=())

    def env(self, base: dict[str, str]) -> dict[str, str]:
        env = {**base, "DJANGO_SETTINGS_MODULE": self.settings, **dict(self.extra)}
        env["GUNICORN_BIND"] = f"127.0.0.1:{self.port}"
        for name in self.unset:
            env.pop(name, None)
        return env


EVENTLY = Service("evently", "Evently", "evently.settings", "evently.wsgi:application", 8095)
FRAMEWORK = Service(
    "framework",
    "framework floor (DRF + simplejwt)",
    "bench.floors.framework_settings",
    "bench.floors.wsgi:application",
    8096,
)
PLAIN = Service(
    "plain",
    "plain floor (Django view)",
    "bench.floors.plain_settings",
    "bench.floors.wsgi:application",
    8097,
)
# Evently with metrics on (core/metrics.py); plain EVENTLY runs with them off, as it always has.
METRICS_TOKEN = "bench-metrics-token"
EVENTLY_METRICS = Service(
    "evently-metrics",
    "Evently, metrics on",
    "evently.settings",
    "evently.wsgi:application",
    8099,
    extra=(("METRICS_TOKEN", METRICS_TOKEN),),
)
EVENTLY_NO_REDIS = Service(
    "evently-no-redis",
    "Evently, REDIS_URL unset",
    "evently.settings",
    "evently.wsgi:application",
    8098,
    unset=("REDIS_URL",),
)


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
    """`count` scheduled events a month away with a million seats each; their ids."""
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
    return [str(e.pk) for e in events]


def read_requests() -> list[tuple[str, str, str]]:
    """(token, user id, email) of every bench user, as seed_users wrote them."""
    return [tuple(line.split()) for line in (WORK / "requests.txt").read_text().splitlines()]
