"""The staff console's webhook pages: endpoints (register, edit, enable or disable, rotate
the secret, send a test) and every delivery with its attempts (retry). Each writes through
webhooks.services, as the API does."""

from django import forms
from django.contrib import admin, messages

from core import admin_tools
from core.admin_tools import ConsoleListMixin, ReadOnlyRecordsMixin
from webhooks import network, services
from webhooks.models import (
    ALL_TYPES,
    EVENT_TYPES,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
)


class WebhookEndpointForm(forms.ModelForm):
    url = forms.URLField(max_length=2000, assume_scheme="https")
    events = forms.MultipleChoiceField(
        choices=[(ALL_TYPES, "Every type (*)"), *[(t, t) for t in EVENT_TYPES]],
        widget=forms.CheckboxSelectMultiple,
        help_text="booking.expired and payment.refunded are sent once checkout lands.",
    )

    class Meta:
        model = WebhookEndpoint
        fields = ("url", "description", "events", "is_active")

    def clean_url(self):
        url = self.cleaned_data["url"]
        try:
            network.check(url)
        except network.UnsafeURL as exc:
            raise forms.ValidationError(str(exc)) from None
        return url


def _show_secret(modeladmin, request, endpoint: WebhookEndpoint, what: str) -> None:
    modeladmin.message_user(
        request,
        f"{what} {endpoint.url}. Its signing secret, shown this once: {endpoint.secret}",
        level=messages.WARNING,
    )


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(ConsoleListMixin, admin.ModelAdmin):
    form = WebhookEndpointForm
    list_display = ("url", "subscribed", "state", "created")
    list_filter = ("is_active",)
    search_fields = ("url", "description")
    ordering = ("-created_at",)
    actions = ("enable", "disable", "rotate_secret", "send_test")

    @admin.display(description="Types")
    def subscribed(self, endpoint: WebhookEndpoint) -> str:
        return ", ".join(endpoint.events)

    @admin.display(description="State", ordering="is_active")
    def state(self, endpoint: WebhookEndpoint) -> str:
        if endpoint.is_active:
            note = (
                f"failing since {admin_tools.when(endpoint.failing_since)}"
                if (endpoint.failing_since)
                else ""
            )
            return admin_tools.badge("confirmed", "Active", note=note)
        return admin_tools.badge("failed", "Disabled", note=endpoint.disabled_reason)

    @admin.display(description="Registered", ordering="created_at")
    def created(self, endpoint: WebhookEndpoint) -> str:
        return admin_tools.when(endpoint.created_at)

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def save_model(self, request, obj, form, change):
        fields = {name: form.cleaned_data[name] for name in WebhookEndpointForm.Meta.fields}
        if change:
            saved = services.endpoint_update(endpoint_id=obj.pk, actor=request.user, changes=fields)
        else:
            saved = services.endpoint_create(actor=request.user, **fields)
            _show_secret(self, request, saved, "Registered")
        obj.__dict__.update({k: v for k, v in saved.__dict__.items() if k != "_state"})
        obj._state.adding = False

    @admin.action(description="Enable selected endpoints")
    def enable(self, request, queryset):
        admin_tools.run_each(
            request,
            self,
            queryset,
            lambda e: services.endpoint_update(
                endpoint_id=e.pk, actor=request.user, changes={"is_active": True}
            ),
            "Enabled",
        )

    @admin.action(description="Disable selected endpoints")
    def disable(self, request, queryset):
        admin_tools.run_each(
            request,
            self,
            queryset,
            lambda e: services.endpoint_update(
                endpoint_id=e.pk, actor=request.user, changes={"is_active": False}
            ),
            "Disabled",
        )

    @admin.action(description="Rotate the secret (the old one signs too for 24 hours)")
    def rotate_secret(self, request, queryset):
        for endpoint in queryset:
            rotated = services.endpoint_rotate_secret(endpoint_id=endpoint.pk, actor=request.user)
            _show_secret(self, request, rotated, "Rotated the secret of")

    @admin.action(description="Send a test message")
    def send_test(self, request, queryset):
        admin_tools.run_each(
            request,
            self,
            queryset,
            lambda e: services.endpoint_send_test(endpoint_id=e.pk, actor=request.user),
            "Test messages queued",
        )


class WebhookAttemptInline(admin.TabularInline):
    model = WebhookAttempt
    fields = ("attempted_at", "status_code", "duration_ms", "error")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ConsoleListMixin, ReadOnlyRecordsMixin, admin.ModelAdmin):
    """Every message on its way to an endpoint, with each try and what the receiver said."""

    list_display = ("written", "kind", "endpoint", "delivery", "attempts", "next_try")
    list_filter = ("status", "message__type", "endpoint")
    search_fields = ("message__id", "endpoint__url")
    search_help_text = "Search by webhook-id or the endpoint's URL."
    list_select_related = ("message", "endpoint")
    ordering = ("-created_at",)
    date_hierarchy = "created_at"
    inlines = (WebhookAttemptInline,)
    actions = ("retry",)
    fields = (
        "id",
        "message",
        "body",
        "endpoint",
        "status",
        "attempts",
        "next_attempt_at",
        "delivered_at",
        "created_at",
    )
    readonly_fields = fields

    @admin.display(description="Written", ordering="created_at")
    def written(self, delivery: WebhookDelivery) -> str:
        return admin_tools.when(delivery.created_at)

    @admin.display(description="Type", ordering="message__type")
    def kind(self, delivery: WebhookDelivery) -> str:
        return delivery.message.type

    @admin.display(description="Status", ordering="status")
    def delivery(self, delivery: WebhookDelivery) -> str:
        tone = {"delivered": "sent"}.get(delivery.status, delivery.status)
        return admin_tools.badge(tone, delivery.get_status_display())

    @admin.display(description="Next try", ordering="next_attempt_at")
    def next_try(self, delivery: WebhookDelivery) -> str:
        if delivery.status in {WebhookDelivery.Status.PENDING, WebhookDelivery.Status.SENDING}:
            return admin_tools.when(delivery.next_attempt_at)
        return "\N{EN DASH}"

    @admin.display(description="Body")
    def body(self, delivery: WebhookDelivery) -> str:
        return delivery.message.body

    @admin.action(description="Retry selected deliveries now")
    def retry(self, request, queryset):
        admin_tools.run_each(
            request,
            self,
            queryset,
            lambda d: services.delivery_retry(delivery_id=d.pk, actor=request.user),
            "Queued again",
        )
