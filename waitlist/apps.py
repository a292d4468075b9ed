from django.apps import AppConfig


class WaitlistConfig(AppConfig):
    name = "waitlist"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from core import metrics
        from waitlist.selectors import overdue_offers_state

        metrics.register_overdue_offers(overdue_offers_state)
