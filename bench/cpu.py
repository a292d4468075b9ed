"""CPU time from /proc, per group of processes, around each benchmark run.

On a shared machine a rate moves with whatever else runs; the CPU seconds a group of
processes spends per booking moves much less, so the bench reports both. Every figure is
utime + stime as the kernel accounts it (USER_HZ ticks, 10 ms each: a run spends seconds).
"""

import os
import threading
from pathlib import Path

TICK = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> list[str] | None:
    """/proc/<pid>/stat from field 3 (state) on, or None if the process is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    return text[text.rindex(")") + 2 :].split()


# Indexes into _stat()'s list (proc(5) field numbers minus 3).
_PPID, _UTIME, _STIME, _CUTIME, _CSTIME = 1, 11, 12, 13, 14


def _pids() -> list[int]:
    return [int(name) for name in os.listdir("/proc") if name.isdigit()]


def process_seconds(pid: int) -> float:
    """CPU seconds of one process (all its threads); 0 if it is gone."""
    fields = _stat(pid)
    return 0.0 if fields is None else (int(fields[_UTIME]) + int(fields[_STIME])) / TICK


def server_seconds(master: int) -> float:
    """CPU seconds of a gunicorn master and its workers, live or gone.

    A worker gunicorn recycles (max_requests) is reaped by the master, which adds the worker's
    whole lifetime to its own cutime/cstime, so its CPU is never lost between two readings.
    """
    fields = _stat(master)
    if fields is None:
        raise RuntimeError(f"gunicorn master {master} is gone")
    ticks = sum(int(fields[i]) for i in (_UTIME, _STIME, _CUTIME, _CSTIME))
    for pid in _pids():
        child = _stat(pid)
        if child is not None and int(child[_PPID]) == master:
            ticks += int(child[_UTIME]) + int(child[_STIME])
    return ticks / TICK


def machine_busy_seconds() -> float:
    """CPU seconds the whole machine spent busy (every core; /proc/stat minus idle, iowait)."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = values[:8]
    return (user + nice + system + irq + softirq + steal) / TICK


def _title(pid: int) -> list[str]:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except (FileNotFoundError, ProcessLookupError):
        return []
    return raw.replace(b"\0", b" ").decode(errors="replace").split()


class DatabaseBackends:
    """CPU seconds of the PostgreSQL processes serving one database, over a window.

    PostgreSQL names each backend after its database in its process title ("postgres: ...
    postgres evently_bench 127.0.0.1(41230) idle"). Backends come and go with the gunicorn
    workers, so they are sampled every 50 ms while the window is open: one that exits counts
    up to its last sample. The server's shared processes (checkpointer, WAL writer, ...) serve
    every database on the server and are left out, as is `exclude` (the bench's own
    connection).
    """

    def __init__(self, database: str, exclude: set[int]):
        self.database = database
        self.exclude = exclude
        self.others: set[int] = set()
        self.last: dict[int, float] = {}
        self.start: dict[int, float] = {}
        self.stopping = threading.Event()
        self.thread: threading.Thread | None = None

    def _sample(self) -> None:
        pids = _pids()
        self.others &= set(pids)  # a reused pid is looked at again
        for pid in pids:
            if pid in self.others or pid in self.exclude:
                continue
            if pid not in self.last:
                title = _title(pid)
                if title[:1] != ["postgres:"]:
                    # A backend just forked shows the postmaster's command line until it has
                    # read its startup packet: look at it again on the next sample.
                    if not title or not title[0].endswith("postgres"):
                        self.others.add(pid)
                    continue
                if self.database not in title[1:]:
                    self.others.add(pid)
                    continue
            seconds = process_seconds(pid)
            if seconds:
                self.last[pid] = max(seconds, self.last.get(pid, 0.0))

    def _loop(self) -> None:
        while not self.stopping.wait(0.05):
            self._sample()

    def __enter__(self) -> "DatabaseBackends":
        self._sample()
        self.start = dict(self.last)
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stopping.set()
        self.thread.join()
        self._sample()

    def seconds(self) -> float:
        return sum(cpu - self.start.get(pid, 0.0) for pid, cpu in self.last.items())
