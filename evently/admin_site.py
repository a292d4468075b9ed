"""The Django admin site, with its login throttled like the API's, and open to door staff for
the check-in desk alone.

Installed through `evently.apps.EventlyAdminConfig` (`default_site`), so `admin.site`, every
`@admin.register` and `admin.site.urls` use it unchanged.

Who may use which page is read from the account on every request (Django's session
middleware loads the user row each time): role `admin` is staff and sees everything; role
`scanner` (door staff) may sign in, and then reaches only the pages wrapped with `door_view`
(the check-in desk) and its own password change and logout. Every other page of the site is
wrapped with `admin_view`, as Django's own are, which answers a scanner 403 (its index sends
them to the desk); a page added later is therefore staff-only unless it opts in.
"""

import math
from functools import wraps

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.utils.decorators import method_decorator
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters

from evently.problems import problem_response
from evently.throttling import LoginRateThrottle

# Pages of the site a scanner may open besides the desk: their own account's.
_DOOR_STAFF_PAGES = {"logout", "password_change", "password_change_done"}


def door_staff_only(user) -> bool:
    """Signed in as door staff without staff rights: a scanner."""
    return bool(user.is_active and getattr(user, "is_door_staff", False) and not user.is_staff)


class EventlyAdminSite(admin.AdminSite):
    # Applied here, not only by Django's LoginView inside: the throttle check below can fail
    # too (the cache is a database table), and an error report must not show the password.
    @method_decorator(sensitive_post_parameters())
    @method_decorator(never_cache)
    def login(self, request, extra_context=None):
        # Each POST spends from the same per-address `login` budget as POST /api/auth/login
        # (same scope, same cache key): guessing a password costs the same through either door.
        if request.method == "POST":
            throttle = LoginRateThrottle()
            if not throttle.allow_request(request, None):
                wait = throttle.wait()
                return problem_response(
                    429,
                    "throttled",
                    "Too many login attempts from this address; retry later.",
                    headers={"Retry-After": str(max(1, math.ceil(wait if wait else 60)))},
                )
        if self.login_form is None:
            # Imported here: the auth forms import the user model, not ready when this loads.
            from evently.admin_login import AdminOrDoorStaffLoginForm

            self.login_form = AdminOrDoorStaffLoginForm
        return super().login(request, extra_context)

    def has_permission(self, request):
        """Who may be signed in to the site at all: staff and door staff. What a scanner may
        open once in is narrowed by `admin_view`."""
        user = request.user
        return user.is_active and (user.is_staff or getattr(user, "is_door_staff", False))

    def admin_view(self, view, cacheable=False):
        """Django's wrapper (sign-in, CSRF, no caching) for a staff page: a scanner gets 403,
        or the desk for the index."""

        @wraps(view)
        def staff_page(request, *args, **kwargs):
            if door_staff_only(request.user):
                match = request.resolver_match
                page = match.url_name if match and self.name in match.namespaces else None
                if page == "index":
                    return redirect("admin-checkin")
                if page not in _DOOR_STAFF_PAGES:
                    raise PermissionDenied
            return view(request, *args, **kwargs)

        return super().admin_view(staff_page, cacheable)

    def door_view(self, view, cacheable=False):
        """Django's wrapper for a page door staff use too (the check-in desk)."""
        return super().admin_view(view, cacheable)
