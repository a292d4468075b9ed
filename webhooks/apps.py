from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "webhooks"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # The domain apps send signals inside their transactions; these write the messages.
        from webhooks import receivers  # noqa: F401
