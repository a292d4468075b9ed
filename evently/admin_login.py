"""The admin site's login form (see `evently.admin_site`)."""

from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError


class AdminOrDoorStaffLoginForm(AdminAuthenticationForm):
    """Django's admin login, which also lets door staff (role scanner) in, for the desk."""

    # Django's says "both fields may be case-sensitive"; here only the password is, as the
    # e-mail address is normalised (lower case) before it is looked up.
    error_messages = {
        **AdminAuthenticationForm.error_messages,
        "invalid_login": (
            "Please enter the correct e-mail address and password of a staff or door account. "
            "The password is case-sensitive; the e-mail address is not."
        ),
    }

    def confirm_login_allowed(self, user):
        AuthenticationForm.confirm_login_allowed(self, user)  # refuses an inactive account
        if not (user.is_staff or user.is_door_staff):
            raise ValidationError(
                self.error_messages["invalid_login"],
                code="invalid_login",
                params={"username": self.username_field.verbose_name},
            )
