from rest_framework.permissions import BasePermission


class IsAdmin(BasePermission):
    """Role `admin` (staff). Anonymous callers get 401, signed-in non-admins 403."""

    message = "This needs the admin role."

    def has_permission(self, request, view) -> bool:
        user = request.user
        return bool(user and user.is_authenticated and getattr(user, "is_admin", False))
