import django_filters

from notifications.models import Notification


class NotificationFilter(django_filters.FilterSet):
    is_read = django_filters.ChoiceFilter(
        choices=[("true", "true"), ("false", "false")],
        method="filter_is_read",
        help_text="`false` for unread only.",
    )

    class Meta:
        model = Notification
        fields = []

    # The hint makes the schema say string (`true`/`false`), not the model field's boolean.
    def filter_is_read(self, queryset, name, value: str):
        return queryset.filter(is_read=value == "true")
