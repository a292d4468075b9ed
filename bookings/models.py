import uuid

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.timezone import localtime
from payments import PaymentStatus, PurchasedItem
from payments.models import BasePayment

from core.validators import OneLineCharField
from events.models import MAX_TICKETS_PER_BOOKING

MAX_TICKETS_PER_PERSON = 10
# Bookings of different events update different rows of a day unless their events share a
# shard; the overview reads at most SHARDS rows per day, however many bookings there are.
SHARDS = 16


class Booking(models.Model):
    """Seats of one event for one person.

    Without a payment provider, or at a total of zero, a booking is confirmed when made. With
    one, it starts as a checkout: `pending_payment`, its seats held (the event's and its types'
    `held` counters) until `expires_at`; paid, it is confirmed; unpaid at `expires_at`, it is
    expired and its seats go back (bookings.checkout).
    """

    class Status(models.TextChoices):
        PENDING_PAYMENT = "pending_payment", "Pending payment"
        CONFIRMED = "confirmed", "Confirmed"
        CANCELLED = "cancelled", "Cancelled"
        EXPIRED = "expired", "Expired"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # No single-column indexes of their own: the composite indexes below lead with each of
    # them, and every booking would pay for writing two more index entries.
    event = models.ForeignKey(
        "events.Event", on_delete=models.PROTECT, related_name="bookings", db_index=False
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="bookings", db_index=False
    )
    quantity = models.PositiveSmallIntegerField()
    # price * quantity when booked; a later price change does not touch it.
    total_amount = models.DecimalField(max_digits=12, decimal_places=2)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.CONFIRMED)
    booking_time = models.DateTimeField(default=timezone.now)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    # A checkout's hold ends here (null for a booking confirmed when made).
    expires_at = models.DateTimeField(null=True, blank=True)
    # What the provider gave back (the whole total when a paid booking is cancelled).
    # `db_default` too: the plain booking's statement leaves it to the database.
    refunded_amount = models.DecimalField(max_digits=12, decimal_places=2, default=0, db_default=0)
    # The voucher applied, its code as typed when booked, and what it took off the items.
    voucher = models.ForeignKey(
        "bookings.Voucher",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="bookings",
        db_index=False,
    )
    voucher_code = models.CharField(max_length=64, blank=True, default="", db_default="")
    discount_amount = models.DecimalField(max_digits=12, decimal_places=2, default=0, db_default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["event", "status"], name="bookings_event_status_idx"),
            models.Index(fields=["user", "-created_at"], name="bookings_user_created_idx"),
            # A person's tickets for an event, counted on every booking (the ten-ticket limit).
            # With the status too, so it matches all three conditions of that count and the
            # planner never prefers (event, status), which reads every booking of the event.
            models.Index(fields=["user", "event", "status"], name="bookings_user_event_status_idx"),
            # The checkouts to expire, found by the expiry loop without reading the others.
            models.Index(
                fields=["expires_at"],
                condition=Q(status="pending_payment"),
                name="bookings_pending_expiry_idx",
            ),
            # A voucher's bookings (its uses, and whether it may be deleted); most have none.
            models.Index(
                fields=["voucher"],
                condition=Q(voucher__isnull=False),
                name="bookings_voucher_idx",
            ),
            # An event's refunded bookings, for its checkout figures (with (event, status) for
            # its checkouts): read without every confirmed booking of the event.
            models.Index(
                fields=["event"],
                condition=Q(refunded_amount__gt=0),
                name="bookings_refunded_idx",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity__gte=1, quantity__lte=MAX_TICKETS_PER_BOOKING),
                name="bookings_booking_quantity_range",
            ),
            models.CheckConstraint(
                condition=Q(total_amount__gte=0), name="bookings_booking_amount_non_negative"
            ),
            models.CheckConstraint(
                condition=Q(
                    status__in=["pending_payment", "confirmed", "expired"],
                    cancelled_at__isnull=True,
                )
                | Q(status="cancelled", cancelled_at__isnull=False),
                name="bookings_booking_cancelled_at_matches_status",
            ),
            models.CheckConstraint(
                condition=~Q(status="pending_payment") | Q(expires_at__isnull=False),
                name="bookings_booking_pending_expires",
            ),
            models.CheckConstraint(
                condition=Q(refunded_amount__gte=0, refunded_amount__lte=F("total_amount")),
                name="bookings_booking_refund_within_total",
            ),
            models.CheckConstraint(
                condition=Q(discount_amount__gte=0), name="bookings_booking_discount_non_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} x {self.event_id} for {self.user_id} ({self.status})"

    @property
    def shown_status(self) -> str:
        """The status as the API answers it: a checkout read after its hold ended is expired,
        whether or not the expiry has run yet (bookings.checkout)."""
        if self.status == self.Status.PENDING_PAYMENT and self.expires_at <= timezone.now():
            return self.Status.EXPIRED
        return self.status

    @property
    def item_rows(self) -> list["BookingItem"]:
        """The booking's items in ticket order: as this process wrote them, or as read (with
        `prefetch_related("items__ticket_type")` a list reads them all in one query)."""
        rows = getattr(self, "item_list", None)
        if rows is None:
            rows = self.item_list = list(self.items.all())
        return rows

    def item_of_ticket(self, index: int) -> "BookingItem | None":
        """The item whose seats include ticket `index`: the first item's quantity come first."""
        for item in self.item_rows:
            if index < item.quantity:
                return item
            index -= item.quantity
        return None


class BookingItem(models.Model):
    """One line of a booking: `quantity` tickets of one type at the type's price then.

    A booking's tickets are its items' seats in item order (by id): the first item's quantity
    are tickets 0.., the next item's follow. `amount` is unit_price x quantity and `discount`
    what a voucher took off it; the booking's `total_amount` is the sum of its items' amounts
    less their discounts (its `discount_amount`).
    """

    # No index of its own: the unique (booking, ticket_type) index leads with it.
    booking = models.ForeignKey(
        Booking, on_delete=models.CASCADE, related_name="items", db_index=False
    )
    ticket_type = models.ForeignKey(
        "events.TicketType", on_delete=models.PROTECT, related_name="booking_items"
    )
    quantity = models.PositiveSmallIntegerField()
    unit_price = models.DecimalField(max_digits=10, decimal_places=2)
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    discount = models.DecimalField(max_digits=12, decimal_places=2, default=0, db_default=0)

    class Meta:
        ordering = ["booking", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["booking", "ticket_type"], name="bookings_bookingitem_one_per_type"
            ),
            models.CheckConstraint(
                condition=Q(quantity__gte=1, quantity__lte=MAX_TICKETS_PER_BOOKING),
                name="bookings_bookingitem_quantity_range",
            ),
            models.CheckConstraint(
                condition=Q(unit_price__gte=0, amount__gte=0),
                name="bookings_bookingitem_amounts_non_negative",
            ),
            models.CheckConstraint(
                condition=Q(discount__gte=0, discount__lte=F("amount")),
                name="bookings_bookingitem_discount_within_amount",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} x {self.ticket_type_id} in {self.booking_id}"


class Voucher(models.Model):
    """A code that takes money off an event's tickets: `percent` off, or a `fixed` amount off,
    each ticket of its type (of any type when it has none), never below zero.

    `used` counts the live bookings that applied it (pending or confirmed): counted in the
    booking's transaction under the voucher's row lock, given back when such a booking is
    cancelled or expires (bookings.vouchers), so `used <= max_uses` holds at every commit.
    """

    class DiscountType(models.TextChoices):
        PERCENT = "percent", "Percent off"
        FIXED = "fixed", "Fixed amount off"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # No index of its own: the unique (event, code) index leads with it.
    event = models.ForeignKey(
        "events.Event", on_delete=models.CASCADE, related_name="vouchers", db_index=False
    )
    ticket_type = models.ForeignKey(
        "events.TicketType",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="vouchers",
        help_text="The type whose tickets it applies to; empty: every type of the event.",
    )
    code = OneLineCharField(max_length=64, help_text="Unique per event, in any letter case.")
    discount_type = models.CharField(max_length=8, choices=DiscountType.choices)
    value = models.DecimalField(
        max_digits=10,
        decimal_places=2,
        help_text="Percent off (up to 100) or the amount off each ticket.",
    )
    max_uses = models.PositiveIntegerField(default=1)
    used = models.PositiveIntegerField(default=0, editable=False)
    valid_until = models.DateTimeField(null=True, blank=True)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["event", "code"]
        constraints = [
            models.UniqueConstraint(
                "event", Lower("code"), name="bookings_voucher_code_unique_per_event"
            ),
            models.CheckConstraint(
                condition=Q(max_uses__gte=1, used__gte=0, used__lte=F("max_uses")),
                name="bookings_voucher_used_within_max",
            ),
            models.CheckConstraint(
                condition=Q(value__gt=0)
                & (Q(discount_type="fixed") | Q(discount_type="percent", value__lte=100)),
                name="bookings_voucher_value_range",
            ),
        ]

    def __str__(self) -> str:
        return self.code

    def usable_at(self, now) -> bool:
        """Whether a booking may apply it now (its uses aside)."""
        return self.is_active and (self.valid_until is None or now < self.valid_until)


class TicketCheckIn(models.Model):
    """A ticket let in at the door. A ticket is a booking and a seat index (see
    `bookings.tickets.codes`); nothing is stored to issue it, and this row is written the one
    time it is let in.

    `bookings_ticketcheckin_once` is what makes "exactly once" hold for any number of scanners
    on any number of machines: the second insert for a ticket fails in the database, however
    the requests interleave. The row has no event column on purpose: a check-in locks its
    booking only, and a foreign key to the event would take a share lock on the event row that
    an event or booking cancel (which lock the event first) could deadlock against.
    """

    booking = models.ForeignKey(Booking, on_delete=models.PROTECT, related_name="check_ins")
    index = models.PositiveSmallIntegerField(help_text="The seat within the booking, from 0.")
    checked_in_at = models.DateTimeField(default=timezone.now)
    checked_in_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-checked_in_at", "-id"]
        indexes = [
            # The door's "latest check-ins" list.
            models.Index(fields=["-checked_in_at"], name="bookings_checkin_time_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["booking", "index"], name="bookings_ticketcheckin_once"
            ),
            models.CheckConstraint(
                condition=Q(index__lt=MAX_TICKETS_PER_BOOKING),
                name="bookings_ticketcheckin_index_range",
            ),
        ]

    def __str__(self) -> str:
        moment = date_format(localtime(self.checked_in_at), "DATETIME_FORMAT")
        return f"ticket {self.index + 1} of {self.booking_id} in at {moment}"


class TicketAttendee(models.Model):
    """The name of the person who will use a ticket, when its owner gave one."""

    booking = models.ForeignKey(Booking, on_delete=models.CASCADE, related_name="attendees")
    index = models.PositiveSmallIntegerField()
    name = OneLineCharField(max_length=150)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["booking", "index"], name="bookings_ticketattendee_one_per_ticket"
            ),
            models.CheckConstraint(
                condition=Q(index__lt=MAX_TICKETS_PER_BOOKING),
                name="bookings_ticketattendee_index_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} on ticket {self.index + 1} of {self.booking_id}"


class SalesDay(models.Model):
    """Running totals of one UTC day (in one shard of events), for the staff overview.

    Written by bookings.sales in the same transaction as each booking, cancellation and
    accepted offer, so it is always exact: `bookings`/`tickets` made that day, `revenue` of
    those still confirmed, `cancellations` made that day, `conversions` (offers accepted).
    Analytics only reads it. The table keeps the name it had when analytics owned it.
    """

    day = models.DateField()
    shard = models.PositiveSmallIntegerField()
    bookings = models.PositiveIntegerField(default=0)
    tickets = models.PositiveIntegerField(default=0)
    revenue = models.DecimalField(max_digits=16, decimal_places=2, default=0)
    cancellations = models.PositiveIntegerField(default=0)
    conversions = models.PositiveIntegerField(default=0)

    class Meta:
        db_table = "analytics_salesday"
        constraints = [
            models.UniqueConstraint(fields=["day", "shard"], name="analytics_salesday_unique_day")
        ]

    def __str__(self) -> str:
        return f"{self.day} #{self.shard}"


class Payment(BasePayment):
    """One attempt to pay for a checkout, through django-payments' provider `variant`.

    A booking has one payment per try: a rejected one stays as it was and the buyer may start
    another for the same hold (`POST /bookings/{id}/payment`). The payment's unguessable `token`
    is the path of its page (`payment_url`), which a browser opens with no login. Its status is
    django-payments' (waiting, input, confirmed, rejected, refunded, error, ...); bookings.
    checkout moves the booking with it, under the booking's locks.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    booking = models.ForeignKey(Booking, on_delete=models.PROTECT, related_name="payments")
    # The end of the booking's hold when this payment was started (the page shows it).
    expires_at = models.DateTimeField()

    class Meta:
        ordering = ["-created", "-id"]
        indexes = [
            models.Index(fields=["token"], name="bookings_payment_token_idx"),
            models.Index(fields=["status", "modified"], name="bookings_payment_status_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.total} {self.currency} for {self.booking_id} ({self.status})"

    @property
    def is_paid(self) -> bool:
        return self.status == PaymentStatus.CONFIRMED

    def get_purchased_items(self):
        for item in self.booking.items.select_related("ticket_type"):
            yield PurchasedItem(
                name=item.ticket_type.name,
                quantity=item.quantity,
                price=(item.amount - item.discount) / item.quantity,
                currency=self.currency,
                sku=str(item.ticket_type_id),
            )

    def get_success_url(self) -> str:
        return _public_url("payment-return", self.token)

    def get_failure_url(self) -> str:
        return _public_url("payment-return", self.token)

    def get_process_url(self) -> str:
        return _public_url("process_payment", self.token)


def _public_url(name: str, token: str) -> str:
    return settings.PUBLIC_URL + reverse(name, kwargs={"token": token})
