"""The staff console: the Django admin site, organised by task, with its login throttled like
the API's.

Installed through `evently.apps.EventlyAdminConfig` (`default_site`), so `admin.site`, every
`@admin.register` and `admin.site.urls` use it unchanged.

The index and the navigation group the models by what staff do with them (`SECTIONS`) rather
than by the Django app that holds them. A registered model no section names still shows, under
"Other", so nothing registered elsewhere goes missing.

Door staff use it too. Who may use which page is read from the account on every request
(Django's session middleware loads the user row each time): role `admin` is staff and sees
everything; role `scanner` may sign in, and then reaches only the pages wrapped with
`door_view` (the check-in desk) and its own password change and logout. Every other page of
the site is wrapped with `admin_view`, as Django's own are, which answers a scanner 403 (its
index sends them to the desk); a page added later is therefore staff-only unless it opts in.

A refusal on a console page is a page in the console's look (`refused`), with a way back, not
the API's problem document: people read these pages, scripts do not.
"""

import math
from dataclasses import dataclass
from datetime import timedelta
from functools import wraps

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, reverse
from django.utils.decorators import method_decorator
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters

from bookings.tickets.desk import checkin_desk_url
from core.problems import problem_response
from core.throttling import LoginFailures, LoginRateThrottle
from evently import views

# Pages of the site a scanner may open besides the desk: their own account's.
_DOOR_STAFF_PAGES = {"logout", "password_change", "password_change_done"}


@dataclass(frozen=True)
class Section:
    name: str
    slug: str
    blurb: str
    # "app_label.ModelName" -> the name shown (None: the model's own plural name).
    models: tuple[tuple[str, str | None], ...] = ()
    # (name, URL name) of pages that are not a model's list.
    links: tuple[tuple[str, str], ...] = ()


SECTIONS = (
    Section(
        "Box office",
        "box-office",
        "Events on sale, their bookings, payments and refunds, vouchers, and their waitlists.",
        models=(
            ("events.Event", None),
            ("bookings.Booking", None),
            ("bookings.Payment", None),
            ("bookings.Voucher", None),
            ("waitlist.WaitlistEntry", None),
        ),
    ),
    Section(
        "Door",
        "door",
        "Tickets let in at the door, and the check-in desk of tonight's events.",
        models=(("bookings.TicketCheckIn", "Check-ins"),),
        links=(("Check-in desk", "admin-checkin"),),
    ),
    Section(
        "People",
        "people",
        "Accounts and their roles: admin for staff, scanner for door staff.",
        models=(("accounts.User", "Users and roles"),),
    ),
    Section(
        "Messages",
        "messages",
        "Every notification sent, with its e-mail delivery.",
        models=(("notifications.Notification", "Notifications and e-mail"),),
    ),
    Section(
        "Integrations",
        "integrations",
        "Webhook endpoints that other systems receive signed messages on, and each delivery.",
        models=(
            ("webhooks.WebhookEndpoint", "Webhook endpoints"),
            ("webhooks.WebhookDelivery", "Webhook deliveries"),
        ),
    ),
    Section(
        "Analytics",
        "analytics",
        "Sales per day, how full the next events are, waitlist outcomes, top events.",
        links=(("Analytics dashboard", "admin-dashboard"),),
    ),
    Section(
        "Security",
        "security",
        "Refresh tokens issued to apps, and those revoked by sign-out or a change of role.",
        models=(
            ("token_blacklist.OutstandingToken", "Refresh tokens"),
            ("token_blacklist.BlacklistedToken", "Revoked refresh tokens"),
        ),
    ),
)


def door_staff_only(user) -> bool:
    """Signed in as door staff without staff rights: a scanner."""
    return bool(user.is_active and getattr(user, "is_door_staff", False) and not user.is_staff)


def checkin_url() -> str | None:
    """The check-in desk's list of tonight's events, or None while the console has no desk."""
    try:
        return reverse("admin-checkin")
    except NoReverseMatch:
        return None


class EventlyAdminSite(admin.AdminSite):
    site_header = "Evently"
    site_title = "Evently console"
    index_title = "Today"
    site_url = None  # the API has no public pages to "view"

    def get_app_list(self, request, app_label=None):
        """The sections of `SECTIONS` with the models the user may see (an app's own page,
        `/admin/<app>/`, still lists that app alone)."""
        if app_label is not None:
            return super().get_app_list(request, app_label)
        registered = {
            f"{app['app_label']}.{model['object_name']}": model
            for app in self._build_app_dict(request).values()
            for model in app["models"]
        }
        sections = []
        for section in SECTIONS:
            entries = []
            for key, name in section.models:
                model = registered.pop(key, None)
                if model is not None:
                    entries.append({**model, "name": name or model["name"]})
            entries += [_link(name, url_name) for name, url_name in section.links]
            if entries:
                sections.append(_section(section.name, section.slug, section.blurb, entries))
        if registered:
            others = sorted(registered.values(), key=lambda model: model["name"].lower())
            sections.append(_section("Other", "other", "", others))
        return sections

    def index(self, request, extra_context=None):
        from analytics.selectors import console_today, upcoming_utilization

        upcoming = upcoming_utilization(limit=5)
        for row in upcoming:
            row["checkin_url"] = checkin_desk_url(row["event_id"])
        today = console_today()
        day = today["date"]
        context = {
            "today": today,
            # The bookings list filtered to today's bookings (its date filter's own parameters).
            "bookings_today_url": reverse("admin:bookings_booking_changelist")
            + f"?booking_time__gte={day}&booking_time__lt={day + timedelta(days=1)}",
            "upcoming": upcoming,
            "has_checkin_desk": any(row["checkin_url"] for row in upcoming),
            **(extra_context or {}),
        }
        return super().index(request, context)

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
            # Imported here: the user model is not ready when this module loads.
            from accounts.models import normalize_email_address

            # And the account's failed logins, shared with the API's (LoginFailures).
            failures = LoginFailures(normalize_email_address(request.POST.get("username", "")))
            wait = failures.wait()
            if wait is not None:
                return problem_response(
                    429,
                    "throttled",
                    "Too many failed logins for this account; retry later.",
                    headers={"Retry-After": str(max(1, math.ceil(wait)))},
                )
        if self.login_form is None:
            # Imported here: the auth forms import the user model, not ready when this loads.
            from evently.admin_login import AdminOrDoorStaffLoginForm

            self.login_form = AdminOrDoorStaffLoginForm
        response = super().login(request, extra_context)
        if request.method == "POST" and response.status_code == 200:
            failures.record()  # the form came back with its error: a failed login
        return response

    def has_permission(self, request):
        """Who may be signed in to the site at all: staff and door staff. What a scanner may
        open once in is narrowed by `admin_view`."""
        user = request.user
        return user.is_active and (user.is_staff or getattr(user, "is_door_staff", False))

    def catch_all_view(self, request, url):
        """An unknown console page for a signed-in user is the site's HTML 404, DEBUG included
        (where Django would answer its technical page for the Http404)."""
        try:
            return super().catch_all_view(request, url)
        except Http404:
            return views.not_found(request)

    def admin_view(self, view, cacheable=False):
        """Django's wrapper (sign-in, CSRF, no caching) for a staff page: a scanner gets the
        console's 403 page, or the desk for the index."""

        @wraps(view)
        def staff_page(request, *args, **kwargs):
            if door_staff_only(request.user):
                match = request.resolver_match
                page = match.url_name if match and self.name in match.namespaces else None
                if page == "index":
                    return redirect("admin-checkin")
                if page not in _DOOR_STAFF_PAGES:
                    return self.refused(
                        request, "This page is for staff. Door staff work at the check-in desk."
                    )
            return view(request, *args, **kwargs)

        return self.door_view(staff_page, cacheable)

    def door_view(self, view, cacheable=False):
        """Django's wrapper for a page door staff use too (the check-in desk). A refusal the
        page raises (PermissionDenied) is the console's 403 page."""

        @wraps(view)
        def page(request, *args, **kwargs):
            try:
                return view(request, *args, **kwargs)
            except PermissionDenied as refusal:
                return self.refused(request, str(refusal) or "You may not do this.")

        return super().admin_view(page, cacheable)

    def refused(self, request, detail: str) -> TemplateResponse:
        """403 as a page of the console, with the way to where this account may go."""
        context = {
            **self.each_context(request),
            "title": "Not for this account",
            "detail": detail,
            "desk_url": checkin_url() if door_staff_only(request.user) else None,
        }
        return TemplateResponse(request, "admin/evently/refused.html", context, status=403)


def _section(name: str, slug: str, blurb: str, models: list[dict]) -> dict:
    # The keys Django's app_list and nav sidebar templates read, and the blurb the index shows.
    return {
        "name": name,
        "app_label": slug,
        "app_url": models[0]["admin_url"],
        "has_module_perms": True,
        "models": models,
        "blurb": blurb,
    }


def _link(name: str, url_name: str) -> dict:
    return {
        "name": name,
        "object_name": url_name.replace("-", "_"),
        "perms": {"view": True},
        "admin_url": reverse(url_name),
        "add_url": None,
        "view_only": True,
    }
