# A month of made-up sales on top of `load_demo_data`, so the dashboard screenshot has
# something to show. Demo only, for a throwaway database (scripts/screenshot.sh runs it with
# `manage.py shell < scripts/demo_activity.py`).
# Every write goes through the services; only the timestamps are moved back afterwards, so the
# bookings spread over the past days while the seat counters stay exact.
import random
from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from accounts.models import User
from accounts.services import user_create
from bookings.models import Booking
from bookings.services import booking_cancel, booking_create
from evently.exceptions import DomainError
from events.models import Event
from events.services import event_create
from waitlist.models import WaitlistEntry
from waitlist.services import waitlist_entry_leave, waitlist_offer_accept, waitlist_offer_expire

rng = random.Random(7)
now = timezone.now()
admin = User.objects.get(email="admin@evently.local")
people = [
    user_create(email=f"guest{i}@evently.local", name=f"Guest {i}", password=f"guest-pass-{i}x")
    for i in range(120)
]
evening = now.replace(hour=19, minute=0, second=0, microsecond=0)
for name, venue, days, capacity, price in [
    ("Python Workshop: Async in Practice", "Tech Hub Room 2", 5, 30, "60.00"),
    ("Chamber Music Matinee", "St. Mary's Hall", 9, 60, "22.00"),
    ("Food Market Tasting Tour", "Old Harbour Market", 12, 150, "18.00"),
    ("Open-Air Cinema: Classics", "Riverside Lawn", 28, 300, "9.00"),
    ("Poetry Slam Finals", "The Loft", 2, 40, "8.00"),
]:
    event_create(
        created_by=admin,
        name=name,
        venue=venue,
        event_time=evening + timedelta(days=days),
        total_capacity=capacity,
        price=Decimal(price),
    )
events = list(Event.objects.exclude(name="Stand-up Comedy Special"))
weights = [
    {"Django Conference Day": 6, "Evening Jazz Quartet": 4, "Indie Film Night": 3}.get(e.name, 2)
    for e in events
]


def backdate(booking, when):
    Booking.objects.filter(pk=booking.pk).update(booking_time=when, created_at=when)


def book(event, person, quantity, when):
    try:
        outcome = booking_create(
            event_id=event.pk, user=person, quantity=quantity, join_waitlist=False
        )
    except DomainError:
        return None
    backdate(outcome.booking, when)
    return outcome.booking


# Bookings over the last 30 days, busier towards today and at weekends; some cancelled later.
for days_ago in range(29, -1, -1):
    day = now - timedelta(days=days_ago)
    count = rng.randint(2, 6) + (30 - days_ago) // 5 + (4 if day.weekday() >= 5 else 0)
    for _ in range(count):
        event = rng.choices(events, weights)[0]
        when = min(day.replace(hour=rng.randint(8, 22), minute=rng.randint(0, 59)), now)
        booking = book(event, rng.choice(people), rng.choice([1, 1, 2, 2, 2, 3, 4]), when)
        if booking and rng.random() < 0.12:
            booking_cancel(booking_id=booking.pk, actor=booking.user)
            later = min(when + timedelta(hours=rng.randint(2, 72)), now)
            Booking.objects.filter(pk=booking.pk).update(cancelled_at=later)


def waitlist_round(event, waiters, rounds):
    """Sell the event out, queue people, then free seats again and again; each offer is
    accepted, left to expire or declined; the last one stays open."""
    free = Event.objects.get(pk=event.pk).available_seats
    buyers = iter(people[60:])
    while free > 0:
        booking = book(event, next(buyers), min(free, 2), now - timedelta(days=rng.randint(3, 20)))
        free -= booking.quantity
    for person in people[100 : 100 + waiters]:
        booking_create(event_id=event.pk, user=person, quantity=1)
    for round_ in range(rounds):
        confirmed = Booking.objects.filter(event=event, status="confirmed").order_by("id")
        victim = confirmed.first()
        booking_cancel(booking_id=victim.pk, actor=victim.user)
        last = round_ == rounds - 1
        for entry in WaitlistEntry.objects.filter(event=event, status="offered"):
            roll = rng.random()
            if last:
                continue
            if roll < 0.6:
                booking = waitlist_offer_accept(entry_id=entry.pk, user=entry.user)
                backdate(booking, now - timedelta(days=rng.randint(0, 10), hours=2))
            elif roll < 0.85:
                waitlist_offer_expire(entry_id=entry.pk, actor=admin)
            else:
                waitlist_entry_leave(entry_id=entry.pk, user=entry.user)


waitlist_round(Event.objects.get(name="Python Workshop: Async in Practice"), 14, 6)
waitlist_round(Event.objects.get(name="Stand-up Comedy Special"), 6, 3)
print(
    f"Demo activity: {Booking.objects.count()} bookings, "
    f"{WaitlistEntry.objects.exclude(offered_at=None).count()} waitlist offers."
)
