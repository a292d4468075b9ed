import signal
import time

from django.core.management.base import BaseCommand, CommandError
from django.db import close_old_connections

from notifications.delivery import deliver


class Command(BaseCommand):
    help = (
        "E-mail pending notifications and retry failed ones with backoff. Safe to run on many "
        "machines at once."
    )

    def add_arguments(self, parser):
        parser.add_argument("--loop", action="store_true", help="Keep running.")
        parser.add_argument(
            "--interval", type=float, default=10.0, help="Seconds between runs with --loop."
        )
        parser.add_argument("--batch", type=int, default=100, help="E-mails claimed per round.")

    def handle(self, *args, loop: bool, interval: float, batch: int, **options):
        if interval <= 0 or batch <= 0:
            raise CommandError("--interval and --batch must be positive")
        self._stop = False
        if loop:
            signal.signal(signal.SIGTERM, self._request_stop)
            signal.signal(signal.SIGINT, self._request_stop)
        while True:
            summary = deliver(limit=batch)
            self.stdout.write(f"send_notification_emails: {summary}")
            if not loop or self._stop:
                return
            close_old_connections()
            if summary.sent + summary.failed < batch:  # caught up: wait for more
                deadline = time.monotonic() + interval
                while not self._stop and time.monotonic() < deadline:
                    time.sleep(min(0.5, interval))
            if self._stop:
                return

    def _request_stop(self, signum, frame):
        self._stop = True
