"""Sign-in, account security and invitations: the writes that span several models.

Views, admin actions and commands all call these functions; none re-implements
a rule. Nothing here logs or audits an email address or a code.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.core.cache import cache
from django.db import transaction
from django.utils import timezone
from django.utils.crypto import salted_hmac

from accounts.audit import audit_record
from accounts.emails import build_email, send_email
from accounts.models import (
    CODE_VALIDITY,
    MAX_LOCKOUT_SECONDS,
    EmailCodeDevice,
    Role,
    User,
    hash_code,
    new_code,
    normalize_email,
)
from config.errors import DomainError

if TYPE_CHECKING:
    from engagements.models import Engagement


class CodeRejected(DomainError):
    code = "code_rejected"
    message = (
        "That code is not right, or it has expired or been used. "
        "Check the most recent email from us, or ask for a new code."
    )
    http_status = 400


class SignInLocked(DomainError):
    code = "signin_locked"

    def __init__(self, locked_until: datetime) -> None:
        self.locked_until = locked_until
        # Round up to the next minute, so "after 14:05" is never too early.
        shown = timezone.localtime(locked_until)
        if shown.second or shown.microsecond:
            shown = shown.replace(second=0, microsecond=0) + timedelta(minutes=1)
        super().__init__(
            f"Too many attempts. Try again after {shown:%H:%M} ({shown:%Z}), "
            "or ask the Coachdesk team to unlock your sign-in."
        )


def email_digest(email: str) -> str:
    """A keyed hash of a normalised address: a cache key that reveals no email."""
    return salted_hmac(
        "accounts.email_digest", normalize_email(email), algorithm="sha256"
    ).hexdigest()


def login_code_request(*, email: str) -> None:
    """Email a fresh sign-in code to an active account with this address.

    Unknown and inactive addresses get no email, but the same work up to the
    send (a code, its hash, the rendered message), so neither the answer nor
    its timing class tells anyone who has an account.
    """
    email = normalize_email(email)
    user = User.objects.filter(email=email, is_active=True).first()
    if user is None:
        code = new_code()
        hash_code(device_pk=0, code=code)
        build_email(template="login_code", to=[email], context=_code_context(code, None))
        return
    with transaction.atomic():
        device, _ = EmailCodeDevice.objects.select_for_update().get_or_create(
            user=user, defaults={"name": "Email"}
        )
        device.user = user
        device.generate_challenge()


def _code_context(code: str, user: User | None) -> dict[str, Any]:
    return {"code": code, "user": user, "minutes": CODE_VALIDITY.seconds // 60}


def login_code_verify(*, email: str, code: str) -> EmailCodeDevice:
    """Check a code for the address waiting to sign in; return the device on success.

    The device row is read with select_for_update inside a transaction (what
    django_otp.verify_token does), so parallel guesses are judged one at a
    time and the throttling counts every one of them. Raises SignInLocked
    while the backoff or lockout runs, CodeRejected for any other failure.
    """
    email = normalize_email(email)
    locked_until: datetime | None = None
    with transaction.atomic():
        device = (
            EmailCodeDevice.objects.select_for_update(of=("self",))
            .select_related("user")
            .filter(user__email=email, user__is_active=True, confirmed=True)
            .first()
        )
        if device is None:
            locked_until = _shadow_attempt(email)
        else:
            allowed, info = device.verify_is_allowed()
            if not allowed:
                locked_until = (info or {}).get("locked_until") or timezone.now()
            elif device.verify_token(code):
                audit_record(action="signin.success", obj=device.user, actor=device.user)
                return device
            else:
                _record_failure(device)
                if device.is_locked_out:
                    locked_until = device.verify_is_allowed()[1]["locked_until"]
    if locked_until is not None:
        raise SignInLocked(locked_until)
    raise CodeRejected()


def _record_failure(device: EmailCodeDevice) -> None:
    after = {"failure_count": device.throttling_failure_count}
    audit_record(action="signin.failure", obj=device.user, after=after)
    if device.is_locked_out:
        audit_record(action="signin.lockout", obj=device.user, after=after)


def _shadow_attempt(email: str) -> datetime | None:
    """Throttle guesses for an address with no active account exactly like a real one.

    The state lives in the shared cache under the address's keyed hash, so
    the lockout appears after the same number of failures, across sessions.
    """
    key = f"signin-shadow:{email_digest(email)}"
    count, last_failure = cache.get(key) or (0, None)
    shadow = EmailCodeDevice(
        throttling_failure_count=count, throttling_failure_timestamp=last_failure
    )
    allowed, info = shadow.verify_is_allowed()
    if not allowed:
        return (info or {}).get("locked_until")
    shadow.throttle_increment(commit=False)
    cache.set(
        key,
        (shadow.throttling_failure_count, shadow.throttling_failure_timestamp),
        timeout=MAX_LOCKOUT_SECONDS,
    )
    audit_record(action="signin.failure", after={"failure_count": count + 1})
    if shadow.is_locked_out:
        return shadow.verify_is_allowed()[1]["locked_until"]  # type: ignore[index]
    return None


def signin_unlock(*, user: User, actor: User | None) -> bool:
    """Clear a user's failed attempts in a row; True if there was anything to clear."""
    with transaction.atomic():
        device = EmailCodeDevice.objects.select_for_update().filter(user=user).first()
        if device is None or device.throttling_failure_count == 0:
            return False
        before = {"failure_count": device.throttling_failure_count}
        device.unlock()
        audit_record(
            action="signin.unlock", obj=user, actor=actor, before=before, after={"failure_count": 0}
        )
    return True


def user_deactivate(*, user: User, actor: User | None) -> bool:
    """Deactivate an account: its sessions end at their next request. False if already off."""
    with transaction.atomic():
        updated = User.objects.filter(pk=user.pk, is_active=True).update(is_active=False)
        if not updated:
            return False
        user.is_active = False
        audit_record(
            action="user.deactivated",
            obj=user,
            actor=actor,
            before={"is_active": True},
            after={"is_active": False},
        )
    return True


def invitation_send(*, engagement: Engagement, actor: User | None) -> None:
    """Email the participant an invitation to sign in (after the transaction commits)."""
    participant = engagement.participant
    send_email(
        template="invitation",
        to=[participant.email],
        context={"user": participant, "program": engagement.program},
    )
    audit_record(
        action="invitation.sent", obj=engagement, actor=actor, after={"status": engagement.status}
    )


# Keyed by Role; looked up with User.role, a plain str.
ROLE_HOMES: dict[str, str] = {
    Role.PARTICIPANT: "/",
    Role.COACH: "/coach/",
    Role.SPONSOR: "/sponsor/",
    Role.STAFF: "/ops/",
}
SESSION_SECONDS: dict[str, int] = {
    Role.PARTICIPANT: 30 * 24 * 60 * 60,
    Role.COACH: 30 * 60,
    Role.SPONSOR: 30 * 60,
    Role.STAFF: 30 * 60,
}
