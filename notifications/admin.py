from django.contrib import admin

from core import admin_tools
from core.admin_tools import ConsoleListMixin, ReadOnlyRecordsMixin
from notifications.models import Notification


def notification_label(notification: Notification) -> str:
    return f"{notification.get_type_display()} to {notification.user.name}: {notification.title}"


@admin.register(Notification)
class NotificationAdmin(ConsoleListMixin, ReadOnlyRecordsMixin, admin.ModelAdmin):
    """What each person was told, and whether its e-mail went out (the outbox's fields)."""

    list_display = ("sent", "person", "kind", "title", "email_delivery", "is_read")
    list_display_links = ("sent", "title")
    list_filter = ("type", "email_status", "is_read", "created_at")
    search_fields = ("user__email", "user__name", "title")
    search_help_text = "Search by the person's e-mail or name, or the title."
    list_select_related = ("user",)
    ordering = ("-created_at",)
    date_hierarchy = "created_at"
    change_form_template = "admin/core/record_change_form.html"
    fields = (
        "id",
        "user",
        "event",
        "type",
        "title",
        "message",
        "is_read",
        "created_at",
        "email_status",
        "email_attempts",
        "email_sent_at",
        "email_next_attempt_at",
        "email_last_error",
    )

    @admin.display(description="Sent", ordering="created_at")
    def sent(self, notification: Notification) -> str:
        return admin_tools.when(notification.created_at)

    @admin.display(description="Person", ordering="user__email")
    def person(self, notification: Notification) -> str:
        return admin_tools.person(notification.user)

    @admin.display(description="Type", ordering="type")
    def kind(self, notification: Notification) -> str:
        return notification.get_type_display()

    @admin.display(description="E-mail", ordering="email_status")
    def email_delivery(self, notification: Notification) -> str:
        status = notification.email_status
        attempts = notification.email_attempts
        note = f"{attempts} attempts" if attempts > 1 else ""
        if status == Notification.EmailStatus.SENT:
            note = admin_tools.when(notification.email_sent_at)
        return admin_tools.badge(status, note=note)

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("user", "event")

    def change_view(self, request, object_id, form_url="", extra_context=None):
        notification = self.get_object(request, object_id)
        label = notification_label(notification) if notification else None
        context = {"record_label": label, "subtitle": label, **(extra_context or {})}
        return super().change_view(request, object_id, form_url, context)
