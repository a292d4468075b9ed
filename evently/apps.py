from django.apps import AppConfig


class EventlyConfig(AppConfig):
    name = "evently"
    verbose_name = "Evently"
