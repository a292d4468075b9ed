from django.contrib import admin

from evently.admin_tools import ReadOnlyRecordsMixin
from notifications.models import Notification


@admin.register(Notification)
class NotificationAdmin(ReadOnlyRecordsMixin, admin.ModelAdmin):
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
