from __future__ import annotations

import uuid
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager
from django.db import models
from django.db.models.functions import Lower


class Role(models.TextChoices):
    PARTICIPANT = "participant", "Participant"
    COACH = "coach", "Coach"
    SPONSOR = "sponsor", "Sponsor"
    STAFF = "staff", "Staff"


class UserManager(BaseUserManager["User"]):
    def get_by_natural_key(self, username: str | None) -> User:
        return self.get(email=normalize_email(username or ""))

    def create_user(
        self, email: str, *, full_name: str = "", role: str = Role.PARTICIPANT, **extra: Any
    ) -> User:
        """Create a user who can only ever sign in by emailed code (no password)."""
        user = self.model(email=normalize_email(email), full_name=full_name, role=role, **extra)
        user.set_unusable_password()
        user.save(using=self._db)
        return user


def normalize_email(email: str) -> str:
    return email.strip().lower()


class User(AbstractBaseUser):
    """Email is the username, unique whatever its case; nobody has a password."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    # Stored lower-cased (exact lookups use the unique index); the functional
    # constraint below also refuses a mixed-case twin written around the manager.
    email = models.EmailField(max_length=254, unique=True)
    full_name = models.CharField(max_length=150)
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.PARTICIPANT)
    is_active = models.BooleanField(default=True)
    date_joined = models.DateTimeField(auto_now_add=True)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["full_name"]

    class Meta:
        constraints = [
            models.UniqueConstraint(Lower("email"), name="accounts_user_email_ci_unique"),
            models.CheckConstraint(
                condition=models.Q(role__in=Role.values), name="accounts_user_role_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.full_name or f"User {self.public_id}"

    def clean(self) -> None:
        super().clean()
        self.email = normalize_email(self.email)

    @property
    def is_staff(self) -> bool:
        """Only the ops team may enter the admin (and only with a verified session)."""
        return self.is_active and self.role == Role.STAFF

    @property
    def is_superuser(self) -> bool:
        return self.is_staff

    def has_perm(self, perm: str, obj: object | None = None) -> bool:
        return self.is_staff

    def has_perms(self, perm_list: Any, obj: object | None = None) -> bool:
        return self.is_staff

    def has_module_perms(self, app_label: str) -> bool:
        return self.is_staff


class AuditEvent(models.Model):
    """Who did what, when, to which object, with the values before and after."""

    actor = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    action = models.CharField(max_length=64)
    object_type = models.CharField(max_length=64, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    request_id = models.CharField(max_length=64, blank=True)
    client_ip = models.GenericIPAddressField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["object_type", "object_id"]),
            models.Index(fields=["action", "created_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.action} {self.object_type} {self.object_id}".strip()
