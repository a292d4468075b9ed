from django.conf import settings
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.models import User


def tokens_for(user: User) -> dict:
    """The login answer's token part; `token` repeats `access` for the earlier clients."""
    refresh = RefreshToken.for_user(user)
    refresh["role"] = user.role
    access = refresh.access_token
    return {
        "access": str(access),
        "refresh": str(refresh),
        "token": str(access),
        "token_type": "Bearer",
        "expires_in": int(settings.SIMPLE_JWT["ACCESS_TOKEN_LIFETIME"].total_seconds()),
    }
