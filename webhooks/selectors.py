from django.db.models import Prefetch, QuerySet

from webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint


def endpoint_list() -> QuerySet[WebhookEndpoint]:
    return WebhookEndpoint.objects.order_by("-created_at", "-id")


def endpoint_deliveries(*, endpoint_id) -> QuerySet[WebhookDelivery]:
    """The endpoint's deliveries, newest first, each with its message and every attempt:
    three queries a page whatever its size (count, rows with messages, attempts)."""
    return (
        WebhookDelivery.objects.filter(endpoint_id=endpoint_id)
        .select_related("message")
        .prefetch_related(Prefetch("tries", queryset=WebhookAttempt.objects.order_by("id")))
        .order_by("-created_at", "-id")
    )
