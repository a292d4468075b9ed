import uuid

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.db import models


class UserManager(BaseUserManager):
    use_in_migrations = True

    @staticmethod
    def normalize_email_address(email: str) -> str:
        return email.strip().lower()

    def create_user(self, email: str, name: str, password: str | None = None, **extra):
        from accounts.services import user_create

        return user_create(email=email, name=name, password=password, **extra)

    def create_superuser(self, email: str, name: str, password: str | None = None, **extra):
        extra["role"] = User.Role.ADMIN
        return self.create_user(email=email, name=name, password=password, **extra)


class User(AbstractBaseUser):
    """A person who books tickets; `role` admin makes them staff.

    Emails are stored trimmed and lower-cased (see `UserManager.normalize_email_address`), so the
    plain unique index is case-insensitive in effect.

    `role` is the one source of truth for staff rights: `is_staff`, `is_superuser` and the
    permission checks the Django admin makes are all derived from it.
    """

    class Role(models.TextChoices):
        USER = "user", "User"
        ADMIN = "admin", "Admin"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    email = models.EmailField(max_length=254, unique=True)
    name = models.CharField(max_length=150)
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
                condition=models.Q(role__in=["user", "admin"]), name="accounts_user_role_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>"

    @property
    def is_admin(self) -> bool:
        return self.role == self.Role.ADMIN

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

    def get_full_name(self) -> str:
        return self.name

    def get_short_name(self) -> str:
        return self.name
