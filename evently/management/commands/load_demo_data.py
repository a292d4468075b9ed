from django.core.management.base import BaseCommand

from evently.demo import DEMO_ADMIN, DEMO_SCANNER, DEMO_USER, demo_loaded, load_demo


class Command(BaseCommand):
    help = (
        "Load the demo data once (a month of bookings, waitlists, a cancelled event, past "
        "events and messages, told through the services at their past times; see "
        "evently/demo.py), then print the demo logins. Run again, it only prints the logins."
    )

    def handle(self, *args, **options):
        if demo_loaded():
            self.stdout.write("Demo data already loaded.")
        else:
            self.stdout.write(
                "Loading the demo data: a month of box office, booked at its times..."
            )
            made = load_demo()
            self.stdout.write(
                self.style.SUCCESS(
                    f"Demo data loaded: {made['events']} events, {made['bookings']} bookings "
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
