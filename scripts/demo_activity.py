"""A month of made-up sales on top of `load_demo_data`, so the dashboard screenshot has
something to show. Demo only, for a throwaway database: scripts/screenshot.sh runs

    python manage.py shell -c "from scripts.demo_activity import run; run()"

and tests/analytics/test_demo_activity.py holds what it makes to a recount of the bookings.

Every booking, cancellation, waitlist offer, acceptance, decline and expiry goes through the
services, each at its own moment of the past 30 days: the steps are queued by time and run in
that order, with time-machine moving the clock to each step first. So every row the services
write carries the time it would have had in real use, and every counter moves in the same
transaction as the rows it counts: the seats and revenue of the event, and the day totals of
analytics.SalesDay that the overview and the dashboard read (analytics.day_totals files a sale
under its booking_time and a cancellation under the moment it happens). Nothing is edited
afterwards.

Why not book today and then move the timestamps back, as this script once did: the day totals
are written with the booking, so they stay on today; every booking shows on one day, and the
earlier days' revenue goes below zero as cancellations take it from the day their booking
was moved to. Rebuilding the day totals after the move
would mend the chart but not the rest (waitlist offers, their deadlines and the notifications
would still be dated today), and the demo would take a path real bookings never take.

time-machine, not a patch of django.utils.timezone.now: the services read the clock through
model defaults too (`Booking.booking_time`, `WaitlistEntry.joined_at` hold the function
itself), and time-machine moves the clock under everything. It is a test dependency;
scripts/screenshot.sh installs it when the virtualenv has only the runtime ones.
"""

import contextlib
import heapq
import itertools
import random
from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal

import time_machine
from django.conf import settings
from django.utils import timezone

from accounts.models import User
from accounts.services import user_create
from bookings.models import Booking
from bookings.services import booking_cancel, booking_create, waitlist_offer_accept
from evently.exceptions import AlreadyCancelled, DomainError
from events.models import Event
from events.services import event_create
from waitlist.models import WaitlistEntry
from waitlist.services import waitlist_entry_leave, waitlist_expire_due

DAYS = 30
NEW_EVENTS = [
    ("Python Workshop: Async in Practice", "Tech Hub Room 2", 5, 30, "60.00"),
    ("Chamber Music Matinee", "St. Mary's Hall", 9, 60, "22.00"),
    ("Food Market Tasting Tour", "Old Harbour Market", 12, 150, "18.00"),
    ("Open-Air Cinema: Classics", "Riverside Lawn", 28, 300, "9.00"),
    ("Poetry Slam Finals", "The Loft", 2, 40, "8.00"),
]
# Sold out early on, then bookings cancelled now and then, their seats offered down the queue:
# (event, people waiting, bookings cancelled).
WAITLISTS = [("Python Workshop: Async in Practice", 24, 6), ("Stand-up Comedy Special", 10, 3)]


class Timeline:
    """Steps run in the order of their times, each with the clock at its time.

    A step may queue later ones (a booking its cancellation, a cancellation the answers to
    the offers it made). Steps after `end` never run: they have not happened yet.
    """

    def __init__(self, end: datetime):
        self.end = end
        self._queue: list = []
        self._order = itertools.count()  # steps at the same time run as queued

    def at(self, when: datetime, step: Callable, *args) -> None:
        if when <= self.end:
            heapq.heappush(self._queue, (when, next(self._order), step, args))

    def run(self) -> None:
        if not self._queue:
            return
        with time_machine.travel(self._queue[0][0]) as traveller:
            while self._queue:
                when, _, step, args = heapq.heappop(self._queue)
                traveller.move_to(when)
                step(*args)


class DemoMonth:
    def __init__(self, now: datetime):
        self.now = now
        self.start = now - timedelta(days=DAYS)
        self.rng = random.Random(7)
        self.timeline = Timeline(end=now)
        self.admin = User.objects.get(email="admin@evently.local")
        self.people: list[User] = []
        self.answered: set = set()  # offers whose answer is queued
        self.ttl = timedelta(seconds=settings.WAITLIST_OFFER_TTL_SECONDS)

    def run(self) -> None:
        self.timeline.at(self.start, self.open_month)
        # The expiry loop's round of this minute: no offer shown as open is past its time.
        self.timeline.at(self.now, waitlist_expire_due)
        self.timeline.run()

    # --- The steps --------------------------------------------------------------------------

    def open_month(self) -> None:
        """The guests sign up and five more events go on sale; then the month is planned."""
        self.people = [
            user_create(
                email=f"guest{i}@evently.local", name=f"Guest {i}", password=f"guest-pass-{i}x"
            )
            for i in range(120)
        ]
        evening = self.now.replace(hour=19, minute=0, second=0, microsecond=0)
        for name, venue, days, capacity, price in NEW_EVENTS:
            event_create(
                created_by=self.admin,
                name=name,
                venue=venue,
                event_time=evening + timedelta(days=days),
                total_capacity=capacity,
                price=Decimal(price),
            )
        self.plan_daily_sales()
        for name, waiters, rounds in WAITLISTS:
            self.plan_waitlist(Event.objects.get(name=name), waiters, rounds)

    def book(
        self, event: Event, person: User, quantity: int, cancel_after: timedelta | None = None
    ) -> None:
        try:
            booking = booking_create(
                event_id=event.pk, user=person, quantity=quantity, join_waitlist=False
            ).booking
        except DomainError:  # sold out, or the person's ten tickets reached
            return
        if cancel_after is not None:
            self.timeline.at(timezone.now() + cancel_after, self.cancel, booking)

    def cancel(self, booking: Booking, answer_offers: bool = True) -> None:
        try:
            booking_cancel(booking_id=booking.pk, actor=booking.user)
        except AlreadyCancelled:  # chosen by `cancel_a_booking` in the meantime
            return
        if answer_offers:
            self.answer_offers(booking.event)

    def sell_out(self, event: Event, buyers) -> None:
        """Two seats at a time, a few minutes apart, until none is left."""
        free = Event.objects.get(pk=event.pk).available_seats
        if free:
            self.book(event, next(buyers), min(free, 2))
            minutes = timedelta(minutes=self.rng.randint(2, 40))
            self.timeline.at(timezone.now() + minutes, self.sell_out, event, buyers)

    def join_waitlist(self, event: Event, person: User) -> None:
        with contextlib.suppress(DomainError):  # the ten-ticket limit
            booking_create(event_id=event.pk, user=person, quantity=1)

    def cancel_a_booking(self, event: Event, answer_offers: bool) -> None:
        victim = Booking.objects.filter(event=event, status="confirmed").order_by("id").first()
        if victim is not None:
            self.cancel(victim, answer_offers)

    def answer_offers(self, event: Event) -> None:
        """Each new offer is accepted, declined, or left to run out (the expiry loop then
        passes its seats on), within its time."""
        for entry in WaitlistEntry.objects.filter(event=event, status="offered"):
            if entry.pk in self.answered:
                continue
            self.answered.add(entry.pk)
            roll = self.rng.random()
            answered = entry.offered_at + self.ttl * self.rng.uniform(0.1, 0.8)
            if roll < 0.6:
                self.timeline.at(answered, self.accept, entry)
            elif roll < 0.85:
                self.timeline.at(entry.offer_expires_at + timedelta(seconds=30), self.expire, event)
            else:
                self.timeline.at(answered, self.decline, entry)

    def accept(self, entry: WaitlistEntry) -> None:
        waitlist_offer_accept(entry_id=entry.pk, user=entry.user)

    def decline(self, entry: WaitlistEntry) -> None:
        waitlist_entry_leave(entry_id=entry.pk, user=entry.user)
        self.answer_offers(entry.event)

    def expire(self, event: Event) -> None:
        waitlist_expire_due()  # what `expire_waitlist_offers` does on its next round
        self.answer_offers(event)

    # --- The plan ---------------------------------------------------------------------------

    def plan_daily_sales(self) -> None:
        """Bookings on each of the last 30 days, busier towards today and at weekends; about
        one in eight cancelled a few hours or days later."""
        events = list(Event.objects.exclude(name="Stand-up Comedy Special").order_by("name"))
        weights = [
            {"Django Conference Day": 6, "Evening Jazz Quartet": 4, "Indie Film Night": 3}.get(
                e.name, 2
            )
            for e in events
        ]
        latest = self.now - timedelta(minutes=5)
        for days_ago in range(DAYS - 1, -1, -1):
            day = (self.now - timedelta(days=days_ago)).replace(
                hour=0, minute=0, second=0, microsecond=0
            )
            count = self.rng.randint(2, 6) + (30 - days_ago) // 5 + (4 if day.weekday() >= 5 else 0)
            # Today's bookings happen in the part of today gone by.
            elapsed = max(min(latest - day, timedelta(days=1)), timedelta(0)) / timedelta(days=1)
            for _ in range(count):
                time_of_day = timedelta(
                    hours=self.rng.randint(8, 22), minutes=self.rng.randint(0, 59)
                )
                when = day + time_of_day * elapsed
                cancel_after = None
                if self.rng.random() < 0.12:
                    cancel_after = timedelta(hours=self.rng.randint(2, 72))
                self.timeline.at(
                    when,
                    self.book,
                    self.rng.choices(events, weights)[0],
                    self.rng.choice(self.people),
                    self.rng.choice([1, 1, 2, 2, 2, 3, 4]),
                    cancel_after,
                )

    def plan_waitlist(self, event: Event, waiters: int, rounds: int) -> None:
        """Sold out about three weeks ago, a queue the next day, then a booking cancelled
        every few days, its seats offered down the queue; the last one minutes ago, so its
        offers are still open."""
        day = self.now - timedelta(days=self.rng.randint(19, 22))
        sold_out = day.replace(hour=self.rng.randint(9, 12), minute=0, second=0, microsecond=0)
        self.timeline.at(sold_out, self.sell_out, event, iter(self.people[60:]))
        for i, person in enumerate(self.people[80 : 80 + waiters]):
            self.timeline.at(
                sold_out + timedelta(days=1, hours=i), self.join_waitlist, event, person
            )
        first, last = sold_out + timedelta(days=2), self.now - timedelta(minutes=10)
        for round_ in range(rounds):
            when = first + (last - first) * round_ / (rounds - 1)
            self.timeline.at(when, self.cancel_a_booking, event, round_ < rounds - 1)


def run() -> None:
    DemoMonth(timezone.now()).run()
    print(
        f"Demo activity: {Booking.objects.count()} bookings, "
        f"{WaitlistEntry.objects.exclude(offered_at=None).count()} waitlist offers."
    )
