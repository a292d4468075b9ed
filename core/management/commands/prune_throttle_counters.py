from django.core.management.base import BaseCommand

from core.throttling import throttle_counters_prune


class Command(BaseCommand):
    help = (
        "Delete throttle counters of windows that have ended (without Redis; run hourly). "
        "Nothing depends on it but the table's size."
    )

    def handle(self, *args, **options):
        self.stdout.write(
            f"prune_throttle_counters: deleted {throttle_counters_prune()} counter(s)"
        )
