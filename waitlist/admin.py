from django.contrib import admin

from waitlist.models import WaitlistEntry


@admin.register(WaitlistEntry)
class WaitlistEntryAdmin(admin.ModelAdmin):
    """Read-only view of the waitlists, in serving order; changes go through the services."""

    list_display = (
        "id",
        "event",
        "user",
        "quantity",
        "priority",
        "status",
        "joined_at",
        "offer_expires_at",
    )
    list_filter = ("status",)
    search_fields = ("user__email", "event__name", "id")
    list_select_related = ("event", "user")
    ordering = ("event", "-priority", "joined_at", "id")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
