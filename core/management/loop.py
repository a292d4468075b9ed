import signal
import time

from django.core.management.base import BaseCommand, CommandError
from django.db import close_old_connections


class LoopCommand(BaseCommand):
    """A command that does one round of work, or keeps doing rounds with `--loop`.

    SIGTERM or SIGINT ends the loop after the round in progress, so a deployment can stop it
    without cutting a transaction short.
    """

    default_interval = 30.0

    def add_arguments(self, parser):
        parser.add_argument("--loop", action="store_true", help="Keep running.")
        parser.add_argument(
            "--interval",
            type=float,
            default=self.default_interval,
            help="Seconds between rounds with --loop.",
        )

    def run_round(self, **options) -> bool:
        """Do one round and print what it did; True when there is more to do at once."""
        raise NotImplementedError

    def handle(self, *args, loop: bool, interval: float, **options):
        if interval <= 0:
            raise CommandError("--interval must be positive")
        self._stop = False
        if loop:
            signal.signal(signal.SIGTERM, self._request_stop)
            signal.signal(signal.SIGINT, self._request_stop)
        while True:
            more = self.run_round(**options)
            if not loop or self._stop:
                return
            close_old_connections()
            deadline = time.monotonic() if more else time.monotonic() + interval
            while not self._stop and time.monotonic() < deadline:
                time.sleep(min(0.5, interval))
            if self._stop:
                return

    def _request_stop(self, signum, frame):
        self._stop = True
