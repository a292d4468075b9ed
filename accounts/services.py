from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.models import User
from evently.exceptions import EmailTaken, Invalid


def user_create(
    *,
    email: str,
    name: str,
    password: str | None,
    role: str = User.Role.USER,
    validate: bool = False,
    **extra,
) -> User:
    """Create a user; with `validate`, the password must pass Django's validators."""
    email = User.objects.normalize_email_address(email)
    user = User(email=email, name=name.strip(), role=role, **extra)
    if password is None:
        user.set_unusable_password()
    else:
        if validate:
            try:
                validate_password(password, user=user)
            except DjangoValidationError as exc:
                raise Invalid({"password": list(exc.messages)}) from None
        user.set_password(password)
    if User.objects.filter(email__iexact=email).exists():
        raise EmailTaken()
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError:
        # Two registrations with the same address raced past the check above.
        raise EmailTaken() from None
    return user


def user_register(*, name: str, email: str, password: str) -> User:
    return user_create(email=email, name=name, password=password, validate=True)


def refresh_token_revoke(*, user: User, refresh: str) -> None:
    """Blacklist a refresh token so it can no longer mint access tokens (logout)."""
    token = RefreshToken(refresh)  # raises TokenError when invalid, expired or blacklisted
    if str(token.get("user_id")) != str(user.pk):
        raise TokenError("Token is invalid")
    token.blacklist()
