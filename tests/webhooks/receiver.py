"""A webhook receiver on a real HTTP server bound to 127.0.0.1, for the tests.

It records every request (headers, body) and answers from a script: a list of statuses taken
in turn (then `default`), where "stall" holds the request open without answering.
"""

import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks import Webhook


class _Server(ThreadingHTTPServer):
    # socketserver listens with a backlog of 5: several delivery workers, each sending a batch
    # at once, overflow it, and a connection dropped there waits out TCP's SYN retry (1 s, then
    # 3 s more) into the sender's 5-second timeout, which then counts as a failed attempt.
    request_queue_size = 128


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    status: int | str


@dataclass
class Receiver:
    script: list = field(default_factory=list)
    default: int = 200
    received: list[Received] = field(default_factory=list)
    location: str = ""

    def __post_init__(self):
        self._lock = threading.Lock()
        self.release = threading.Event()  # lets stalled requests go
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # else each answer's last write waits on an ACK

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with receiver._lock:
                    status = receiver.script.pop(0) if receiver.script else receiver.default
                    receiver.received.append(Received(dict(self.headers), body, status))
                if status == "stall":
                    receiver.release.wait(60)
                    return
                self.send_response(status)
                if receiver.location and 300 <= status < 400:
                    self.send_header("Location", receiver.location)
                self.send_header("Content-Length", "2")
                self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.server = _Server(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks"

    def stop(self):
        self.release.set()
        self.server.shutdown()
        self.server.server_close()

    def verified(self, secret: str) -> list[dict]:
        """Every request's body, each verified with the standardwebhooks package (raises on
        any that fails)."""
        return [Webhook(secret).verify(r.body, r.headers) for r in self.received]

    def answered_ok(self) -> list[Received]:
        return [r for r in self.received if r.status == 200]
