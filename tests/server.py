"""Start the production server (gunicorn) in a separate process for end-to-end tests."""

import os
import socket
import subprocess
import sys
import time
import urllib.request
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


@contextmanager
def gunicorn(*, workers: int = 1, env: dict | None = None, timeout: float = 30):
    """Serve evently.wsgi on a free port; yields (base_url, process). Always stopped."""
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
    process = subprocess.Popen(
        [
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
        ],
        cwd=ROOT,
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                urllib.request.urlopen(f"{base}/api/health", timeout=2).read()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(process.stderr.read().decode()[-2000:]) from None
                time.sleep(0.2)
        yield base, process
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)
