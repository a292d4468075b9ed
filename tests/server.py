"""Start the production servers (gunicorn, and nginx in front of it) in separate processes for
end-to-end tests."""

import grp
import os
import pwd
import re
import shutil
import signal
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
    *,
    workers: int = 1,
    env: dict | None = None,
    timeout: float = 30,
    production: bool = False,
    log: list[str] | None = None,
    host: str | None = None,
):
    """Serve evently.wsgi on a free port; yields (base_url, process). Always stopped.

    `production` runs GUNICORN_COMMAND, configured by gunicorn.conf.py from the environment,
    instead of gunicorn's defaults. `log`, when given, receives every line the server writes to
    stderr (the application's log, one request line each) as it comes. `host` is the Host
    header the start-up probe sends, for an ALLOWED_HOSTS that does not serve 127.0.0.1.
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

    def read_log():
        for line in process.stderr:
            log_tail.append(line)
            if log is not None:
                log.append(line.decode(errors="replace"))

    reader = threading.Thread(target=read_log, daemon=True)
    reader.start()
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                probe = urllib.request.Request(
                    f"{base}/api/health", headers={"Host": host} if host else {}
                )
                urllib.request.urlopen(probe, timeout=2).read()
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


# --- nginx ------------------------------------------------------------------------------------

# The proxy docker-compose.yml puts in front of web: an http-level file whose ${EVENTLY_...}
# variables the official image's entrypoint substitutes (envsubst) when the container starts.
NGINX_TEMPLATE = ROOT / "deploy" / "nginx" / "evently.conf.template"
NGINX_TEMPLATE_VARIABLE = re.compile(r"\$\{(EVENTLY_[A-Z0-9_]+)\}")


def nginx_binary() -> str | None:
    """Debian's nginx, if installed (scripts/test.sh installs it when it runs as root)."""
    for candidate in ("/usr/sbin/nginx", shutil.which("nginx")):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return None


def render_nginx_template(variables: dict[str, str]) -> str:
    """NGINX_TEMPLATE with its variables substituted, as the image's entrypoint does it; a
    variable left without a value is an error here (nginx would refuse it as unknown)."""
    text = NGINX_TEMPLATE.read_text()
    missing = set(NGINX_TEMPLATE_VARIABLE.findall(text)) - set(variables)
    if missing:
        raise KeyError(f"no value for {sorted(missing)}")
    return NGINX_TEMPLATE_VARIABLE.sub(lambda match: variables[match.group(1)], text)


@contextmanager
def nginx(*, upstream: str, max_request_bytes: int, directory: Path, timeout: float = 10):
    """Debian's nginx serving NGINX_TEMPLATE on a free loopback port in front of `upstream`
    (host:port); yields (base_url, access_log path). Always stopped.

    Only the listen address, the upstream and the body limit are filled in. What the official
    image's own nginx.conf decides (pid file, error log, temporary files, the user) is set here
    to stay inside `directory` and run as the current user.
    """
    binary = nginx_binary()
    if binary is None:
        raise RuntimeError("nginx is not installed")
    port = free_port()
    site = directory / "evently.conf"
    site.write_text(
        render_nginx_template(
            {
                "EVENTLY_LISTEN": f"127.0.0.1:{port}",
                "EVENTLY_UPSTREAM": upstream,
                "EVENTLY_MAX_REQUEST_BYTES": str(max_request_bytes),
            }
        )
    )
    # Started by root, nginx would run its workers as nobody, who may not enter `directory`.
    user = ""
    if os.geteuid() == 0:
        user = f"user {pwd.getpwuid(os.geteuid()).pw_name} {grp.getgrgid(os.getegid()).gr_name};"
    main = directory / "nginx.conf"
    main.write_text(
        f"""{user}
worker_processes 1;
pid {directory}/nginx.pid;
events {{ worker_connections 256; }}
http {{
    default_type application/octet-stream;
    access_log off;
    client_body_temp_path {directory}/client_body;
    proxy_temp_path {directory}/proxy;
    fastcgi_temp_path {directory}/fastcgi;
    uwsgi_temp_path {directory}/uwsgi;
    scgi_temp_path {directory}/scgi;
    include {site};
}}
"""
    )
    access_log = directory / "access.log"  # the site logs to stdout, as in the container
    error_log = directory / "error.log"
    with open(access_log, "wb") as stdout, open(directory / "stderr.log", "wb") as stderr:
        command = [binary, "-p", f"{directory}/", "-c", str(main), "-e", str(error_log)]
        process = subprocess.Popen(
            [*command, "-g", "daemon off;"],
            stdout=stdout,
            stderr=stderr,
            # Its own process group, so that a master that will not stop takes its workers
            # down with it.
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    errors = [
                        path.read_text()
                        for path in (error_log, directory / "stderr.log")
                        if path.exists()
                    ]
                    raise RuntimeError("nginx did not start:\n" + "\n".join(errors)) from None
                time.sleep(0.05)
        yield f"http://127.0.0.1:{port}", access_log
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(10)
