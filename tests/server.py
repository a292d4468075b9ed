"""Start the production server (gunicorn) in a separate process for end-to-end tests."""

import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections import deque
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def e2e_database_url(port: int = 5432) -> str:
    """The URL of the database the test run uses (pytest-django's test_ database)."""
    settings = connection.settings_dict
    user = settings.get("USER") or "postgres"
    return f"postgres://{user}@127.0.0.1:{port}/{settings['NAME']}"


# The production command: the container image, docker-compose.yml and `make run-prod` run it.
GUNICORN_COMMAND = ["gunicorn", "-c", "gunicorn.conf.py", "evently.wsgi:application"]


@contextmanager
def gunicorn(
    *, workers: int = 1, env: dict | None = None, timeout: float = 30, production: bool = False
):
    """Serve evently.wsgi on a free port; yields (base_url, process). Always stopped.

    `production` runs GUNICORN_COMMAND, configured by gunicorn.conf.py from the environment,
    instead of gunicorn's defaults.
    """
    port = free_port()
    environment = {
        **os.environ,
        "DATABASE_URL": e2e_database_url(),
        # The same keys as this process, so tokens minted here are valid there.
        "SECRET_KEY": settings.SECRET_KEY,
        "JWT_SIGNING_KEY": settings.SIMPLE_JWT["SIGNING_KEY"],
        "DEBUG": "false",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "THROTTLE_ANON": "off",
        "THROTTLE_USER": "off",
        "THROTTLE_LOGIN": "off",
        **(env or {}),
    }
    if production:
        command = [sys.executable, "-m", *GUNICORN_COMMAND]
        environment.update(GUNICORN_BIND=f"127.0.0.1:{port}", WEB_CONCURRENCY=str(workers))
    else:
        command = [
            sys.executable,
            "-m",
            "gunicorn",
            "evently.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--timeout",
            "60",
        ]
    process = subprocess.Popen(
        command,
        cwd=ROOT,
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    # Keep reading the server's log (its request log grows with every request): a full pipe
    # would block the server. The tail explains a failed start.
    log_tail: deque[bytes] = deque(maxlen=100)
    reader = threading.Thread(target=lambda: log_tail.extend(process.stderr), daemon=True)
    reader.start()
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                urllib.request.urlopen(f"{base}/api/health", timeout=2).read()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    process.kill()
                    reader.join(5)
                    raise RuntimeError(b"".join(log_tail).decode()[-2000:]) from None
                time.sleep(0.2)
        yield base, process
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)
        reader.join(5)
