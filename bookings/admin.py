from django.contrib import admin

from bookings import services
from bookings.models import Booking
from evently.admin_tools import ReadOnlyRecordsMixin, run_each


@admin.register(Booking)
class BookingAdmin(ReadOnlyRecordsMixin, admin.ModelAdmin):
    """Bookings are records: staff read them and cancel through the service, never edit."""

    list_display = (
        "id",
        "event",
        "user_email",
        "quantity",
        "total_amount",
        "status",
        "booking_time",
        "cancelled_at",
    )
    list_filter = ("status", ("event", admin.RelatedOnlyFieldListFilter), "booking_time")
    search_fields = ("user__email", "=id")
    search_help_text = "Search by the booker's email, or an exact booking id."
    list_select_related = ("event", "user")
    date_hierarchy = "booking_time"
    ordering = ("-booking_time",)
    actions = ("cancel_bookings",)

    @admin.display(description="User", ordering="user__email")
    def user_email(self, booking: Booking) -> str:
        return booking.user.email

    @admin.action(description="Cancel selected bookings (seats go to the waitlist)")
    def cancel_bookings(self, request, queryset):
        run_each(
            request,
            self,
            queryset.filter(status=Booking.Status.CONFIRMED),
            lambda booking: services.booking_cancel(booking_id=booking.pk, actor=request.user),
            "Bookings cancelled",
        )
