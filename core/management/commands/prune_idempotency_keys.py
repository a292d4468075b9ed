from django.core.management.base import BaseCommand

from core.idempotency import idempotency_keys_prune


class Command(BaseCommand):
    help = "Delete Idempotency-Key records older than 24 hours (run daily, or more often)."

    def handle(self, *args, **options):
        self.stdout.write(f"prune_idempotency_keys: deleted {idempotency_keys_prune()} key(s)")
