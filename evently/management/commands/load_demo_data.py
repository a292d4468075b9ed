from datetime import timedelta
from decimal import Decimal

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from accounts.services import user_create
from events.services import event_create

DEMO_ADMIN = ("admin@evently.local", "Demo Admin", "evently-admin")
DEMO_USER = ("user@evently.local", "Demo User", "evently-user")

DEMO_EVENTS = [
    ("Evening Jazz Quartet", "Blue Note Hall", 7, 120, "35.00"),
    ("Django Conference Day", "Riverside Convention Centre", 21, 400, "149.00"),
    ("Indie Film Night", "Arcade Cinema", 3, 80, "12.50"),
    ("Symphony in the Park", "Central Park Bandstand", 45, 2000, "0.00"),
    ("Stand-up Comedy Special", "The Laughing Room", 10, 2, "25.00"),
]


class Command(BaseCommand):
    help = "Load demo users and events, once: does nothing if the demo admin exists."

    def handle(self, *args, **options):
        if User.objects.filter(email=DEMO_ADMIN[0]).exists():
            self.stdout.write("Demo data already loaded.")
            return
        with transaction.atomic():
            admin = user_create(
                email=DEMO_ADMIN[0], name=DEMO_ADMIN[1], password=DEMO_ADMIN[2], role="admin"
            )
            user_create(email=DEMO_USER[0], name=DEMO_USER[1], password=DEMO_USER[2])
            now = timezone.now().replace(minute=0, second=0, microsecond=0)
            for name, venue, days, capacity, price in DEMO_EVENTS:
                event_create(
                    created_by=admin,
                    name=name,
                    description=f"{name} at {venue}.",
                    venue=venue,
                    event_time=now + timedelta(days=days, hours=19 - now.hour),
                    total_capacity=capacity,
                    price=Decimal(price),
                )
        self.stdout.write(self.style.SUCCESS("Demo data loaded."))
        self.stdout.write(f"  admin: {DEMO_ADMIN[0]} / {DEMO_ADMIN[2]}  (also for /admin/)")
        self.stdout.write(f"  user:  {DEMO_USER[0]} / {DEMO_USER[2]}")
