import logging
import time
from contextlib import contextmanager
from datetime import datetime

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from bookings.models import Booking
from evently.demo import DEMO_ADMIN, DEMO_SCANNER, DEMO_USER, demo_loaded, load_demo
from waitlist.models import WaitlistEntry


@contextmanager
def services_quiet():
    """The services log every booking and offer at INFO, as they should when serving; the
    story makes hundreds, so while it runs only warnings and errors reach the log."""
    previous = logging.root.manager.disable
    logging.disable(logging.INFO)
    try:
        yield
    finally:
        logging.disable(previous)


class Command(BaseCommand):
    help = (
        "Load the demo data once (a month of bookings, waitlists, a cancelled event, past "
        "events and messages, told through the services at their past times; see "
        "evently/demo.py), then print the demo logins. Run again, it only prints the logins."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--force",
            action="store_true",
            help="Load it with DEBUG off too (the demo accounts' passwords are published).",
        )

    def handle(self, *args, **options):
        # The demo admin's password is in the README: with DEBUG off this is most likely a
        # production database, where that account would be a door left open.
        if not settings.DEBUG and not options["force"]:
            raise CommandError(
                "DEBUG is off: refusing to load the demo data, whose admin account has a "
                "published password. Run with DEBUG=true, or pass --force if this really is "
                "a trial database."
            )
        if demo_loaded():
            self.stdout.write("Demo data already loaded.")
        else:
            self.stdout.write(
                "Loading the demo data: a month of box office, booked at its times..."
            )
            started = time.monotonic()
            with services_quiet():
                made = load_demo(progress=self.week_begins)
            self.stdout.write(
                self.style.SUCCESS(
                    f"Demo data loaded in {time.monotonic() - started:.0f} s: "
                    f"{made['events']} events, {made['bookings']} bookings "
                    f"({made['cancelled']} cancelled), {made['waitlist']} waitlist entries "
                    f"({made['offers_open']} offers open)."
                )
            )
        self.stdout.write("Demo logins:")
        self.stdout.write(f"  admin: {DEMO_ADMIN[0]} / {DEMO_ADMIN[2]}  (also for /admin/)")
        self.stdout.write(f"  user:  {DEMO_USER[0]} / {DEMO_USER[2]}")
        self.stdout.write(
            f"  door:  {DEMO_SCANNER[0]} / {DEMO_SCANNER[2]}  (role scanner: the check-in desk)"
        )

    def week_begins(self, when: datetime) -> None:
        """One line per week of the story, so a first start shows it moving."""
        bookings = Booking.objects.count()
        if not bookings:
            self.stdout.write(f"  {when:%a %d %b}: the accounts are made, the events go on sale")
            return
        waiting = WaitlistEntry.objects.count()
        self.stdout.write(
            f"  {when:%a %d %b}: {bookings} bookings, {waiting} waitlist entries so far"
        )
