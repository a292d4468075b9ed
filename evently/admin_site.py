"""The Django admin site, with its login throttled like the API's.

Installed through `evently.apps.EventlyAdminConfig` (`default_site`), so `admin.site`, every
`@admin.register` and `admin.site.urls` use it unchanged.
"""

import math

from django.contrib import admin
from django.utils.decorators import method_decorator
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters

from evently.problems import problem_response
from evently.throttling import LoginRateThrottle


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
        return super().login(request, extra_context)
