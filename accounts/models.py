from __future__ import annotations

import secrets
import uuid
from datetime import timedelta
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac
from django_otp.models import Device, ThrottlingMixin, TimestampMixin, VerifyNotAllowed

from accounts.emails import send_email


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


# Sign-in codes (OWASP ASVS 2.7): six digits, ten minutes, single use.
CODE_DIGITS = 6
CODE_VALIDITY = timedelta(minutes=10)
# Wrong codes back off 1, 2, 4, 8 seconds (django-otp's throttling); the fifth
# failure in a row locks verification for 15 minutes, doubling after that,
# until the backoff expires or staff unlock the account.
THROTTLE_FACTOR_SECONDS = 1
LOCKOUT_AFTER_FAILURES = 5
LOCKOUT_SECONDS = 15 * 60
MAX_LOCKOUT_SECONDS = 24 * 60 * 60


def hash_code(*, device_pk: int | None, code: str) -> str:
    """Keyed hash (HMAC-SHA256 with SECRET_KEY) of a code, bound to its device."""
    return salted_hmac(
        "accounts.EmailCodeDevice.code", f"{device_pk}:{code}", algorithm="sha256"
    ).hexdigest()


def new_code() -> str:
    """Six digits from the operating system's CSPRNG."""
    return f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"


class EmailCodeDevice(TimestampMixin, ThrottlingMixin, Device):
    """A user's emailed sign-in code, stored only as a keyed hash.

    django-otp's stock EmailDevice keeps the code in clear and compares it with
    ==; this device keeps its throttling, timestamps and device protocol (so
    OTPMiddleware, OTPAdminSite and verify_token apply) but stores an HMAC and
    compares in constant time. No cooldown mixin: django-ratelimit already caps
    code emails per address and per client.
    """

    token_hash = models.CharField(max_length=64, blank=True)
    valid_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user"], name="accounts_one_code_device_per_user")
        ]

    def get_throttle_factor(self) -> int:
        return THROTTLE_FACTOR_SECONDS

    @property
    def is_locked_out(self) -> bool:
        """True once the failures in a row reach the lockout threshold."""
        return self.throttling_failure_count >= LOCKOUT_AFTER_FAILURES

    def verify_is_allowed(self) -> tuple[bool, dict[str, Any] | None]:
        """django-otp's backoff, with a long lockout from the fifth failure in a row."""
        if self.is_locked_out and self.throttling_failure_timestamp is not None:
            exponent = self.throttling_failure_count - LOCKOUT_AFTER_FAILURES
            seconds = min(LOCKOUT_SECONDS * 2**exponent, MAX_LOCKOUT_SECONDS)
            locked_until = self.throttling_failure_timestamp + timedelta(seconds=seconds)
            if timezone.now() < locked_until:
                return False, {
                    "reason": VerifyNotAllowed.N_FAILED_ATTEMPTS,
                    "failure_count": self.throttling_failure_count,
                    "locked_until": locked_until,
                }
        return super().verify_is_allowed()

    def generate_token(self) -> str:
        """Replace any earlier code with a fresh one; return it (it is never stored)."""
        code = new_code()
        self.token_hash = hash_code(device_pk=self.pk, code=code)
        self.valid_until = timezone.now() + CODE_VALIDITY
        self.save(update_fields=["token_hash", "valid_until"])
        return code

    def generate_challenge(self) -> str:
        """django-otp's challenge: email a fresh code to the device's user."""
        code = self.generate_token()
        send_email(
            template="login_code",
            to=[self.user.email],
            context={"code": code, "user": self.user, "minutes": CODE_VALIDITY.seconds // 60},
        )
        return "sent by email"

    def verify_token(self, token: str) -> bool:
        """Accept the current code once, before it expires; count every miss.

        Call on a row locked with select_for_update (as django_otp.verify_token
        does), so two parallel guesses are judged one after the other.
        """
        allowed, _ = self.verify_is_allowed()
        if not allowed:
            return False
        now = timezone.now()
        candidate = hash_code(device_pk=self.pk, code=str(token))
        matches = constant_time_compare(candidate, self.token_hash or "-")
        if matches and self.valid_until is not None and now < self.valid_until:
            self.token_hash = ""
            self.valid_until = None
            self.throttle_reset(commit=False)
            self.set_last_used_timestamp(commit=False)
            self.save()
            return True
        self.throttle_increment()
        return False

    def unlock(self) -> None:
        """Clear the failures in a row (staff's "Unlock sign-in")."""
        self.throttle_reset()
