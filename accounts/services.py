from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.models import User, normalize_email_address, refresh_tokens_revoke_all
from accounts.tokens import token_pair
from core import locks
from core.exceptions import EmailTaken, Invalid, TokenNotValid

# Roles from the most rights to the fewest: moving right is a demotion.
_RANK = {User.Role.ADMIN: 2, User.Role.SCANNER: 1, User.Role.USER: 0}


def user_create(
    *,
    email: str,
    name: str,
    password: str | None,
    role: str = User.Role.USER,
    validate: bool = False,
) -> User:
    """Create a user; with `validate`, the password must pass Django's validators."""
    email = normalize_email_address(email)
    if validate and password is not None:
        try:
            validate_password(password, user=User(email=email, name=name))
        except DjangoValidationError as exc:
            raise Invalid({"password": list(exc.messages)}) from None
    if User.objects.filter(email=email).exists():
        raise EmailTaken()
    try:
        with transaction.atomic():
            return User.objects.create_user(email=email, name=name, password=password, role=role)
    except IntegrityError:
        # Two registrations with the same address raced past the check above.
        raise EmailTaken() from None


def user_register(*, name: str, email: str, password: str) -> User:
    return user_create(email=email, name=name, password=password, validate=True)


def user_set_access(*, user_id, role: str, is_active: bool) -> User:
    """Change an account's role or active flag; a demotion or a deactivation also revokes
    every refresh token it holds, so no device can mint a new access token for it.

    Staff routes read the role from the account on every request, so the change holds from
    the next request whatever access tokens are still out there.
    """
    with transaction.atomic():
        user = locks.rows(User.objects.filter(pk=user_id), locks.ACCOUNT).get()
        lowered = _RANK[role] < _RANK[user.role] or (user.is_active and not is_active)
        user.role, user.is_active = role, is_active
        user.save(update_fields=["role", "is_active"])
        if lowered:
            refresh_tokens_revoke_all(user=user)
    return user


def tokens_refresh(*, refresh: str) -> dict[str, str]:
    """Exchange a refresh token for a new pair minted from the account as it is now.

    The old token is used up (blacklisted) exactly once: two concurrent refreshes of one
    token race on the blacklist's unique row, and only the winner gets a new pair.
    """
    try:
        old = RefreshToken(refresh)  # signature, expiry and the blacklist
    except TokenError as exc:
        raise TokenNotValid(str(exc)) from None
    with transaction.atomic():
        # The account row locked: a password change that commits first has revoked `old`
        # (its blacklist row exists, so `first_use` is false below), and one that comes after
        # waits for this pair to be written and revokes it too.
        user = locks.rows(
            User.objects.filter(pk=old.get("user_id"), is_active=True), locks.ACCOUNT
        ).first()
        if user is None:
            raise TokenNotValid("The account no longer exists or is disabled.")
        _, first_use = old.blacklist()
        if not first_use:
            raise TokenNotValid("Token is blacklisted")
        return token_pair(user)


def refresh_token_revoke(*, user: User, refresh: str) -> None:
    """Blacklist a refresh token so it can no longer mint access tokens (logout)."""
    token = RefreshToken(refresh)  # raises TokenError when invalid, expired or blacklisted
    if str(token.get("user_id")) != str(user.pk):
        raise TokenError("Token is invalid")
    token.blacklist()
