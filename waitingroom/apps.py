from django.apps import AppConfig


class WaitingRoomConfig(AppConfig):
    name = "waitingroom"
    verbose_name = "On-sale waiting room"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from core import metrics
        from waitingroom.selectors import queue_lengths

        metrics.register_queue_lengths(queue_lengths)
