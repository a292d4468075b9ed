"""`make bench-webhooks`: how many webhook messages a second one `deliver_webhooks` worker
delivers to a receiver on the same machine.

A fresh database with one endpoint and N booking.confirmed messages already written; the
receiver is a separate process (Python's threading HTTP server, answering 204 at once); the
worker is the command compose runs, timed from its first delivery to its last.
"""

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.prepare import environment, fresh_database  # noqa: E402

DB_NAME = "evently_webhooks_bench"
RECEIVER = """
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    def do_POST(self):
        self.rfile.read(int(self.headers["Content-Length"]))
        self.send_response(204); self.send_header("Connection", "close"); self.end_headers()
    def log_message(self, *a): pass
ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=5000)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--port", type=int, default=8099)
    args = parser.parse_args()
    os.environ.update(environment(DB_NAME), WEBHOOKS_ALLOW_INSECURE="true")
    fresh_database(DB_NAME)
    import django

    django.setup()
    from django.db import transaction

    from webhooks import outbox
    from webhooks.models import WebhookDelivery
    from webhooks.services import endpoint_create

    receiver = subprocess.Popen([sys.executable, "-c", RECEIVER, str(args.port)])
    worker = None
    try:
        endpoint_create(actor=None, url=f"http://127.0.0.1:{args.port}/in", events=["*"])
        data = {"id": "0" * 36, "status": "confirmed", "quantity": 1, "total_amount": "20.00"}
        for start in range(0, args.messages, 500):
            with transaction.atomic():
                outbox.record("booking.confirmed", [data] * min(500, args.messages - start))
        delivered = WebhookDelivery.objects.filter(status="delivered")
        worker = subprocess.Popen(
            [
                sys.executable,
                "manage.py",
                "deliver_webhooks",
                "--loop",
                "--interval",
                "0.2",
                "--batch",
                str(args.batch),
            ],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
        )
        while not delivered.exists():
            time.sleep(0.01)
        first = time.monotonic()
        while (done := delivered.count()) < args.messages:
            time.sleep(0.05)
        seconds = time.monotonic() - first
        print(
            f"{done} webhook messages from one worker (batch {args.batch}) to a local receiver "
            f"in {seconds:.2f} s: {done / seconds:.0f} messages/s"
        )
    finally:
        if worker:
            worker.terminate()
            worker.wait(30)
        receiver.terminate()
    return 0


if __name__ == "__main__":
    sys.exit(main())
