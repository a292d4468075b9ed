from core.management.loop import LoopCommand
from waitlist.services import waitlist_expire_due


class Command(LoopCommand):
    help = (
        "Expire waitlist offers past their deadline, pass their seats on, and close the "
        "waitlists of events that have started. Safe to run on many machines at once."
    )
    default_interval = 30.0

    def run_round(self, **options) -> bool:
        self.stdout.write(f"expire_waitlist_offers: {waitlist_expire_due()}")
        return False
