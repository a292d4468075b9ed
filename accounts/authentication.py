from collections import OrderedDict

from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.utils import aware_utcnow, datetime_to_epoch

from accounts.models import User

# Access tokens this process has verified, newest last: a client sends the same token with
# every request for its whole lifetime, and checking the signature and the encoding again
# each time was a tenth of a booking's CPU. A cached token is still refused once it expires.
# Nothing here must hold across processes: a miss only costs the full check.
_VERIFIED: OrderedDict[bytes, object] = OrderedDict()
_VERIFIED_MAX = 10_000


class ClaimsJWTAuthentication(JWTAuthentication):
    """Bearer JWT authentication that takes the user from the token's claims.

    The access token carries the user's id and role (see accounts.tokens), so a request needs
    no database lookup to know who is calling. What the caller may do is read from the account
    as it is now, by the permissions (accounts/permissions.py), not from the role claim. Tokens
    without a role claim fall back to a lookup.
    """

    def get_validated_token(self, raw_token: bytes):
        token = _VERIFIED.get(raw_token)
        if token is not None and token["exp"] > datetime_to_epoch(aware_utcnow()):
            return token
        _VERIFIED.pop(raw_token, None)
        token = super().get_validated_token(raw_token)  # raises InvalidToken as it always did
        _VERIFIED[raw_token] = token
        if len(_VERIFIED) > _VERIFIED_MAX:
            _VERIFIED.popitem(last=False)
        return token

    def get_user(self, validated_token):
        role = validated_token.get("role")
        if role not in User.Role.values:
            return super().get_user(validated_token)
        user = User(id=validated_token[api_settings.USER_ID_CLAIM], role=role, is_active=True)
        user._state.adding = False  # it exists; it was just not read
        user._state.db = "default"
        return user


class ClaimsJWTScheme(SimpleJWTScheme):
    """Documents ClaimsJWTAuthentication in the OpenAPI schema as the bearer JWT it is."""

    target_class = "accounts.authentication.ClaimsJWTAuthentication"
