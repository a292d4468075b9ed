"""The demo data's story: a month of a small venue's box office, told through the services.

`python manage.py load_demo_data` (which `make run` runs on every start) loads it once into a
new database, so a newcomer's first look at the console shows what it is for: a few weeks of
bookings and cancellations, two events sold out with a waitlist (one with offers open right
now), two events that already took place, one cancelled for the weather, one tonight whose
door is open (the check-in desk has people to let in, a few of them in already), and
messages staff sent to ticket holders, their e-mails delivered.

Every booking, cancellation, waitlist offer, acceptance, decline, expiry, cancellation of an
event and message goes through the services, each at its own moment of the past 30 days: the
steps are queued by time and run in that order, with time-machine moving the clock to each
step first. So every row the services write carries the time it would have had in real use,
and every counter moves in the same transaction as the rows it counts: the seats and revenue
of the events, and the day totals of bookings.SalesDay that the front page and the dashboard
read (bookings.sales files a sale under its booking_time and a cancellation under the moment
it happens). Nothing is edited afterwards.

Why not book today and then move the timestamps back: the day totals are written with the
booking, so they would stay on today, and waitlist offers, their deadlines and notifications
would be dated today too; the demo would take a path real bookings never take. time-machine,
not a patch of django.utils.timezone.now: the services read the clock through model defaults
too (`Booking.booking_time`, `WaitlistEntry.joined_at` hold the function itself), and
time-machine moves the clock under everything.

E-mail: the notifications are the outbox, and the mailer loop's rounds are steps of the story
too (`deliver`, every hour of story time), through Django's dummy e-mail backend, so
every demo notification is recorded as sent at its time and no e-mail leaves the machine.
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
from django.db import transaction
from django.test.utils import override_settings
from django.utils import timezone

from accounts.models import User
from accounts.services import user_create
from bookings.models import Booking
from bookings.services import booking_cancel, booking_create, waitlist_offer_accept
from bookings.tickets.codes import TicketRef
from bookings.tickets.services import ticket_check_in
from boxoffice.services import event_cancel, event_message_send, ticket_type_create
from core import locks
from core.exceptions import AlreadyCancelled, DomainError
from events.models import Event
from events.services import event_create
from notifications.delivery import deliver
from waitlist.models import WaitlistEntry
from waitlist.services import waitlist_entry_leave, waitlist_expire_due

DEMO_ADMIN = ("admin@evently.local", "Demo Admin", "evently-admin")
DEMO_USER = ("user@evently.local", "Demo User", "evently-user")
DEMO_SCANNER = ("door@evently.local", "Demo Door", "evently-door")
# Of a past event's tickets, the share let in at the door (the rest are the no-shows).
SHOW_UP = 0.85

DAYS = 30
# How often the story's mailer runs. The real loop runs every few seconds; an hour keeps the
# load to seconds (each round is a claim query), and a demo e-mail is sent within the hour.
MAILER_ROUND = timedelta(hours=1)

# (name, venue, days from now, capacity, price): on sale from the start of the month.
UPCOMING = [
    ("Evening Jazz Quartet", "Blue Note Hall", 7, 120, "35.00"),
    ("Django Conference Day", "Riverside Convention Centre", 21, 400, "149.00"),
    ("Indie Film Night", "Arcade Cinema", 3, 80, "12.50"),
    ("Symphony in the Park", "Central Park Bandstand", 45, 2000, "0.00"),
    ("Stand-up Comedy Special", "The Laughing Room", 10, 2, "25.00"),
    ("Python Workshop: Async in Practice", "Tech Hub Room 2", 5, 30, "60.00"),
    ("Chamber Music Matinee", "St. Mary's Hall", 9, 60, "22.00"),
    ("Food Market Tasting Tour", "Old Harbour Market", 12, 150, "18.00"),
    ("Open-Air Cinema: Classics", "Riverside Lawn", 28, 300, "9.00"),
    ("Poetry Slam Finals", "The Loft", 2, 40, "8.00"),
]
# The conference sells three ticket types; every other event its one "General admission".
CONFERENCE_TYPES = [
    # name, price, quota, max per booking
    ("Early bird", "99.00", 120, 4),
    ("Student", "49.00", 40, 1),
]
# Events that took place during the month (days before now).
PAST = [
    ("Autumn Wine Tasting", "Cellar Door Vintners", 16, 60, "28.00"),
    ("Salsa Night", "Casa Latina", 6, 100, "15.00"),
]
# Tonight's: (name, venue, capacity, price). It starts one to two hours after the load, so its
# check-in window is open and the desk lists it; its sales draw on a random generator of their
# own, so every other figure of the story stays what it was without it.
TONIGHT = ("Late Show: Open Mic Night", "The Corner Stage", 60, "10.00")
# Tonight's bookings over the last days, and the tickets already let in by the early arrivals.
TONIGHT_BOOKINGS = 24
TONIGHT_EARLY_ARRIVALS = 5
# Called off for the weather: (event, days from now it would have been, days ago cancelled).
CANCELLED = ("Rooftop Cinema: Summer Hits", "Skyline Rooftop", 3, 8, 80, "11.00")
# Sold out early on, then a booking cancelled now and then, its seats offered down the queue:
# (event, people waiting, bookings cancelled). The last cancellation is minutes ago, so its
# offers are still open.
WAITLISTS = [("Python Workshop: Async in Practice", 24, 6), ("Stand-up Comedy Special", 10, 3)]
# Staff's messages to ticket holders: (event, days ago, title, message).
MESSAGES = [
    (
        "Evening Jazz Quartet",
        2,
        "Doors open at 18:30",
        "Doors open at 18:30 and the quartet starts at 19:00. Please use the side entrance on "
        "Mill Street; the main door is closed for building work.",
    ),
    (
        "Django Conference Day",
        1,
        "Your badge and the schedule",
        "Pick up your badge at the registration desk from 08:00. The schedule is on the "
        "conference site; lunch is served in the east hall.",
    ),
]
# How much each event sells compared with the others.
WEIGHTS = {
    "Django Conference Day": 6,
    "Evening Jazz Quartet": 4,
    "Indie Film Night": 3,
    "Salsa Night": 4,
    "Autumn Wine Tasting": 3,
}

FIRST_NAMES = [
    "Maya", "Liam", "Amara", "Noah", "Sofia", "Kenji", "Lena", "Omar", "Priya", "Lucas",
    "Chloe", "Mateo", "Hana", "Felix", "Zara", "Jonas", "Ines", "Ravi", "Elena", "Theo",
]  # fmt: skip
LAST_NAMES = ["Okafor", "Lindqvist", "Moreau", "Tanaka", "Silva", "Novak"]


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

    def run(self, progress: Callable[[datetime], None] | None = None) -> None:
        """`progress`, when given, is called with the story's time as each week begins."""
        if not self._queue:
            return
        week = self._queue[0][0]
        with time_machine.travel(self._queue[0][0]) as traveller:
            while self._queue:
                when, _, step, args = heapq.heappop(self._queue)
                if progress and when >= week:
                    progress(when)
                    week = when + timedelta(days=7)
                traveller.move_to(when)
                step(*args)


class DemoStory:
    def __init__(self, now: datetime):
        self.now = now
        self.start = now - timedelta(days=DAYS)
        self.rng = random.Random(7)
        self.timeline = Timeline(end=now)
        self.admin: User | None = None
        self.scanner: User | None = None
        self.people: list[User] = []
        self.answered: set = set()  # offers whose answer is queued
        self.ttl = timedelta(seconds=settings.WAITLIST_OFFER_TTL_SECONDS)

    def run(self, progress: Callable[[datetime], None] | None = None) -> None:
        self.timeline.at(self.start, self.open_month)
        round_ = self.start + MAILER_ROUND
        while round_ <= self.now:
            self.timeline.at(round_, self.mailer_round)
            round_ += MAILER_ROUND
        # The expiry loop's and the mailer's rounds of this minute: no offer shown as open is
        # past its time, and no e-mail is left waiting.
        self.timeline.at(self.now, waitlist_expire_due)
        self.timeline.at(self.now, self.mailer_round)
        self.timeline.run(progress)

    # --- The steps --------------------------------------------------------------------------

    def open_month(self) -> None:
        """The accounts are made and the events go on sale; then the month is planned."""
        self.admin = user_create(
            email=DEMO_ADMIN[0], name=DEMO_ADMIN[1], password=DEMO_ADMIN[2], role="admin"
        )
        demo_user = user_create(email=DEMO_USER[0], name=DEMO_USER[1], password=DEMO_USER[2])
        self.scanner = user_create(
            email=DEMO_SCANNER[0], name=DEMO_SCANNER[1], password=DEMO_SCANNER[2], role="scanner"
        )
        names = [f"{first} {last}" for last in LAST_NAMES for first in FIRST_NAMES]
        # The guests book; nobody signs in as them, so they have no password (and hashing 120
        # of them with Argon2 would be most of the load's time).
        self.people = [
            user_create(
                email=f"{name.lower().replace(' ', '.')}@example.com", name=name, password=None
            )
            for name in names
        ]
        evening = self.now.replace(hour=19, minute=0, second=0, microsecond=0)
        for name, venue, days, capacity, price in UPCOMING:
            self.create_event(name, venue, evening + timedelta(days=days), capacity, price)
        conference = Event.objects.get(name="Django Conference Day")
        for position, (name, price, quota, most) in enumerate(CONFERENCE_TYPES, start=1):
            ticket_type_create(
                event_id=conference.pk,
                actor=self.admin,
                name=name,
                price=Decimal(price),
                quota=quota,
                max_per_booking=most,
                position=position,
            )
        for name, venue, days_ago, capacity, price in PAST:
            past = self.create_event(
                name, venue, evening - timedelta(days=days_ago), capacity, price
            )
            # Doors open half an hour before: most of the tickets sold by then are let in.
            self.timeline.at(past.event_time - timedelta(minutes=20), self.open_doors, past)
        name, venue, days, cancelled_ago, capacity, price = CANCELLED
        rooftop = self.create_event(name, venue, evening + timedelta(days=days), capacity, price)
        self.timeline.at(self.now - timedelta(days=cancelled_ago, hours=3), self.call_off, rooftop)
        self.plan_tonight()

        self.plan_daily_sales()
        for name, waiters, rounds in WAITLISTS:
            self.plan_waitlist(Event.objects.get(name=name), waiters, rounds)
        for name, days_ago, title, message in MESSAGES:
            when = self.now - timedelta(days=days_ago, hours=2)
            self.timeline.at(when, self.message, Event.objects.get(name=name), title, message)
        # The demo user's own: two tickets for the jazz, and a place in the workshop's queue.
        jazz = Event.objects.get(name="Evening Jazz Quartet")
        self.timeline.at(self.now - timedelta(days=3), self.book, jazz, demo_user, 2)
        workshop = Event.objects.get(name="Python Workshop: Async in Practice")
        self.timeline.at(self.now - timedelta(days=2), self.join_waitlist, workshop, demo_user)

    def create_event(self, name, venue, when, capacity, price) -> Event:
        return event_create(
            created_by=self.admin,
            name=name,
            description=f"{name} at {venue}.",
            venue=venue,
            event_time=when,
            total_capacity=capacity,
            price=Decimal(price),
        )

    def book(
        self, event: Event, person: User, quantity: int, cancel_after: timedelta | None = None
    ) -> None:
        try:
            booking = booking_create(
                event_id=event.pk, user=person, join_waitlist=False, **self.order(event, quantity)
            ).booking
        except DomainError:  # sold out, started or cancelled, or the person's ten tickets
            return
        if cancel_after is not None:
            self.timeline.at(timezone.now() + cancel_after, self.cancel, booking)

    def order(self, event: Event, quantity: int) -> dict:
        """What a buyer asks for: `quantity` tickets, of one of the types on sale when the event
        sells several (each type as likely, within its limit per booking)."""
        types = [t for t in event.ticket_types.all() if t.on_sale_at(timezone.now())]
        if len(types) < 2:
            return {"quantity": quantity}
        chosen = self.rng.choice(types)
        return {
            "items": [
                {"ticket_type_id": chosen.pk, "quantity": min(quantity, chosen.max_per_booking)}
            ]
        }

    def book_something(self, person: User, quantity: int, cancel_after) -> None:
        """A booking for one of the events on sale at this moment, the popular ones likelier."""
        on_sale = list(
            Event.objects.filter(status="scheduled", event_time__gt=timezone.now())
            .exclude(name__in=[name for name, *_ in WAITLISTS] + [TONIGHT[0]])
            .order_by("name")
        )
        if on_sale:
            weights = [WEIGHTS.get(event.name, 2) for event in on_sale]
            self.book(self.rng.choices(on_sale, weights)[0], person, quantity, cancel_after)

    def cancel(self, booking: Booking, answer_offers: bool = True) -> None:
        try:
            booking_cancel(booking_id=booking.pk, actor=booking.user)
        except (AlreadyCancelled, DomainError):  # cancelled already, or the event started
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
        with contextlib.suppress(DomainError):  # the event started meanwhile
            waitlist_offer_accept(entry_id=entry.pk, user=entry.user)

    def decline(self, entry: WaitlistEntry) -> None:
        with contextlib.suppress(DomainError):
            waitlist_entry_leave(entry_id=entry.pk, user=entry.user)
        self.answer_offers(entry.event)

    def expire(self, event: Event) -> None:
        waitlist_expire_due()  # what `expire_waitlist_offers` does on its next round
        self.answer_offers(event)

    def call_off(self, event: Event) -> None:
        event_cancel(event_id=event.pk, actor=self.admin)

    def open_doors(self, event: Event) -> None:
        """The door scans most tickets of the event's confirmed bookings, through the same
        check-in service as the desk and the API."""
        for booking in Booking.objects.filter(event=event, status=Booking.Status.CONFIRMED):
            for index in range(booking.quantity):
                if self.rng.random() < SHOW_UP:
                    ticket_check_in(
                        ref=TicketRef(booking.pk, index), event_id=event.pk, actor=self.scanner
                    )

    def early_arrivals(self, event: Event) -> None:
        """The first people at tonight's door, let in through the check-in service."""
        let_in = 0
        for booking in Booking.objects.filter(event=event, status=Booking.Status.CONFIRMED):
            for index in range(booking.quantity):
                if let_in == TONIGHT_EARLY_ARRIVALS:
                    return
                ticket_check_in(
                    ref=TicketRef(booking.pk, index), event_id=event.pk, actor=self.scanner
                )
                let_in += 1

    def message(self, event: Event, title: str, message: str) -> None:
        event_message_send(event_id=event.pk, actor=self.admin, title=title, message=message)

    def mailer_round(self) -> None:
        deliver(limit=1000)  # what `send_notification_emails --loop` does on each round

    # --- The plan ---------------------------------------------------------------------------

    def plan_daily_sales(self) -> None:
        """Bookings on each of the last 30 days, busier towards today and at weekends; about
        one in eight cancelled a few hours or days later."""
        latest = self.now - timedelta(minutes=5)
        for days_ago in range(DAYS - 1, -1, -1):
            day = (self.now - timedelta(days=days_ago)).replace(
                hour=0, minute=0, second=0, microsecond=0
            )
            count = self.rng.randint(3, 7) + (30 - days_ago) // 4 + (5 if day.weekday() >= 5 else 0)
            # Today's bookings happen in the part of today gone by.
            elapsed = max(min(latest - day, timedelta(days=1)), timedelta(0)) / timedelta(days=1)
            for _ in range(count):
                time_of_day = timedelta(
                    hours=self.rng.randint(8, 22), minutes=self.rng.randint(0, 59)
                )
                cancel_after = None
                if self.rng.random() < 0.12:
                    cancel_after = timedelta(hours=self.rng.randint(2, 72))
                self.timeline.at(
                    day + time_of_day * elapsed,
                    self.book_something,
                    self.rng.choice(self.people),
                    self.rng.choice([1, 1, 2, 2, 2, 3, 4]),
                    cancel_after,
                )

    def plan_tonight(self) -> None:
        """Tonight's event, on sale from the start of the month and booked over its last ten
        days, with its first guests in a few minutes ago."""
        name, venue, capacity, price = TONIGHT
        starts = (self.now + timedelta(hours=2)).replace(minute=0, second=0, microsecond=0)
        tonight = self.create_event(name, venue, starts, capacity, price)
        rng = random.Random(23)  # its own, so the rest of the story draws what it always drew
        for _ in range(TONIGHT_BOOKINGS):
            when = self.now - timedelta(days=rng.uniform(0.05, 10))
            self.timeline.at(when, self.book, tonight, rng.choice(self.people), rng.randint(1, 3))
        self.timeline.at(self.now - timedelta(minutes=10), self.early_arrivals, tonight)

    def plan_waitlist(self, event: Event, waiters: int, rounds: int) -> None:
        """Sold out about three weeks ago, a queue the next day, then a booking cancelled
        every few days, its seats offered down the queue; the last one minutes ago, so its
        offers are still open."""
        day = self.now - timedelta(days=self.rng.randint(19, 22))
        sold_out = day.replace(hour=self.rng.randint(9, 12), minute=0, second=0, microsecond=0)
        self.timeline.at(sold_out, self.sell_out, event, iter(self.people[40:]))
        for i, person in enumerate(self.people[70 : 70 + waiters]):
            self.timeline.at(
                sold_out + timedelta(days=1, hours=i), self.join_waitlist, event, person
            )
        first, last = sold_out + timedelta(days=2), self.now - timedelta(minutes=10)
        for round_ in range(rounds):
            when = first + (last - first) * round_ / (rounds - 1)
            self.timeline.at(when, self.cancel_a_booking, event, round_ < rounds - 1)


def demo_loaded() -> bool:
    return User.objects.filter(email=DEMO_ADMIN[0]).exists()


def load_demo(
    now: datetime | None = None, progress: Callable[[datetime], None] | None = None
) -> dict[str, int]:
    """Tell the story up to `now`, in one transaction (all of it or nothing), with e-mail
    going to Django's dummy backend; returns what it made. `progress` hears of each week."""
    with (
        override_settings(
            EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend",
            NOTIFICATION_EMAIL_ON_COMMIT=False,  # the story's mailer rounds send them
            # The story's bookings are settled ones, whatever provider serves new checkouts.
            PAYMENT_PROVIDER="none",
        ),
        transaction.atomic(),
        # The story runs alone, before anything serves: its one transaction spans every step.
        locks.running_alone(),
    ):
        DemoStory(now or timezone.now()).run(progress)
    return {
        "events": Event.objects.count(),
        "bookings": Booking.objects.count(),
        "cancelled": Booking.objects.filter(status="cancelled").count(),
        "waitlist": WaitlistEntry.objects.count(),
        "offers_open": WaitlistEntry.objects.filter(status="offered").count(),
    }
