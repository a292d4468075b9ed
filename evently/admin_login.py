"""The admin site's login form (see `evently.admin_site`)."""

from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError


class AdminOrDoorStaffLoginForm(AdminAuthenticationForm):
    """Django's admin login, which also lets door staff (role scanner) in, for the desk."""

    def confirm_login_allowed(self, user):
        AuthenticationForm.confirm_login_allowed(self, user)  # refuses an inactive account
        if not (user.is_staff or user.is_door_staff):
            raise ValidationError(
                self.error_messages["invalid_login"],
                code="invalid_login",
                params={"username": self.username_field.verbose_name},
            )
