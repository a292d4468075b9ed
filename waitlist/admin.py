from django import forms
from django.contrib import admin, messages

from evently.admin_tools import run_each
from evently.exceptions import DomainError
from waitlist import services
from waitlist.models import WaitlistEntry
from waitlist.selectors import with_position


class PriorityForm(forms.ModelForm):
    class Meta:
        model = WaitlistEntry
        fields = ("priority",)


@admin.register(WaitlistEntry)
class WaitlistEntryAdmin(admin.ModelAdmin):
    """The queues in serving order. Staff may change an entry's priority; everything else
    changes only through the waitlist services."""

    form = PriorityForm
    list_display = (
        "event",
        "position",
        "user_email",
        "quantity",
        "priority",
        "status",
        "joined_at",
        "offer_expires_at",
    )
    list_filter = ("status", ("event", admin.RelatedOnlyFieldListFilter))
    search_fields = ("user__email", "event__name")
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

    def get_queryset(self, request):
        return with_position(super().get_queryset(request))

    @admin.display(description="Position")
    def position(self, entry: WaitlistEntry):
        return entry.position if entry.status == WaitlistEntry.Status.WAITING else "-"

    @admin.display(description="User", ordering="user__email")
    def user_email(self, entry: WaitlistEntry) -> str:
        return entry.user.email

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
        )

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
