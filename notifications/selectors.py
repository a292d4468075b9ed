from django.db.models import QuerySet
from rest_framework.exceptions import ValidationError

from accounts.models import User
from notifications.filters import NotificationFilter
from notifications.models import Notification


def notifications_of(*, user: User, filters: dict) -> QuerySet[Notification]:
    filterset = NotificationFilter(
        filters, queryset=Notification.objects.filter(user=user).order_by("-created_at", "-id")
    )
    if not filterset.is_valid():
        raise ValidationError(filterset.errors)
    return filterset.qs
