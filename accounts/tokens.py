from django.conf import settings
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.models import User


def token_pair(user: User) -> dict[str, str]:
    """A new refresh token and its access token, carrying the account's current role."""
    refresh = RefreshToken.for_user(user)
    refresh["role"] = user.role
    return {"access": str(refresh.access_token), "refresh": str(refresh)}


def tokens_for(user: User) -> dict:
    """The login answer's token part; `token` repeats `access` for the earlier clients."""
    pair = token_pair(user)
    return {
        **pair,
        "token": pair["access"],
        "token_type": "Bearer",
        "expires_in": int(settings.SIMPLE_JWT["ACCESS_TOKEN_LIFETIME"].total_seconds()),
    }
