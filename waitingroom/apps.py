from django.apps import AppConfig


class WaitingRoomConfig(AppConfig):
    name = "waitingroom"
    verbose_name = "On-sale waiting room"
    default_auto_field = "django.db.models.BigAutoField"
