"""Who may call a route, decided from the account as it is now.

The access token says who is calling (`ClaimsJWTAuthentication` builds the caller from its
claims without a query). What the caller may do is read from the account row, once per
request, by every permission here except `ClaimsOnly`: a demoted or deactivated admin loses
staff rights on the very next request, and a deleted account's token is a 401, not a 500.
The row read replaces `request.user`, so views and services see the current role too.

`ClaimsOnly` is for the booking, the hot path: its first query reads the account's state
along with the event (`bookings.services`), so it needs no lookup of its own.
"""

from rest_framework.permissions import BasePermission

from accounts.models import User
from core.exceptions import AccountClosed


def _account_is_live(request) -> bool:
    current_account(request)  # raises AccountClosed (401) when it is not
    return True


def current_account(request) -> User:
    """The caller's account row, read once per request; 401 when it is gone or disabled."""
    account = getattr(request, "_current_account", None)
    if account is None:
        account = User.objects.filter(pk=request.user.pk, is_active=True).first()
        if account is None:
            raise AccountClosed()
        request._current_account = account
        request.user = account
    return account


def _signed_in(request) -> bool:
    return bool(request.user and request.user.is_authenticated)


class IsActiveAccount(BasePermission):
    """Signed in with an account that still exists and is active (the default)."""

    def has_permission(self, request, view) -> bool:
        return _signed_in(request) and _account_is_live(request)


class PublicOrActiveAccount(BasePermission):
    """Open to anyone; a caller who sends a token must hold a live account."""

    anonymous_allowed = True  # the schema documents the token as optional (core.schema)

    def has_permission(self, request, view) -> bool:
        return not _signed_in(request) or _account_is_live(request)


class ClaimsOnly(BasePermission):
    """Signed in, taken from the token alone: the view's service checks the account."""

    def has_permission(self, request, view) -> bool:
        return _signed_in(request)


class IsAdmin(BasePermission):
    """Role `admin` (staff) now. Anonymous callers get 401, signed-in non-admins 403."""

    message = "This needs the admin role."

    def has_permission(self, request, view) -> bool:
        return _signed_in(request) and current_account(request).is_admin


class IsDoorStaff(BasePermission):
    """Role `admin` or `scanner` now: the check-in routes. A scanner has no other staff right
    (every other staff route asks for `IsAdmin`)."""

    message = "This needs the admin or scanner role."

    def has_permission(self, request, view) -> bool:
        return _signed_in(request) and current_account(request).is_door_staff
