from django import forms
from django.contrib import admin, messages

from core import admin_tools
from core.admin_tools import ConsoleListMixin, run_each
from core.exceptions import DomainError
from waitlist import services
from waitlist.models import ACTIVE_STATUSES, WaitlistEntry
from waitlist.selectors import with_position


def entry_badge(entry: WaitlistEntry) -> str:
    """The entry's status; an open offer with the moment it runs out."""
    if entry.status == WaitlistEntry.Status.OFFERED:
        return admin_tools.badge(
            "offered", note=f"until {admin_tools.when(entry.offer_expires_at)}"
        )
    return admin_tools.badge(entry.status)


def entry_label(entry: WaitlistEntry) -> str:
    """An entry as staff name it (the model's str() is ids)."""
    return f"{entry.user.name}, {entry.quantity} seat(s) waiting for {entry.event.name}"


class QueueStatusFilter(admin.SimpleListFilter):
    """The status filter, opening on the live queue (waiting and offered): what staff act on.
    The ended entries (accepted, declined, expired, cancelled) outnumber it soon after the
    first sales, so they show only when asked for, one status or "All"."""

    title = "status"
    parameter_name = "status"
    LIVE, ALL = "live", "all"

    def lookups(self, request, model_admin):
        return [
            (self.LIVE, "Live queue (waiting and offered)"),
            *WaitlistEntry.Status.choices,
            (self.ALL, "All"),
        ]

    def value(self):
        return super().value() or self.LIVE

    def has_output(self):
        return True

    def choices(self, changelist):
        # Django's own choices start with an "All" that drops the parameter, which here would
        # mean the default; every choice therefore sets it.
        for lookup, title in self.lookup_choices:
            yield {
                "selected": self.value() == lookup,
                "query_string": changelist.get_query_string({self.parameter_name: lookup}),
                "display": title,
            }

    def queryset(self, request, queryset):
        status = self.value()
        if status == self.ALL:
            return queryset
        if status == self.LIVE:
            return queryset.filter(status__in=ACTIVE_STATUSES)
        return queryset.filter(status=status)


class PriorityForm(forms.ModelForm):
    class Meta:
        model = WaitlistEntry
        fields = ("priority",)


@admin.register(WaitlistEntry)
class WaitlistEntryAdmin(ConsoleListMixin, admin.ModelAdmin):
    """The queues in serving order. Staff may change an entry's priority; everything else
    changes only through the waitlist services."""

    form = PriorityForm
    # Narrow columns so the list and its filters fit a 1366 px screen: the e-mail under the
    # person's name, an offer's deadline in its status.
    list_display = (
        "event_name",
        "position",
        "person",
        "seats",
        "priority",
        "entry_status",
        "joined",
    )
    list_display_links = ("event_name", "person")
    list_filter = (QueueStatusFilter, ("event", admin.RelatedOnlyFieldListFilter))
    search_fields = ("user__email", "user__name", "event__name")
    search_help_text = "Search by the person's e-mail or name, or the event's name."
    list_select_related = ("event", "user")
    ordering = ("event__event_time", "event", "-priority", "joined_at", "id")
    actions = ("offer_seats_now", "expire_offers")
    readonly_fields = (
        "id",
        "event",
        "user",
        "quantity",
        "status",
        "position",
        "joined_at",
        "offered_at",
        "offer_expires_at",
        "booking",
    )
    fields = ("priority", *readonly_fields)
    change_form_template = "admin/core/record_change_form.html"

    def get_queryset(self, request):
        return with_position(super().get_queryset(request).select_related("event", "user"))

    @admin.display(description="Position")
    def position(self, entry: WaitlistEntry):
        return entry.position if entry.status == WaitlistEntry.Status.WAITING else "\N{EN DASH}"

    @admin.display(description="Event", ordering="event__event_time")
    def event_name(self, entry: WaitlistEntry) -> str:
        return admin_tools.event_when(entry.event)

    @admin.display(description="Person", ordering="user__email")
    def person(self, entry: WaitlistEntry) -> str:
        return admin_tools.person(entry.user)

    @admin.display(description="Seats", ordering="quantity")
    def seats(self, entry: WaitlistEntry) -> int:
        return entry.quantity

    @admin.display(description="Status", ordering="status")
    def entry_status(self, entry: WaitlistEntry) -> str:
        return entry_badge(entry)

    @admin.display(description="Joined", ordering="joined_at")
    def joined(self, entry: WaitlistEntry) -> str:
        return admin_tools.when(entry.joined_at)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        entry = self.get_object(request, object_id)
        label = entry_label(entry) if entry else None
        context = {"record_label": label, "subtitle": label, **(extra_context or {})}
        return super().change_view(request, object_id, form_url, context)

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and not obj.is_active:
            return ("priority", *self.readonly_fields)
        return self.readonly_fields

    def save_model(self, request, obj, form, change):
        try:
            services.waitlist_entry_set_priority(
                entry_id=obj.pk, priority=form.cleaned_data["priority"], actor=request.user
            )
        except DomainError as exc:
            self.message_user(request, exc.detail, level=messages.ERROR)

    @admin.action(description="Offer free seats now (events of the selected entries)")
    def offer_seats_now(self, request, queryset):
        event_ids = sorted(set(queryset.values_list("event_id", flat=True)), key=str)
        offered = sum(
            len(services.waitlist_event_serve(event_id=event_id, actor=request.user))
            for event_id in event_ids
        )
        self.message_user(request, f"New offers made: {offered}.", level=messages.SUCCESS)

    @admin.action(description="Expire selected offers now (seats pass on)")
    def expire_offers(self, request, queryset):
        run_each(
            request,
            self,
            queryset.filter(status=WaitlistEntry.Status.OFFERED),
            lambda entry: services.waitlist_offer_expire(entry_id=entry.pk, actor=request.user),
            "Offers expired",
            label=entry_label,
        )

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
