from django.contrib import admin

from bookings.models import Booking


@admin.register(Booking)
class BookingAdmin(admin.ModelAdmin):
    """Read-only view of bookings; changes go through the booking services."""

    list_display = ("id", "event", "user", "quantity", "total_amount", "status", "booking_time")
    list_filter = ("status", "booking_time")
    search_fields = ("user__email", "event__name", "id")
    list_select_related = ("event", "user")
    date_hierarchy = "booking_time"
    ordering = ("-created_at",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
