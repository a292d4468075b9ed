from django import forms
from django.contrib import admin

from bookings import services, vouchers
from bookings.models import Booking, Payment, TicketCheckIn, Voucher
from core import admin_tools
from core.admin_tools import ConsoleListMixin, ReadOnlyRecordsMixin, run_each


def booking_badge(booking: Booking) -> str:
    """Confirmed; cancelled with the moment it was; pending payment with the end of its hold;
    expired; and what was refunded, if anything."""
    refunded = f"refunded {booking.refunded_amount}" if booking.refunded_amount else ""
    if booking.status == Booking.Status.CANCELLED:
        note = admin_tools.when(booking.cancelled_at)
        return admin_tools.badge("cancelled", note=f"{note}, {refunded}" if refunded else note)
    if booking.status == Booking.Status.PENDING_PAYMENT:
        return admin_tools.badge(
            booking.shown_status, note=f"hold until {admin_tools.when(booking.expires_at)}"
        )
    return admin_tools.badge(booking.status, note=refunded)


def booking_label(booking: Booking) -> str:
    """A booking as staff name it: who, how many seats, for what (the model's str() is ids)."""
    return f"{booking.user.name}, {booking.quantity} seat(s) for {booking.event.name}"


@admin.register(Booking)
class BookingAdmin(ConsoleListMixin, ReadOnlyRecordsMixin, admin.ModelAdmin):
    """Bookings are records: staff read them and cancel through the service, never edit."""

    # Narrow columns so the list and its filters fit a 1366 px screen: the person's e-mail
    # under their name, the event's date under its name, the cancellation time in the status.
    list_display = ("booked", "person", "event_name", "seats", "amount", "booking_status")
    list_filter = ("status", ("event", admin.RelatedOnlyFieldListFilter), "booking_time")
    search_fields = ("user__email", "user__name", "=id")
    search_help_text = "Search by the booker's e-mail or name, or an exact booking id."
    list_select_related = ("event", "user")
    date_hierarchy = "booking_time"
    ordering = ("-booking_time",)
    # A page that fits a few screens: the 100 of Django's default took long to scroll.
    list_per_page = 50
    actions = ("cancel_bookings",)
    fields = (
        "id",
        "event",
        "user",
        "quantity",
        "amount",
        "voucher_code",
        "discount_amount",
        "status",
        "expires_at",
        "refunded_amount",
        "booking_time",
        "cancelled_at",
        "created_at",
        "updated_at",
    )
    readonly_fields = ("amount",)
    change_form_template = "admin/core/record_change_form.html"

    @admin.display(description="Booked", ordering="booking_time")
    def booked(self, booking: Booking) -> str:
        return admin_tools.when(booking.booking_time)

    @admin.display(description="Person", ordering="user__email")
    def person(self, booking: Booking) -> str:
        return admin_tools.person(booking.user)

    @admin.display(description="Event", ordering="event__event_time")
    def event_name(self, booking: Booking) -> str:
        return admin_tools.event_when(booking.event)

    @admin.display(description="Seats", ordering="quantity")
    def seats(self, booking: Booking) -> int:
        return booking.quantity

    @admin.display(description=admin_tools.in_currency("Amount"), ordering="total_amount")
    def amount(self, booking: Booking):
        return booking.total_amount

    @admin.display(description="Status", ordering="status")
    def booking_status(self, booking: Booking) -> str:
        return booking_badge(booking)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        booking = self.get_object(request, object_id)
        label = booking_label(booking) if booking else None
        context = {"record_label": label, "subtitle": label, **(extra_context or {})}
        return super().change_view(request, object_id, form_url, context)

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("event", "user")

    @admin.action(
        description="Cancel selected bookings (paid ones are refunded; seats go to the waitlist)"
    )
    def cancel_bookings(self, request, queryset):
        run_each(
            request,
            self,
            queryset.filter(status__in=[Booking.Status.CONFIRMED, Booking.Status.PENDING_PAYMENT]),
            lambda booking: services.booking_cancel(booking_id=booking.pk, actor=request.user),
            "Bookings cancelled",
            label=booking_label,
        )


@admin.register(TicketCheckIn)
class TicketCheckInAdmin(ConsoleListMixin, ReadOnlyRecordsMixin, admin.ModelAdmin):
    """Who was let in, when and by whom: written by the door (the check-in desk, the API),
    read here. A check-in is never edited or removed."""

    list_display = ("checked_in", "person", "event_name", "ticket", "checked_in_by")
    list_filter = (("booking__event", admin.RelatedOnlyFieldListFilter), "checked_in_at")
    search_fields = ("booking__user__email", "booking__user__name", "=booking__id")
    search_help_text = "Search by the booker's e-mail or name, or an exact booking id."
    list_select_related = ("booking__event", "booking__user", "checked_in_by")
    date_hierarchy = "checked_in_at"
    ordering = ("-checked_in_at",)
    fields = ("booking", "index", "checked_in_at", "checked_in_by")

    @admin.display(description="Checked in", ordering="checked_in_at")
    def checked_in(self, check_in: TicketCheckIn) -> str:
        return admin_tools.when(check_in.checked_in_at)

    @admin.display(description="Person", ordering="booking__user__email")
    def person(self, check_in: TicketCheckIn) -> str:
        return admin_tools.person(check_in.booking.user)

    @admin.display(description="Event", ordering="booking__event__event_time")
    def event_name(self, check_in: TicketCheckIn) -> str:
        return check_in.booking.event.name

    @admin.display(description="Ticket")
    def ticket(self, check_in: TicketCheckIn) -> str:
        return f"{check_in.index + 1} of {check_in.booking.quantity}"


@admin.register(Payment)
class PaymentAdmin(ConsoleListMixin, ReadOnlyRecordsMixin, admin.ModelAdmin):
    """Each try to pay for a checkout, as the provider left it: its status and its reference
    at the provider. Written by the checkout only; staff refund from here."""

    list_display = ("started", "person", "event_name", "amount", "provider", "reference", "state")
    list_filter = ("status", "variant", "created")
    search_fields = (
        "booking__user__email",
        "booking__user__name",
        "transaction_id",
        "=booking__id",
    )
    search_help_text = (
        "Search by the buyer's e-mail or name, the provider's reference, or an exact booking id."
    )
    list_select_related = ("booking__event", "booking__user")
    date_hierarchy = "created"
    ordering = ("-created",)
    list_per_page = 50
    actions = ("refund_payments",)
    fields = (
        "id",
        "booking",
        "variant",
        "status",
        "total",
        "captured_amount",
        "currency",
        "transaction_id",
        "message",
        "expires_at",
        "created",
        "modified",
    )
    change_form_template = "admin/core/record_change_form.html"

    @admin.display(description="Started", ordering="created")
    def started(self, payment: Payment) -> str:
        return admin_tools.when(payment.created)

    @admin.display(description="Person", ordering="booking__user__email")
    def person(self, payment: Payment) -> str:
        return admin_tools.person(payment.booking.user)

    @admin.display(description="Event", ordering="booking__event__event_time")
    def event_name(self, payment: Payment) -> str:
        return admin_tools.event_when(payment.booking.event)

    @admin.display(description="Amount", ordering="total")
    def amount(self, payment: Payment) -> str:
        return f"{payment.total} {payment.currency}"

    @admin.display(description="Provider", ordering="variant")
    def provider(self, payment: Payment) -> str:
        return payment.variant

    @admin.display(description="Provider reference", ordering="transaction_id")
    def reference(self, payment: Payment) -> str:
        return payment.transaction_id or "—"

    @admin.display(description="Status", ordering="status")
    def state(self, payment: Payment) -> str:
        return admin_tools.badge(payment.status, note=booking_badge_text(payment.booking))

    @admin.action(description="Refund selected paid payments (their bookings are cancelled)")
    def refund_payments(self, request, queryset):
        run_each(
            request,
            self,
            queryset.filter(status="confirmed").select_related("booking__event", "booking__user"),
            lambda payment: services.payment_refund(payment_id=payment.pk, actor=request.user),
            "Payments refunded",
            label=lambda payment: booking_label(payment.booking),
        )


def booking_badge_text(booking: Booking) -> str:
    return f"booking {booking.get_status_display().lower()}"


class VoucherForm(forms.ModelForm):
    class Meta:
        model = Voucher
        fields = (
            "event",
            "code",
            "ticket_type",
            "discount_type",
            "value",
            "max_uses",
            "valid_until",
            "is_active",
        )

    def clean(self):
        data = super().clean()
        event, ticket_type = data.get("event"), data.get("ticket_type")
        if event and ticket_type and ticket_type.event_id != event.pk:
            self.add_error("ticket_type", "Choose a ticket type of this event.")
        if self.instance.pk and data.get("max_uses", 0) < self.instance.used:
            self.add_error(
                "max_uses", f"At least {self.instance.used}: the voucher is used that many times."
            )
        return data


@admin.register(Voucher)
class VoucherAdmin(ConsoleListMixin, admin.ModelAdmin):
    """Vouchers with their uses. Made and changed through bookings.vouchers, under the
    voucher's row lock, as the admin API does; one that bookings applied is kept (deactivate
    it) rather than deleted."""

    form = VoucherForm
    list_display = ("code", "event_name", "applies_to", "discount", "uses", "valid", "state")
    list_filter = ("is_active", "discount_type", ("event", admin.RelatedOnlyFieldListFilter))
    search_fields = ("code", "event__name")
    search_help_text = "Search by code or event name."
    list_select_related = ("event", "ticket_type")
    autocomplete_fields = ("event",)
    ordering = ("event__event_time", "code")
    list_per_page = 50
    readonly_fields = ("used",)

    def get_fields(self, request, obj=None):
        fields = list(VoucherForm.Meta.fields)
        return [*fields, "used"] if obj else fields

    def get_readonly_fields(self, request, obj=None):
        # A voucher stays with the event it was made for.
        return ("event", "used") if obj else ()

    @admin.display(description="Event", ordering="event__event_time")
    def event_name(self, voucher: Voucher) -> str:
        return admin_tools.event_when(voucher.event)

    @admin.display(description="Applies to")
    def applies_to(self, voucher: Voucher) -> str:
        return voucher.ticket_type.name if voucher.ticket_type else "Every ticket type"

    @admin.display(description="Discount", ordering="value")
    def discount(self, voucher: Voucher) -> str:
        if voucher.discount_type == Voucher.DiscountType.PERCENT:
            return f"{voucher.value.normalize():f} % off each ticket"
        return f"{admin_tools.money(voucher.value)} off each ticket"

    @admin.display(description="Uses", ordering="used")
    def uses(self, voucher: Voucher) -> str:
        return f"{voucher.used} of {voucher.max_uses}"

    @admin.display(description="Valid until", ordering="valid_until")
    def valid(self, voucher: Voucher) -> str:
        return admin_tools.when(voucher.valid_until)

    @admin.display(description="Status", ordering="is_active")
    def state(self, voucher: Voucher) -> str:
        if not voucher.is_active:
            return admin_tools.badge("inactive")
        if voucher.used >= voucher.max_uses:
            return admin_tools.badge("used_up", "Used up")
        return admin_tools.badge("active")

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        fields = {name: data[name] for name in VoucherForm.Meta.fields if name != "event"}
        ticket_type = fields.pop("ticket_type")
        fields["ticket_type_id"] = ticket_type.pk if ticket_type else None
        # The form checked what the service checks again under the voucher's lock.
        if change:
            saved = vouchers.voucher_update(voucher_id=obj.pk, actor=request.user, changes=fields)
        else:
            saved = vouchers.voucher_create(
                event_id=form.cleaned_data["event"].pk, actor=request.user, **fields
            )
        obj.pk, obj.used = saved.pk, saved.used
        obj._state.adding = False

    def has_delete_permission(self, request, obj=None):
        if obj is not None and Booking.objects.filter(voucher=obj).exists():
            return False  # applied by bookings: deactivate it instead
        return super().has_delete_permission(request, obj)

    def delete_model(self, request, obj):
        vouchers.voucher_delete(voucher_id=obj.pk, actor=request.user)

    def delete_queryset(self, request, queryset):
        run_each(
            request,
            self,
            queryset,
            lambda voucher: vouchers.voucher_delete(voucher_id=voucher.pk, actor=request.user),
            "Vouchers deleted",
        )
