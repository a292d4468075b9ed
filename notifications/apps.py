from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "notifications"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from core import metrics
        from notifications.selectors import email_outbox_state

        metrics.register_outbox("email", email_outbox_state)
