from django.core.management.base import CommandError

from core.management.loop import LoopCommand
from notifications.delivery import deliver


class Command(LoopCommand):
    help = (
        "E-mail pending notifications and retry failed ones with backoff. Safe to run on many "
        "machines at once."
    )
    default_interval = 10.0

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("--batch", type=int, default=100, help="E-mails claimed per round.")

    def run_round(self, *, batch: int, **options) -> bool:
        if batch <= 0:
            raise CommandError("--batch must be positive")
        summary = deliver(limit=batch)
        self.stdout.write(f"send_notification_emails: {summary}")
        return summary.sent + summary.failed >= batch  # a full batch: more may be waiting
