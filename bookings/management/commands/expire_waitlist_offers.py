from bookings import checkout
from core.management.loop import LoopCommand
from waitlist.services import waitlist_expire_due


class Command(LoopCommand):
    help = (
        "Expire waitlist offers and checkouts past their deadline, pass their seats on, close "
        "the waitlists of events that have started, and refund paid bookings still due a "
        "refund. Safe to run on many machines at once."
    )
    default_interval = 30.0

    def run_round(self, **options) -> bool:
        # Lives with the bookings, which may use the waitlist's services (below them) and the
        # checkout's: one command, one loop, for everything that ends with time.
        offers = waitlist_expire_due()
        checkouts = checkout.expire_due()
        refunds = checkout.refund_due()
        self.stdout.write(
            f"expire_waitlist_offers: {offers}; expired {checkouts} checkout(s), "
            f"refunded {refunds} booking(s)"
        )
        return False
