from __future__ import annotations

import secrets
import uuid
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac
from django_otp.models import Device, TimestampMixin


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


# django-otp ships no types, so EmailCodeDevice's manager (from its Device base)
# is unknown and the plugin cannot type the reverse accessor emailcodedevice_set.
class User(AbstractBaseUser):  # type: ignore[django-manager-missing]
    """Email is the username, unique whatever its case; nobody has a password."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    # Stored lower-cased (exact lookups use the unique index); the functional
    # constraint below also refuses a mixed-case twin written around the manager.
    email = models.EmailField(max_length=254, unique=True)
    full_name = models.CharField(max_length=150)
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.PARTICIPANT)
    is_active = models.BooleanField(default=True)
    # The daily run's reminder emails; the person turns them off with the one-click
    # link in each reminder (accounts/unsubscribe.py). Other emails are not affected.
    # The database default also covers rows written without the ORM (bench/ COPY)
    # and by the previous release while this column is being added.
    reminders_enabled = models.BooleanField(
        "reminder emails",
        default=True,
        db_default=True,
        help_text="Off when the person turned reminders off from an email.",
    )
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


# Sign-in codes (OWASP ASVS 2.7): six digits, ten minutes, single use, each bound
# to the browser that asked for it (docs/architecture.md, "Sign-in").
CODE_DIGITS = 6
CODE_VALIDITY = timedelta(minutes=10)
# Wrong codes back off 1, 2, 4, 8 seconds; the fifth wrong code in a row uses the
# code up (the person asks for a new one). Only that one pending sign-in is
# affected: nobody else's guesses can refuse a person's code.
THROTTLE_FACTOR_SECONDS = 1
GUESSES_PER_CODE = 5


def hash_code(*, token: str, code: str) -> str:
    """Keyed hash (HMAC-SHA256 with SECRET_KEY) of a code, bound to its pending sign-in."""
    return salted_hmac(
        "accounts.SignInRequest.code", f"{token}:{code}", algorithm="sha256"
    ).hexdigest()


def new_code() -> str:
    """Six digits from the operating system's CSPRNG."""
    return f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"


class SignInRequest(models.Model):
    """One pending sign-in: a code asked for by one browser, stored only as a keyed hash.

    The browser keeps the random `token` in its session; the worker writes this
    row for every address it is given, with `user` empty when no active
    account has the address (that code is never sent), so checking a code
    does the same work whoever asked.
    """

    token = models.CharField(max_length=64, unique=True)
    user = models.ForeignKey(User, null=True, blank=True, on_delete=models.CASCADE)
    code_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)
    valid_until = models.DateTimeField(db_index=True)
    failures = models.PositiveSmallIntegerField(default=0)
    last_failure_at = models.DateTimeField(null=True, blank=True)
    used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"Sign-in request {self.pk}"

    def matches(self, code: str) -> bool:
        """Whether `code` is this request's code (constant-time; says nothing about expiry)."""
        return constant_time_compare(hash_code(token=self.token, code=code), self.code_hash)

    @property
    def used_up(self) -> bool:
        """True once GUESSES_PER_CODE wrong codes in a row were entered."""
        return self.failures >= GUESSES_PER_CODE

    def retry_at(self) -> datetime | None:
        """When the next guess will be judged (1, 2, 4, 8 s after each wrong one), or None."""
        if not self.failures or self.last_failure_at is None:
            return None
        return self.last_failure_at + timedelta(
            seconds=THROTTLE_FACTOR_SECONDS * 2 ** (self.failures - 1)
        )


class EmailCodeDevice(TimestampMixin, Device):
    """The user's django-otp device: signing in with an emailed code verifies the
    session with it, which OTPMiddleware, OTPAdminSite and the staff pages check.

    The codes themselves live on SignInRequest (one per pending sign-in).
    """

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user"], name="accounts_one_code_device_per_user")
        ]
