from datetime import UTC, datetime, time, timedelta

from django.core.management.base import CommandError

from core.management.loop import LoopCommand
from webhooks.delivery import deliver
from webhooks.services import deliveries_replay


class Command(LoopCommand):
    help = (
        "Send due webhook deliveries and retry failed ones on their schedule. Safe to run on "
        "many machines at once. --replay-failed DAY queues again that day's failed deliveries."
    )
    default_interval = 1.0

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("--batch", type=int, default=20, help="Deliveries claimed per round.")
        parser.add_argument(
            "--replay-failed",
            metavar="YYYY-MM-DD",
            help="Queue again the failed deliveries of messages written that day (UTC), then "
            "deliver as usual.",
        )
        parser.add_argument("--endpoint", help="With --replay-failed: this endpoint's only.")

    def handle(self, *args, replay_failed=None, endpoint=None, **options):
        if replay_failed:
            try:
                day = datetime.strptime(replay_failed, "%Y-%m-%d").date()
            except ValueError:
                raise CommandError("--replay-failed takes a day as YYYY-MM-DD") from None
            since = datetime.combine(day, time.min, tzinfo=UTC)
            count = deliveries_replay(
                since=since, until=since + timedelta(days=1), endpoint_id=endpoint
            )
            self.stdout.write(f"deliver_webhooks: queued {count} failed deliveries of {day}")
        elif endpoint:
            raise CommandError("--endpoint goes with --replay-failed")
        super().handle(*args, **options)

    def run_round(self, *, batch: int, **options) -> bool:
        if batch <= 0:
            raise CommandError("--batch must be positive")
        summary = deliver(limit=batch)
        self.stdout.write(f"deliver_webhooks: {summary}", ending="\n")
        self.stdout.flush()
        done = summary.delivered + summary.failed + summary.given_up
        return done >= batch  # a full batch: more may be waiting
