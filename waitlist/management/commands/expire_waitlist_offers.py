import signal
import time

from django.core.management.base import BaseCommand, CommandError
from django.db import close_old_connections

from waitlist.services import waitlist_expire_due


class Command(BaseCommand):
    help = (
        "Expire waitlist offers past their deadline, pass their seats on, and close the "
        "waitlists of events that have started. Safe to run on many machines at once."
    )

    def add_arguments(self, parser):
        parser.add_argument("--loop", action="store_true", help="Keep running.")
        parser.add_argument(
            "--interval", type=float, default=30.0, help="Seconds between runs with --loop."
        )

    def handle(self, *args, loop: bool, interval: float, **options):
        if interval <= 0:
            raise CommandError("--interval must be positive")
        self._stop = False
        if loop:
            signal.signal(signal.SIGTERM, self._request_stop)
            signal.signal(signal.SIGINT, self._request_stop)
        while True:
            summary = waitlist_expire_due()
            self.stdout.write(f"expire_waitlist_offers: {summary}")
            if not loop or self._stop:
                return
            close_old_connections()
            deadline = time.monotonic() + interval
            while not self._stop and time.monotonic() < deadline:
                time.sleep(min(0.5, interval))
            if self._stop:
                return

    def _request_stop(self, signum, frame):
        self._stop = True
