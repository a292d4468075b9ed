from django import forms
from django.contrib import admin, messages
from django.utils import timezone

from evently.exceptions import DomainError
from events import services
from events.models import Event


class EventAdminForm(forms.ModelForm):
    class Meta:
        model = Event
        fields = ("name", "description", "venue", "event_time", "price", "total_capacity")

    def clean_event_time(self):
        # Friendly form errors for the rules the services enforce again under the row lock.
        value = self.cleaned_data["event_time"]
        if "event_time" in self.changed_data and value <= timezone.now():
            raise forms.ValidationError("Must be in the future.")
        return value

    def clean_total_capacity(self):
        value = self.cleaned_data["total_capacity"]
        if self.instance.pk and value < self.instance.taken_seats:
            taken = self.instance.taken_seats
            raise forms.ValidationError(
                f"Cannot drop below {taken}: that many seats are booked or held."
            )
        return value


@admin.register(Event)
class EventAdmin(admin.ModelAdmin):
    form = EventAdminForm
    list_display = (
        "name",
        "event_time",
        "venue",
        "status",
        "total_capacity",
        "available_seats",
        "price",
    )
    list_filter = ("status", "event_time")
    search_fields = ("name", "venue", "description")
    date_hierarchy = "event_time"
    ordering = ("-event_time",)
    # Seat counters and status belong to the services that keep the books balanced.
    readonly_fields = (
        "id",
        "available_seats",
        "booked_seats",
        "held_seats",
        "status",
        "created_by",
        "created_at",
        "updated_at",
    )
    fields = (
        "id",
        "name",
        "description",
        "venue",
        "event_time",
        "price",
        "total_capacity",
        "available_seats",
        "booked_seats",
        "held_seats",
        "status",
        "created_by",
        "created_at",
        "updated_at",
    )

    def save_model(self, request, obj, form, change):
        editable = services.EDITABLE_FIELDS
        try:
            if change:
                changes = {f: form.cleaned_data[f] for f in form.changed_data if f in editable}
                services.event_update(event_id=obj.pk, actor=request.user, changes=changes)
            else:
                created = services.event_create(
                    created_by=request.user, **{f: form.cleaned_data[f] for f in editable}
                )
                obj.pk = created.pk
        except DomainError as exc:
            # A race the form's own checks could not see; nothing was saved.
            self.message_user(request, exc.detail, level=messages.ERROR)
            return
        obj.refresh_from_db()

    def delete_model(self, request, obj):
        services.event_delete(event_id=obj.pk, actor=request.user)

    def delete_queryset(self, request, queryset):
        for event_id in queryset.values_list("pk", flat=True):
            services.event_delete(event_id=event_id, actor=request.user)
