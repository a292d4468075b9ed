import uuid

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.formats import date_format
from django.utils.timezone import localtime

from core.validators import OneLineCharField

MAX_CAPACITY = 1_000_000
# One booking's tickets, across its types; a ticket type's max_per_booking stays within it.
MAX_TICKETS_PER_BOOKING = 10


class Event(models.Model):
    """Something people book seats for.

    Seats are kept in three counters that always add up to the capacity:

        available_seats + booked_seats + held_seats == total_capacity

    `booked_seats` is the tickets of confirmed bookings and `held_seats` the seats held by
    waitlist offers and by checkouts waiting for payment. Only services change them, with the
    event row locked, and the database refuses any write that breaks the sum.
    """

    class Status(models.TextChoices):
        SCHEDULED = "scheduled", "Scheduled"
        CANCELLED = "cancelled", "Cancelled"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = OneLineCharField(max_length=200)
    description = models.TextField(blank=True, default="")
    venue = OneLineCharField(max_length=200)
    event_time = models.DateTimeField()
    total_capacity = models.PositiveIntegerField()
    available_seats = models.PositiveIntegerField()
    booked_seats = models.PositiveIntegerField(default=0)
    held_seats = models.PositiveIntegerField(default=0)
    # The total_amount of the confirmed bookings, kept by the seat ledger alongside
    # booked_seats, so staff figures never have to add up every booking.
    revenue = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    # Kept by the seat ledger with booked_seats too, for the per-event analytics: the number
    # of confirmed bookings, and the bookings and tickets cancelled so far.
    confirmed_bookings = models.PositiveIntegerField(default=0)
    cancelled_bookings = models.PositiveIntegerField(default=0)
    cancelled_tickets = models.PositiveIntegerField(default=0)
    # The lowest price of the active ticket types, kept by events.ticket_types with them (the
    # list's filters and ordering read it).
    price = models.DecimalField(max_digits=10, decimal_places=2)
    # Bumped by every write to the event's ticket types, under the event lock: the plain
    # booking's statement compares it with its copy of the types (bookings.statements), so a
    # type changed behind the copy's back is never sold from the copy.
    ticket_types_version = models.PositiveIntegerField(default=0, db_default=0)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.SCHEDULED)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["event_time", "id"]
        indexes = [
            # The public list: scheduled events from now on, soonest first. Its exact `count`
            # reads this index alone (an index-only scan, half the cost of reading the table),
            # which the planner chooses only while the index is narrow: with `id` in it too it
            # read the whole table instead. The page query reads the index in order and sorts
            # only the events that share an `event_time` by `id` (an incremental sort).
            models.Index(
                fields=["event_time"],
                condition=Q(status="scheduled"),
                name="events_event_upcoming_idx",
            ),
            # Staff lists of every event, newest first. (No index on the seat counters: a booking
            # then updates the row in place, without touching any index.)
            models.Index(fields=["-event_time", "id"], name="events_event_time_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(total_capacity__gte=1, total_capacity__lte=MAX_CAPACITY),
                name="events_event_capacity_range",
            ),
            models.CheckConstraint(
                condition=Q(available_seats__gte=0), name="events_event_available_non_negative"
            ),
            models.CheckConstraint(
                condition=Q(available_seats__lte=F("total_capacity")),
                name="events_event_available_within_capacity",
            ),
            models.CheckConstraint(
                condition=Q(booked_seats__gte=0, held_seats__gte=0),
                name="events_event_counters_non_negative",
            ),
            models.CheckConstraint(
                condition=Q(
                    confirmed_bookings__gte=0,
                    confirmed_bookings__lte=F("booked_seats"),
                    cancelled_bookings__gte=0,
                    cancelled_tickets__gte=F("cancelled_bookings"),
                ),
                name="events_event_booking_counters_valid",
            ),
            models.CheckConstraint(
                condition=Q(
                    total_capacity=F("available_seats") + F("booked_seats") + F("held_seats")
                ),
                name="events_event_seats_balance",
            ),
            models.CheckConstraint(
                condition=Q(price__gte=0), name="events_event_price_non_negative"
            ),
            models.CheckConstraint(
                condition=Q(revenue__gte=0), name="events_event_revenue_non_negative"
            ),
            models.CheckConstraint(
                condition=Q(status__in=["scheduled", "cancelled"]), name="events_event_status_valid"
            ),
        ]

    def __str__(self) -> str:
        # In the console's date format (evently/formats), as its titles, breadcrumbs and
        # filters name the event: "Evening Jazz (11 Dec 2026, 19:00)".
        if self.event_time is None:
            return self.name
        return f"{self.name} ({date_format(localtime(self.event_time), 'DATETIME_FORMAT')})"

    @property
    def taken_seats(self) -> int:
        return self.booked_seats + self.held_seats


class ScheduledDay(models.Model):
    """How many scheduled events start on one UTC day.

    The public list counts its upcoming events from these rows (every day after today) plus
    the events of today still to come, instead of counting every upcoming event on each call.
    Kept exact by events.summary in the same transactions as the event writes; a day's row is
    never deleted, so it may be zero.
    """

    day = models.DateField(primary_key=True)
    events = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(events__gte=0), name="events_scheduledday_events_non_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.day}: {self.events}"


class TicketType(models.Model):
    """One kind of ticket an event sells: its own price, quota and sales window.

    Like the event's seats, a type's quota is kept in three counters that always add up:

        available + booked + held == quota

    `booked` is the confirmed tickets of the type and `held` its seats held by waitlist offers
    and by checkouts waiting for payment. A ticket of a type also takes a seat of its event, so
    the event's capacity caps every quota: quotas may add up to more than the capacity. The
    counters move only with the event row locked, then the type rows by id
    (`core.locks.TICKET_TYPES`), and the database refuses any write that breaks the sum.
    `revenue` moves with `booked`: the amount of the type's confirmed booking items (before
    any voucher's discount, which the event's revenue counts off), so staff figures read it
    rather than sum the items.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="ticket_types")
    name = models.CharField(max_length=100)
    description = models.TextField(blank=True, default="")
    price = models.DecimalField(max_digits=10, decimal_places=2)
    quota = models.PositiveIntegerField()
    available = models.PositiveIntegerField()
    booked = models.PositiveIntegerField(default=0)
    held = models.PositiveIntegerField(default=0)
    revenue = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    # A null bound is open: on sale from creation, or until the event starts.
    sales_start = models.DateTimeField(null=True, blank=True)
    sales_end = models.DateTimeField(null=True, blank=True)
    max_per_booking = models.PositiveSmallIntegerField(default=10)
    position = models.PositiveIntegerField(default=0)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(quota__gte=1, quota__lte=MAX_CAPACITY),
                name="events_tickettype_quota_range",
            ),
            models.CheckConstraint(
                condition=Q(available__gte=0, booked__gte=0, held__gte=0),
                name="events_tickettype_counters_non_negative",
            ),
            models.CheckConstraint(
                condition=Q(quota=F("available") + F("booked") + F("held")),
                name="events_tickettype_seats_balance",
            ),
            models.CheckConstraint(
                condition=Q(price__gte=0), name="events_tickettype_price_non_negative"
            ),
            models.CheckConstraint(
                condition=Q(revenue__gte=0), name="events_tickettype_revenue_non_negative"
            ),
            models.CheckConstraint(
                condition=Q(max_per_booking__gte=1, max_per_booking__lte=10),
                name="events_tickettype_max_per_booking_range",
            ),
            models.CheckConstraint(
                condition=Q(sales_start__isnull=True)
                | Q(sales_end__isnull=True)
                | Q(sales_start__lt=F("sales_end")),
                name="events_tickettype_sales_window_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.price})"

    @property
    def taken(self) -> int:
        return self.booked + self.held

    def on_sale_at(self, now) -> bool:
        """Active, and `now` inside the sales window."""
        return (
            self.is_active
            and (self.sales_start is None or self.sales_start <= now)
            and (self.sales_end is None or now < self.sales_end)
        )
