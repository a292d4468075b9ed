from django.contrib import admin

from notifications.models import Notification


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = (
        "created_at",
        "user",
        "type",
        "title",
        "is_read",
        "email_status",
        "email_attempts",
    )
    list_filter = ("type", "is_read", "email_status", "created_at")
    search_fields = ("user__email", "title")
    list_select_related = ("user",)
    ordering = ("-created_at",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
