"""`make bench`'s "on-sale with a queue": a crowd ten times what the booking path sustains
arrives in the first seconds, with Evently's waiting room on and then without it.

With the queue, each person joins (`POST /api/events/{id}/queue`), polls when `Retry-After`
says, and books with the admission once admitted. Without it, the same crowd books at once.
The crowd is driven by asyncio in this process (one connection a request, as gunicorn's sync
workers close each one), so each request is timed by kind. This process shares the cores with
the servers it measures, so its client is kept lean: a protocol rather than asyncio's streams,
on uvloop's event loop (`make bench` installs it), together less than half the CPU a request.
"""

import asyncio
import base64
import json
import time
from dataclasses import dataclass, field

try:
    import uvloop
except ImportError:  # run by hand without `make bench`'s extra: asyncio's own loop
    uvloop = None

ARRIVAL_SECONDS = 2.0  # the crowd arrives over this many seconds
TIMEOUT = 10.0


@dataclass
class Tally:
    latencies: dict[str, list[float]] = field(default_factory=dict)
    statuses: dict[str, dict[int, int]] = field(default_factory=dict)
    timeouts: dict[str, int] = field(default_factory=dict)
    observed: list[tuple[float, int, bool]] = field(default_factory=list)  # (t, number, admitted)
    booked_at: list[float] = field(default_factory=list)
    places: list[tuple[str, str]] = field(default_factory=list)  # (access token, place token)

    def record(self, kind: str, status: int, seconds: float) -> None:
        self.latencies.setdefault(kind, []).append(seconds * 1000)
        counts = self.statuses.setdefault(kind, {})
        counts[status] = counts.get(status, 0) + 1

    def p99(self, kind: str) -> float:
        values = sorted(self.latencies.get(kind, [0.0]))
        return values[min(len(values) - 1, int(len(values) * 0.99))]

    def count(self, kind: str, status: int | None = None) -> int:
        counts = self.statuses.get(kind, {})
        return sum(counts.values()) if status is None else counts.get(status, 0)

    def server_errors(self) -> int:
        return sum(n for c in self.statuses.values() for s, n in c.items() if s >= 500)


class _Exchange(asyncio.Protocol):
    """One request on a connection of its own, read until the server closes it."""

    def __init__(self, payload: bytes, done: asyncio.Future):
        self.payload = payload
        self.done = done
        self.received: list[bytes] = []

    def connection_made(self, transport) -> None:
        transport.write(self.payload)

    def data_received(self, data: bytes) -> None:
        self.received.append(data)

    def eof_received(self) -> bool:
        return False  # let the transport close

    def connection_lost(self, exc) -> None:
        if self.done.done():
            return
        if exc is not None:
            self.done.set_exception(exc)
        else:
            self.done.set_result(b"".join(self.received))


async def request(port: int, method: str, path: str, token: str, body=None, headers=None):
    """One HTTP/1.1 request on a connection of its own: (status, headers, json body)."""
    payload = json.dumps(body).encode() if body is not None else b""
    lines = [
        f"{method} {path} HTTP/1.1",
        "Host: 127.0.0.1",
        f"Authorization: Bearer {token}",
        "Connection: close",
        f"Content-Length: {len(payload)}",
    ]
    if body is not None:
        lines.append("Content-Type: application/json")
    lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
    loop = asyncio.get_running_loop()
    done = loop.create_future()
    message = ("\r\n".join(lines) + "\r\n\r\n").encode() + payload
    transport, _ = await loop.create_connection(lambda: _Exchange(message, done), "127.0.0.1", port)
    try:
        raw = await done
    finally:
        transport.close()
    head, _, content = raw.partition(b"\r\n\r\n")
    head_lines = head.decode("latin-1").split("\r\n")
    status = int(head_lines[0].split()[1])
    found = {}
    for line in head_lines[1:]:
        name, _, value = line.partition(":")
        found[name.strip().lower()] = value.strip()
    if found.get("transfer-encoding") == "chunked":
        content = _unchunk(content)
    try:
        data = json.loads(content) if content else {}
    except ValueError:
        data = {}
    return status, found, data


def _unchunk(content: bytes) -> bytes:
    out, rest = b"", content
    while rest:
        size_line, _, rest = rest.partition(b"\r\n")
        size = int(size_line, 16)
        if size == 0:
            break
        out, rest = out + rest[:size], rest[size + 2 :]
    return out


async def timed(tally: Tally, kind: str, *args, **kwargs):
    started = time.monotonic()
    try:
        async with asyncio.timeout(TIMEOUT):
            result = await request(*args, **kwargs)
    except (TimeoutError, OSError, IndexError, ValueError):
        tally.timeouts[kind] = tally.timeouts.get(kind, 0) + 1
        return None
    tally.record(kind, result[0], time.monotonic() - started)
    return result


def place_number(token: str) -> int:
    raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    return int.from_bytes(raw[16:24], "big")


async def queued_person(tally, port, event_id, token, delay, started):
    await asyncio.sleep(delay)
    answer = await timed(tally, "join", port, "POST", f"/api/events/{event_id}/queue", token)
    if answer is None or answer[0] not in (200, 201):
        return
    _, headers, body = answer
    number = place_number(body["token"])
    tally.places.append((token, body["token"]))
    while body.get("status") != "admitted":
        await asyncio.sleep(int(headers.get("retry-after", "1")))
        answer = await timed(tally, "poll", port, "GET", f"/api/queue/{body['token']}", token)
        if answer is None or answer[0] != 200:
            return
        _, headers, body = answer
        tally.observed.append((time.monotonic() - started, number, body["status"] == "admitted"))
    booked = await timed(
        tally,
        "booking",
        port,
        "POST",
        "/api/bookings",
        token,
        {"event_id": event_id, "quantity": 1},
        {"Evently-Admission": body["admission_token"]},
    )
    if booked is not None and booked[0] == 201:
        tally.booked_at.append(time.monotonic() - started)


async def unqueued_person(tally, port, event_id, token, delay, started):
    await asyncio.sleep(delay)
    booked = await timed(
        tally,
        "booking",
        port,
        "POST",
        "/api/bookings",
        token,
        {"event_id": event_id, "quantity": 1},
    )
    if booked is not None and booked[0] == 201:
        tally.booked_at.append(time.monotonic() - started)


def run_crowd(port: int, event_id: str, tokens: list[str], queued: bool) -> Tally:
    tally = Tally()

    async def main():
        started = time.monotonic()
        person = queued_person if queued else unqueued_person
        await asyncio.gather(
            *(
                person(tally, port, event_id, token, ARRIVAL_SECONDS * i / len(tokens), started)
                for i, token in enumerate(tokens)
            )
        )

    run(main())
    return tally


def run(coroutine):
    """Run the client's coroutine to its end, on uvloop when it is installed."""
    return uvloop.run(coroutine) if uvloop is not None else asyncio.run(coroutine)


def order_violations(observed: list[tuple[float, int, bool]]) -> int:
    """Answers that contradict admission in arrival order: someone seen waiting after a
    later arrival was seen admitted."""
    violations, highest_admitted = 0, 0
    for _, number, admitted in sorted(observed):
        if admitted:
            highest_admitted = max(highest_admitted, number)
        elif number < highest_admitted:
            violations += 1
    return violations


def booking_rate(booked_at: list[float]) -> float:
    if len(booked_at) < 2:
        return 0.0
    times = sorted(booked_at)
    return (len(times) - 1) / (times[-1] - times[0])


def poll_load(port: int, token_pairs: list[tuple[str, str]], seconds: float, tally: Tally) -> int:
    """Polls only, from `len(token_pairs)` clients in a loop: for the CPU a poll costs."""

    async def poller(access, place, deadline):
        while time.monotonic() < deadline:
            await timed(tally, "poll-load", port, "GET", f"/api/queue/{place}", access)

    async def main():
        deadline = time.monotonic() + seconds
        await asyncio.gather(*(poller(a, p, deadline) for a, p in token_pairs))

    run(main())
    return tally.count("poll-load", 200)
