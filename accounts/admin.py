from django.contrib import admin
from django.contrib.auth import forms as auth_forms
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.models import Group
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from accounts import services
from accounts.models import User
from core.admin_tools import ConsoleListMixin, ReadOnlyRecordsMixin

# Staff rights come from `User.role`; Django's groups and permissions are not used.
admin.site.unregister(Group)

# The token tables are records of the API's sign-ins, shown under Security: nothing is added
# or edited by hand (a revocation goes through logout, or a change of role in Users).
admin.site.unregister(OutstandingToken)
admin.site.unregister(BlacklistedToken)


@admin.register(OutstandingToken)
class RefreshTokenAdmin(ConsoleListMixin, ReadOnlyRecordsMixin, admin.ModelAdmin):
    list_display = ("user", "created_at", "expires_at", "jti")
    search_fields = ("user__email", "=jti")
    search_help_text = "Search by the account's email, or an exact token id (jti)."
    list_select_related = ("user",)
    ordering = ("-created_at",)


@admin.register(BlacklistedToken)
class RevokedTokenAdmin(ConsoleListMixin, ReadOnlyRecordsMixin, admin.ModelAdmin):
    list_display = ("token_user", "blacklisted_at", "token_expires_at")
    search_fields = ("token__user__email", "=token__jti")
    search_help_text = "Search by the account's email, or an exact token id (jti)."
    list_select_related = ("token__user",)
    ordering = ("-blacklisted_at",)

    @admin.display(description="Account", ordering="token__user__email")
    def token_user(self, revoked: BlacklistedToken):
        return revoked.token.user

    @admin.display(description="Would have expired", ordering="token__expires_at")
    def token_expires_at(self, revoked: BlacklistedToken):
        return revoked.token.expires_at


class _UniqueEmailMixin:
    def clean_email(self):
        email = self.cleaned_data["email"]  # normalised by the model's field (its form field)
        duplicate = User.objects.filter(email=email).exclude(pk=self.instance.pk)
        if duplicate.exists():
            raise auth_forms.ValidationError("An account with this email already exists.")
        return email


class UserCreationForm(_UniqueEmailMixin, auth_forms.AdminUserCreationForm):
    class Meta:
        model = User
        fields = ("email", "name", "role")


class UserChangeForm(_UniqueEmailMixin, auth_forms.UserChangeForm):
    class Meta:
        model = User
        fields = ("email", "name", "role", "is_active")


@admin.register(User)
class UserAdmin(ConsoleListMixin, DjangoUserAdmin):
    form = UserChangeForm
    add_form = UserCreationForm
    list_display = ("email", "name", "role", "is_active", "created_at")
    list_filter = ("role", "is_active")
    search_fields = ("email", "name")
    ordering = ("-created_at",)
    readonly_fields = ("id", "created_at", "last_login")
    filter_horizontal = ()
    fieldsets = (
        (None, {"fields": ("id", "email", "name", "password")}),
        ("Access", {"fields": ("role", "is_active")}),
        ("History", {"fields": ("created_at", "last_login")}),
    )

    def save_model(self, request, obj, form, change):
        access = {"role", "is_active"} & set(form.changed_data)
        if change and access:
            # Role and active flag change through the service, which revokes the refresh
            # tokens of a demoted or deactivated account; the rest is saved as usual.
            role, is_active = obj.role, obj.is_active
            obj.role, obj.is_active = form.initial["role"], form.initial["is_active"]
            super().save_model(request, obj, form, change)
            services.user_set_access(user_id=obj.pk, role=role, is_active=is_active)
            obj.role, obj.is_active = role, is_active
            return
        super().save_model(request, obj, form, change)

    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("email", "name", "role", "usable_password", "password1", "password2"),
            },
        ),
    )
