import contextlib
import unicodedata
import uuid

from django import forms
from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.db import models, transaction
from django.utils import timezone
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from core import locks
from core.validators import OneLineCharField


def normalize_email_address(email: str) -> str:
    """The one form an address is stored, looked up and compared in.

    Unicode NFKC folds look-alike forms (the fullwidth letters of a phone keyboard) into their plain
    ones, the whole address is lower-cased, and the domain is IDNA-encoded the way Django's
    mail code encodes it when it sends, so two addresses that reach the same mailbox are the
    same account. A domain IDNA cannot encode is kept as typed; validation refuses it.
    """
    email = unicodedata.normalize("NFKC", email.strip()).lower()
    local, at, domain = email.rpartition("@")
    if not at:
        return email
    with contextlib.suppress(UnicodeError):
        domain = domain.encode("idna").decode("ascii")
    return f"{local}@{domain}"


class NormalizedEmailFormField(forms.EmailField):
    def to_python(self, value):
        value = super().to_python(value)
        return normalize_email_address(value) if value else value


class NormalizedEmailField(models.EmailField):
    """An address normalised before it is validated, wherever it is cleaned: the admin's
    forms and `createsuperuser` read look-alike forms as the address they stand for."""

    def to_python(self, value):
        value = super().to_python(value)
        return normalize_email_address(value) if isinstance(value, str) else value

    def formfield(self, **kwargs):
        return super().formfield(**{"form_class": NormalizedEmailFormField, **kwargs})


class UserManager(BaseUserManager):
    """Creates accounts for `createsuperuser` and the services; every address it is given or
    asked for is normalised first."""

    use_in_migrations = True

    def get_by_natural_key(self, username):
        # Login (ModelBackend) and createsuperuser's "already taken" check both come here.
        return self.get(email=normalize_email_address(username))

    def create_user(self, email: str, name: str, password: str | None = None, **extra):
        user = self.model(email=normalize_email_address(email), name=name.strip(), **extra)
        if password is None:
            user.set_unusable_password()
        else:
            user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, name: str, password: str | None = None, **extra):
        extra["role"] = User.Role.ADMIN
        return self.create_user(email=email, name=name, password=password, **extra)


class User(AbstractBaseUser):
    """A person who books tickets; `role` admin makes them staff.

    Emails are stored normalised (see `normalize_email_address`), so the plain unique index
    refuses look-alike and differently cased forms of an address.

    `scanner` is door staff: the check-in routes and the admin site's check-in desk, and
    nothing else of staff's (`is_staff` stays false for it).

    `role` is the one source of truth for staff rights: `is_staff`, `is_superuser` and the
    permission checks the Django admin makes are all derived from it.
    """

    class Role(models.TextChoices):
        USER = "user", "User"
        ADMIN = "admin", "Admin"
        SCANNER = "scanner", "Scanner (door staff)"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    email = NormalizedEmailField(max_length=254, unique=True)
    name = OneLineCharField(max_length=150)
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.USER)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["name"]

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(role__in=["user", "admin", "scanner"]),
                name="accounts_user_role_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>"

    @property
    def is_admin(self) -> bool:
        return self.role == self.Role.ADMIN

    @property
    def is_door_staff(self) -> bool:
        """Role admin or scanner: may check tickets in (the API's check-in routes, the admin
        site's check-in desk)."""
        return self.role in (self.Role.ADMIN, self.Role.SCANNER)

    @property
    def is_staff(self) -> bool:
        return self.is_active and self.is_admin

    @property
    def is_superuser(self) -> bool:
        return self.is_staff

    def has_perm(self, perm: str, obj=None) -> bool:
        return self.is_staff

    def has_perms(self, perm_list, obj=None) -> bool:
        return self.is_staff

    def has_module_perms(self, app_label: str) -> bool:
        return self.is_staff

    def set_unusable_password(self):
        super().set_unusable_password()
        self._password_disabled = True  # a change of password too (see `save`)

    def save(self, *args, **kwargs):
        """Save; when the save stores a new password, also revoke every refresh token the
        account holds, in the same transaction.

        Here, where the password is stored, because every way of changing one ends here: the
        admin site's form, `changepassword`, the API, and `set_password()` then `save()` in
        a shell. `_password` is what `set_password` leaves for this save; a hash upgraded at
        login (`check_password`) clears it first, so an upgrade revokes nothing.
        """
        update_fields = kwargs.get("update_fields")
        password_changed = (
            not self._state.adding
            and (self._password is not None or getattr(self, "_password_disabled", False))
            and (update_fields is None or "password" in update_fields)
        )
        if not password_changed:
            return super().save(*args, **kwargs)
        with transaction.atomic():
            # The UPDATE below locks the account row: `tokens_refresh` takes the same lock
            # before it mints a pair, so no refresh slips a new token past the revocation.
            locks.acquire(locks.ACCOUNT)
            super().save(*args, **kwargs)
            refresh_tokens_revoke_all(user=self)
        self._password_disabled = False
        return None

    def get_full_name(self) -> str:
        return self.name

    def get_short_name(self) -> str:
        return self.name


def refresh_tokens_revoke_all(*, user: User) -> int:
    """Blacklist every refresh token of `user` that could still be used."""
    live = OutstandingToken.objects.filter(
        user=user, expires_at__gt=timezone.now(), blacklistedtoken__isnull=True
    )
    revoked = BlacklistedToken.objects.bulk_create(
        [BlacklistedToken(token=token) for token in live], ignore_conflicts=True
    )
    return len(revoked)
