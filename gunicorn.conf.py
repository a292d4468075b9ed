"""Gunicorn settings for Evently, read from the environment.

Used by `make run-prod`, the container image and the benchmark:
`gunicorn -c gunicorn.conf.py evently.wsgi:application`.
"""

import json
import multiprocessing
import os
import tempfile
from pathlib import Path

from gunicorn import glogging


def env(name: str, default: str) -> str:
    """The variable's value; unset or empty means the default (an env file may list it empty)."""
    return os.environ.get(name, "").strip() or default


# Loopback unless told otherwise: sync workers must only ever talk to a buffering proxy (nginx,
# deploy/nginx/), never to clients, or a few slow clients hold every worker. In a container,
# docker-compose.yml binds 0.0.0.0:8080 on its private network, where only nginx reaches it.
bind = env("GUNICORN_BIND", f"127.0.0.1:{env('PORT', '8080')}")
# Sync workers, each holding one database connection (CONN_MAX_AGE keeps it open). Profiled,
# a booking spends about 70% of its time on the CPU, so one worker per core plus one to cover
# the database waits: with more, workers only queue for the cores, and a worker holding an
# event's row lock waits its turn too (`make bench`, docs/benchmarks.md: 3 workers on 2 cores
# beat 5 on bookings/s and p99). With the database on another machine, waits grow: raise
# WEB_CONCURRENCY.
workers = int(env("WEB_CONCURRENCY", str(multiprocessing.cpu_count() + 1)))
worker_class = "sync"
timeout = int(env("GUNICORN_TIMEOUT", "30"))
graceful_timeout = int(env("GUNICORN_GRACEFUL_TIMEOUT", "30"))
keepalive = 5
# Connections waiting to be accepted (the kernel caps it at net.core.somaxconn). An on-sale's
# crowd connects all at once: past this queue the kernel drops their SYNs, and each client waits
# a second, then three, to try again. gunicorn's own default is 2048.
backlog = int(env("GUNICORN_BACKLOG", "4096"))
# Recycle workers now and then so a slow leak can never grow without bound.
max_requests = int(env("GUNICORN_MAX_REQUESTS", "5000"))
max_requests_jitter = max_requests // 10
# Import the app once in the master: a broken configuration (the development SECRET_KEY with
# DEBUG off, say) stops the server at start instead of in every worker.
preload_app = True


# Metrics (core/metrics.py): every worker writes its values to files in this directory and
# /metrics sums them, those of workers that have exited included, so nothing a recycled worker
# counted is lost. Set here, before the app is imported: prometheus-client reads it then.
# Unset: a directory of this server's own, kept for its reloads (the variable is set then).
# With METRICS_TOKEN empty, metrics are off and no directory is needed.
if env("METRICS_TOKEN", "") and not env("PROMETHEUS_MULTIPROC_DIR", ""):
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="evently-metrics-")


def on_starting(server):
    """Empty the metrics directory once, when the master starts: the files of a previous run
    would otherwise be summed into this one's (Prometheus reads the restart as counters
    reset to zero, which it expects)."""
    if not env("PROMETHEUS_MULTIPROC_DIR", ""):
        return
    directory = Path(os.environ["PROMETHEUS_MULTIPROC_DIR"])
    directory.mkdir(parents=True, exist_ok=True)
    for path in directory.glob("*.db"):
        path.unlink()


def child_exit(server, worker):
    """A worker exited: its counters and histograms stay in the sums; the gauges that only
    count while their process lives are dropped (prometheus-client's multiprocess mode)."""
    if not env("PROMETHEUS_MULTIPROC_DIR", ""):
        return
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


class JsonAtoms(glogging.SafeAtoms):
    """Log values escaped for a JSON string, so a quote or backslash in a path or user agent
    stays inside its string; an absent value (no body sent) is null."""

    def __init__(self, atoms):
        dict.__init__(self)
        for key, value in atoms.items():
            if value is None:
                self[key] = "null"
            elif isinstance(value, str):
                self[key] = json.dumps(value)[1:-1]
            else:
                self[key] = value


class JsonAccessLogger(glogging.Logger):
    """gunicorn's logger, with the access log one JSON object per line."""

    atoms_wrapper_class = JsonAtoms


logger_class = JsonAccessLogger
# A file path, "-" for stdout, or empty for no access log.
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-") or None
errorlog = "-"
access_log_format = (
    '{"time": "%(t)s", "remote": "%(h)s", "method": "%(m)s", "path": "%(U)s", '
    '"query": "%(q)s", "status": %(s)s, "bytes": %(B)s, "duration_us": %(D)s, '
    '"request_id": "%({x-request-id}o)s", "user_agent": "%(a)s"}'
)
