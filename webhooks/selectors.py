from django.db.models import Count, Prefetch, Q, QuerySet
from django.utils import timezone

from core import metrics
from core.metrics import WEBHOOK_GIVEN_UP_WINDOW
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


def webhook_outbox_state(*, now=None) -> tuple[int, float]:
    """(deliveries not yet made, seconds the oldest due one has waited since it fell due) for
    the metrics scrape, as the e-mail outbox reports its own: one query on the worker's partial
    index (webhooks_delivery_due_idx). A delivery waiting out its retry delay is not due.

    Only the deliveries the worker would claim count: those of a disabled endpoint wait until
    staff enable it again, and would age the outbox into EventlyOutboxBehind while the worker
    is keeping up with everything it may send."""
    unsent = WebhookDelivery.objects.filter(
        status__in=[WebhookDelivery.Status.PENDING, WebhookDelivery.Status.SENDING],
        endpoint__is_active=True,
    )
    return metrics.count_and_age(unsent, since="next_attempt_at", now=now)


def webhook_failures_state(*, now=None) -> tuple[int, int]:
    """(deliveries being retried, deliveries given up on in the last WEBHOOK_GIVEN_UP_WINDOW)
    for the metrics scrape, in one query: the retried ones are in the outbox's partial index
    (webhooks_delivery_due_idx), the given up ones in webhooks_delivery_given_up_idx.

    A delivery is retried while its last try failed (`failed_at`) and it waits for the next.
    Those of a disabled endpoint are left out, as from the outbox's backlog: nobody tries
    them until staff enable it again, and staff were told why it was switched off."""
    since = (now or timezone.now()) - WEBHOOK_GIVEN_UP_WINDOW
    Status = WebhookDelivery.Status
    retrying = Q(status__in=[Status.PENDING, Status.SENDING])
    given_up = Q(status=Status.FAILED, failed_at__gte=since)
    found = WebhookDelivery.objects.filter(
        retrying | given_up, failed_at__isnull=False, endpoint__is_active=True
    ).aggregate(retrying=Count("pk", filter=retrying), given_up=Count("pk", filter=given_up))
    return found["retrying"], found["given_up"]
