from django import forms
from django.contrib import admin, messages
from django.db import models
from django.db.models import ExpressionWrapper, F, FloatField
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html

from analytics.exports import bookings_csv_response
from analytics.selectors import event_bookings
from bookings.admin import booking_badge
from bookings.models import Booking
from bookings.tickets.desk import checkin_desk_url
from boxoffice import selectors, services
from core import admin_tools
from core.admin_tools import ConsoleListMixin, ReadOnlyRecordsMixin, run_each
from core.exceptions import DomainError, NotFound
from core.validators import one_line
from events.models import Event, TicketType
from events.services import event_create
from notifications.selectors import event_message_deliveries
from waitingroom.services import queue_status
from waitlist.admin import entry_badge
from waitlist.models import ACTIVE_STATUSES, WaitlistEntry
from waitlist.selectors import with_position

INLINE_ROWS = 10
UTILIZATION = ExpressionWrapper(
    F("booked_seats") * 1.0 / F("total_capacity"), output_field=FloatField()
)


class EventMessageForm(forms.Form):
    title = forms.CharField(
        max_length=200,
        validators=[one_line],
        help_text="The notification's title and the e-mail's subject.",
        widget=forms.TextInput(attrs={"placeholder": "Doors open at 19:30", "size": 60}),
    )
    message = forms.CharField(
        max_length=5000,
        widget=forms.Textarea(
            attrs={"rows": 7, "placeholder": "Please use the side entrance on Mill Street."}
        ),
    )


class EventAdminForm(forms.ModelForm):
    class Meta:
        model = Event
        fields = ("name", "description", "venue", "event_time", "price", "total_capacity")
        widgets = {"description": forms.Textarea(attrs={"rows": 3, "cols": 80})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "price" in self.fields:  # not on a cancelled event's page, where all is read-only
            self.fields["price"].label = admin_tools.in_currency("Price")

    def clean_event_time(self):
        # Friendly form errors for the rules the services enforce again under the row lock.
        value = self.cleaned_data["event_time"]
        if "event_time" in self.changed_data and value <= timezone.now():
            raise forms.ValidationError("Must be in the future.")
        return value

    def clean_total_capacity(self):
        value = self.cleaned_data["total_capacity"]
        if self.instance.pk and value < self.instance.taken_seats:
            taken = self.instance.taken_seats
            raise forms.ValidationError(
                f"Cannot drop below {taken}: that many seats are booked or held."
            )
        return value


class _LatestRowsFormSet(forms.BaseInlineFormSet):
    """Only the newest rows: an event can have far more bookings than a page can show."""

    def get_queryset(self):
        return super().get_queryset()[:INLINE_ROWS]


class _RecordsInline(ReadOnlyRecordsMixin, admin.TabularInline):
    """An event's related records as a read-only table (core/records_inline.html), each row
    naming the person rather than the record's ids, with a link to the full list."""

    template = "admin/core/records_inline.html"
    formset = _LatestRowsFormSet
    extra = 0
    can_delete = False
    list_lookup = "event__id__exact"  # the changelist filter for one event's records
    list_query = ""  # more of the changelist's query string, before the lookup
    list_link_text = ""
    empty_text = ""

    @admin.display(description="Person")
    def person(self, record):
        return admin_tools.person(record.user)

    @admin.display(description="Seats")
    def seats(self, record) -> int:
        return record.quantity


class BookingInline(_RecordsInline):
    model = Booking
    verbose_name_plural = f"Bookings (newest {INLINE_ROWS})"
    list_link_text = "All bookings of this event"
    empty_text = "No bookings yet."
    fields = ("person", "seats", "amount", "booking_status", "booked")
    readonly_fields = fields
    ordering = ("-booking_time",)

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("user")

    @admin.display(description=admin_tools.in_currency("Amount"))
    def amount(self, booking: Booking):
        return booking.total_amount

    @admin.display(description="Status")
    def booking_status(self, booking: Booking):
        return booking_badge(booking)

    @admin.display(description="Booked")
    def booked(self, booking: Booking) -> str:
        return admin_tools.when(booking.booking_time)


class WaitlistInline(_RecordsInline):
    model = WaitlistEntry
    verbose_name_plural = f"Active waitlist (first {INLINE_ROWS} in serving order)"
    list_link_text = "The whole waitlist of this event"
    list_query = "status=all&"  # the list opens on the live queue otherwise
    empty_text = "Nobody is waiting."
    fields = ("position", "person", "seats", "priority", "entry_status", "joined")
    readonly_fields = fields
    ordering = ("-priority", "joined_at", "id")

    def get_queryset(self, request):
        entries = super().get_queryset(request).filter(status__in=ACTIVE_STATUSES)
        return with_position(entries.select_related("user"))

    @admin.display(description="Position")
    def position(self, entry: WaitlistEntry):
        return entry.position if entry.status == WaitlistEntry.Status.WAITING else "\N{EN DASH}"

    @admin.display(description="Status")
    def entry_status(self, entry: WaitlistEntry):
        return entry_badge(entry)

    @admin.display(description="Joined")
    def joined(self, entry: WaitlistEntry) -> str:
        return admin_tools.when(entry.joined_at)


class TicketTypeInline(admin.StackedInline):
    """The event's ticket types, edited on its page. Saved through events.services (see
    `EventAdmin.save_formset`), so quotas, the event's price and the waitlist stay in step."""

    model = TicketType
    extra = 0
    # Stacked, a few fields a line: a row of them all is wider than a 1366 px screen.
    fields = (
        ("name", "price", "quota"),
        ("available", "booked", "held"),
        ("sales_start", "sales_end"),
        ("max_per_booking", "position", "is_active"),
    )
    readonly_fields = ("available", "booked", "held")
    ordering = ("position", "id")
    # Sales windows in the time zone named beside them, as on the event's own fields.
    formfield_overrides = {models.DateTimeField: {"widget": admin_tools.ZonedSplitDateTime}}

    # `obj` is the event: a cancelled one is a record, its types shown but not changed.
    def _open(self, obj) -> bool:
        return obj is None or obj.status != Event.Status.CANCELLED

    def has_add_permission(self, request, obj=None):
        return self._open(obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        return self._open(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self._open(obj)


@admin.register(Event)
class EventAdmin(ConsoleListMixin, admin.ModelAdmin):
    form = EventAdminForm
    # Narrow columns, so the list and its filters fit a 1366 px screen: the venue goes under
    # the name, the capacity into "Sold" (tickets of capacity, with a meter).
    list_display = (
        "event",
        "starts",
        "event_status",
        "sold",
        "free",
        "held",
        "ticket_price",
        "export_link",
    )
    list_filter = ("status", "event_time")
    search_fields = ("name", "venue", "description")
    date_hierarchy = "event_time"
    ordering = ("-event_time",)
    actions = ("cancel_events",)
    inlines = (TicketTypeInline, BookingInline, WaitlistInline)
    formfield_overrides = {models.DateTimeField: {"widget": admin_tools.ZonedSplitDateTime}}
    # Seat counters and status belong to the services that keep the books balanced.
    readonly_fields = (
        "id",
        "available_seats",
        "booked_seats",
        "held_seats",
        "utilization",
        "status",
        "created_by",
        "created_at",
        "updated_at",
        "export_link",
        "csv_link",
    )
    # The seat counters are the figures at the top of the page (change_form.html); the form
    # keeps what staff edit, the event's state, and its record folded away.
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "name",
                    "venue",
                    "event_time",
                    ("price", "total_capacity"),
                    "description",
                    "status",
                    "csv_link",
                )
            },
        ),
        (
            "Record",
            {"classes": ["collapse"], "fields": ("created_by", "created_at", "updated_at", "id")},
        ),
    )
    add_fieldsets = ((None, {"fields": EventAdminForm.Meta.fields}),)

    @admin.display(description="Event", ordering="name")
    def event(self, event: Event) -> str:
        return format_html('{}<span class="ev-sub">{}</span>', event.name, event.venue)

    @admin.display(description="Starts", ordering="event_time")
    def starts(self, event: Event) -> str:
        return admin_tools.when(event.event_time)

    @admin.display(description="Status", ordering="status")
    def event_status(self, event: Event) -> str:
        if event.status == Event.Status.SCHEDULED and event.event_time <= timezone.now():
            return admin_tools.badge("past", "Past")
        return admin_tools.badge(event.status)

    @admin.display(description="Sold", ordering=UTILIZATION)
    def sold(self, event: Event) -> str:
        share = event.booked_seats / event.total_capacity if event.total_capacity else 0
        return format_html(
            '<span class="ev-nowrap">{}{}</span><span class="ev-sub">{} of {}</span>',
            admin_tools.meter(event.booked_seats, event.held_seats, event.total_capacity),
            f"{share:.0%}",
            event.booked_seats,
            event.total_capacity,
        )

    @admin.display(description=admin_tools.in_currency("Price"), ordering="price")
    def ticket_price(self, event: Event):
        return event.price

    @admin.display(description="Free", ordering="available_seats")
    def free(self, event: Event) -> int:
        return event.available_seats

    @admin.display(description="Held", ordering="held_seats")
    def held(self, event: Event) -> int:
        return event.held_seats

    @admin.display(
        description="Utilization", ordering=F("booked_seats") * 1.0 / F("total_capacity")
    )
    def utilization(self, event: Event) -> str:
        return f"{event.booked_seats / event.total_capacity:.0%}" if event.total_capacity else "-"

    @admin.display(description="Bookings")
    def export_link(self, event: Event) -> str:
        if not event.pk:
            return "\N{EN DASH}"
        url = reverse("admin:events_event_bookings_csv", args=[event.pk])
        return format_html('<a href="{}" download>CSV</a>', url)

    @admin.display(description="Bookings as CSV")
    def csv_link(self, event: Event) -> str:
        return self.export_link(event)

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return self.add_fieldsets
        if obj.status == Event.Status.CANCELLED:
            # Read-only, the price is shown as its column is, under a label naming the currency.
            (name, options), *rest = self.fieldsets
            fields = [
                ("ticket_price", "total_capacity") if line == ("price", "total_capacity") else line
                for line in options["fields"]
            ]
            return ((name, {**options, "fields": tuple(fields)}), *rest)
        return self.fieldsets

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and obj.status == Event.Status.CANCELLED:
            # A cancelled event is a record: nothing about it can change any more.
            return (*self.readonly_fields, *EventAdminForm.Meta.fields, "ticket_price")
        return self.readonly_fields

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path(
                "<uuid:event_id>/bookings.csv",
                view(self.bookings_csv),
                name="events_event_bookings_csv",
            ),
            path("<uuid:event_id>/cancel/", view(self.cancel_view), name="events_event_cancel"),
            path("<uuid:event_id>/message/", view(self.message_view), name="events_event_message"),
            *super().get_urls(),
        ]

    # --- Cancel rather than delete ----------------------------------------------------------

    def has_people(self, event: Event) -> bool:
        """Whether anyone ever booked or waited for the event: then its records are kept, and
        it can be cancelled but not deleted (as DELETE /api/events/{id} does)."""
        if not hasattr(event, "_has_people"):
            event._has_people = (
                Booking.objects.filter(event=event).exists()
                or WaitlistEntry.objects.filter(event=event).exists()
            )
        return event._has_people

    def has_delete_permission(self, request, obj=None):
        if obj is not None and self.has_people(obj):
            return False
        return super().has_delete_permission(request, obj)

    def get_actions(self, request):
        # Deleting several events at once would cancel those with bookings behind a page
        # that speaks of deleting; "Cancel selected events" says what happens.
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def delete_view(self, request, object_id, extra_context=None):
        event = self.get_object(request, object_id)
        if event is not None and self.has_people(event):
            self.message_user(
                request,
                f"{event.name} has bookings or waitlist entries, so it is kept: cancel it instead.",
                level=messages.INFO,
            )
            return redirect("admin:events_event_cancel", event_id=event.pk)
        return super().delete_view(request, object_id, extra_context)

    def cancel_view(self, request, event_id):
        event = self._event_or_404(request, event_id)
        if event.status == Event.Status.CANCELLED:
            self.message_user(request, f"{event.name} is already cancelled.", messages.INFO)
            return redirect("admin:events_event_change", event.pk)
        if request.method == "POST":
            impact = selectors.event_cancel_impact(event=event)
            cancelled = services.event_cancel(event_id=event.pk, actor=request.user)
            bookings = admin_tools.counted(impact["bookings"], "booking")
            entries = admin_tools.counted(
                impact["waitlist_entries"], "waitlist entry", "waitlist entries"
            )
            people = admin_tools.counted(impact["people"], "person", "people")
            self.message_user(
                request,
                f"{event.name} is cancelled: {bookings} and {entries} cancelled, "
                f"{people} notified.",
                messages.SUCCESS,
            )
            self._tell_who_is_inside(request, event.name, cancelled.tickets_inside)
            return redirect("admin:events_event_change", event.pk)
        context = {
            **self.admin_site.each_context(request),
            "title": f"Cancel {event.name}?",
            "opts": self.opts,
            "original": event,
            "impact": selectors.event_cancel_impact(event=event),
        }
        return TemplateResponse(request, "admin/events/event/cancel.html", context)

    # --- Messages to attendees --------------------------------------------------------------

    def message_view(self, request, event_id):
        event = self._event_or_404(request, event_id)
        if event.status == Event.Status.CANCELLED:
            self.message_user(
                request,
                f"{event.name} is cancelled: nobody holds a ticket any more.",
                messages.ERROR,
            )
            return redirect("admin:events_event_change", event.pk)
        form = EventMessageForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                sent = services.event_message_send(
                    event_id=event.pk, actor=request.user, **form.cleaned_data
                )
            except DomainError as exc:  # cancelled since the page was opened
                self.message_user(request, exc.detail, messages.ERROR)
            else:
                self.message_user(
                    request,
                    f"Message sent to {admin_tools.counted(sent, 'ticket holder')} of "
                    f"{event.name}; its e-mails' delivery is shown below.",
                    messages.SUCCESS,
                )
            change = reverse("admin:events_event_change", args=[event.pk])
            return HttpResponseRedirect(f"{change}#messages")
        context = {
            **self.admin_site.each_context(request),
            "title": f"Message the ticket holders of {event.name}",
            "opts": self.opts,
            "original": event,
            "form": form,
            "holders": selectors.event_ticket_holders(event=event),
        }
        return TemplateResponse(request, "admin/events/event/message.html", context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        event = self.get_object(request, object_id)
        context = dict(extra_context or {})
        if event is not None:
            open_ = event.status == Event.Status.SCHEDULED
            context.update(
                cancel_url=reverse("admin:events_event_cancel", args=[event.pk]) if open_ else None,
                message_url=reverse("admin:events_event_message", args=[event.pk])
                if open_
                else None,
                checkin_url=checkin_desk_url(event.pk),
                summary=selectors.event_summary(event=event),
                event_messages=event_message_deliveries(event_id=event.pk),
                queue=queue_status(event_id=event.pk),
                queue_url=reverse("admin-event-queue-panel", args=[event.pk]),
            )
        return super().change_view(request, object_id, form_url, context)

    def _event_or_404(self, request, event_id) -> Event:
        event = self.get_object(request, str(event_id))
        if event is None:
            raise Http404("No event with this id.")
        return event

    def bookings_csv(self, request, event_id):
        try:
            bookings = event_bookings(event_id=event_id)
        except NotFound:
            raise Http404("No event with this id.") from None
        return bookings_csv_response(bookings, filename=f"event-{event_id}-bookings.csv")

    @admin.action(description="Cancel selected events (bookings and waitlist cancelled)")
    def cancel_events(self, request, queryset):
        inside = []

        def cancel(event):
            cancelled = services.event_cancel(event_id=event.pk, actor=request.user)
            inside.append((event.name, cancelled.tickets_inside))

        run_each(
            request,
            self,
            queryset.exclude(status=Event.Status.CANCELLED),
            cancel,
            "Events cancelled",
        )
        for name, count in inside:
            self._tell_who_is_inside(request, name, count)

    def _tell_who_is_inside(self, request, name: str, count: int) -> None:
        if count:
            self.message_user(
                request,
                f"{name}: {count} ticket(s) had already been checked in. Those people are at "
                "the venue; their bookings are cancelled like the others.",
                level=messages.WARNING,
            )

    def save_model(self, request, obj, form, change):
        editable = services.EDITABLE_FIELDS
        try:
            if change:
                changes = {f: form.cleaned_data[f] for f in form.changed_data if f in editable}
                services.event_update(event_id=obj.pk, actor=request.user, changes=changes)
            else:
                created = event_create(
                    created_by=request.user, **{f: form.cleaned_data[f] for f in editable}
                )
                obj.pk = created.pk
        except DomainError as exc:
            # A race the form's own checks could not see; nothing was saved.
            self.message_user(request, exc.detail, level=messages.ERROR)
            return
        obj.refresh_from_db()

    def save_formset(self, request, form, formset, change):
        if formset.model is not TicketType:
            return super().save_formset(request, form, formset, change)
        fields = services.TICKET_TYPE_FIELDS
        # What the change message (the admin's history) lists; the services did the writes.
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        for inline_form in formset.forms:
            if not inline_form.has_changed() and inline_form not in formset.deleted_forms:
                continue
            ticket_type = inline_form.instance
            data = inline_form.cleaned_data
            try:
                if inline_form in formset.deleted_forms:
                    if ticket_type.pk:
                        services.ticket_type_delete(
                            ticket_type_id=ticket_type.pk, actor=request.user
                        )
                elif ticket_type._state.adding:
                    services.ticket_type_create(
                        event_id=form.instance.pk,
                        actor=request.user,
                        **{f: data[f] for f in fields if f in data},
                    )
                else:
                    changes = {f: data[f] for f in inline_form.changed_data if f in fields}
                    services.ticket_type_update(
                        ticket_type_id=ticket_type.pk, actor=request.user, changes=changes
                    )
            except DomainError as exc:
                self.message_user(
                    request,
                    f"{data.get('name') or ticket_type}: {exc.detail}",
                    level=messages.ERROR,
                )

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        """The event's form and its ticket types saved as one service call each, each its own
        transaction, not inside one around the whole form as the admin has it: every service
        takes its locks in the order of core/locks.py from the event row down, which a
        second service in the same transaction would take again after the lower ones."""
        return self._changeform_view(request, object_id, form_url, extra_context)

    def delete_model(self, request, obj):
        services.event_delete(event_id=obj.pk, actor=request.user)

    def delete_queryset(self, request, queryset):
        for event_id in queryset.values_list("pk", flat=True):
            services.event_delete(event_id=event_id, actor=request.user)
