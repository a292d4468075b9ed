from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "webhooks"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # The domain apps send signals inside their transactions; these write the messages.
        from core import metrics
        from webhooks import receivers  # noqa: F401
        from webhooks.selectors import webhook_failures_state, webhook_outbox_state

        metrics.register_outbox("webhooks", webhook_outbox_state)
        metrics.register_webhook_failures(webhook_failures_state)
