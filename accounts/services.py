"""Sign-in, account security and invitations: the writes that span several models.

Views, admin actions and commands all call these functions; none re-implements
a rule. Nothing here logs or audits an email address or a code.
"""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.tasks import task
from django.utils import timezone

from accounts.audit import audit_record
from accounts.backends import users_forget
from accounts.emails import build_email, email_send_now
from accounts.limits import address_limits_reset, wait_in_words
from accounts.models import (
    CODE_VALIDITY,
    GUESSES_PER_CODE,
    EmailCodeDevice,
    Role,
    SignInRequest,
    User,
    hash_code,
    new_code,
    normalize_email,
)
from config.errors import DomainError

# Pending sign-ins are kept a day after they expire, then removed by the worker.
SIGNIN_REQUEST_RETENTION = timedelta(days=1)


class CodeRejected(DomainError):
    code = "code_rejected"
    message = "That code is not right. Check the most recent email from us and try again."
    http_status = 400


class CodeExpired(DomainError):
    code = "code_expired"
    message = (
        f"That code has expired: codes work for {CODE_VALIDITY.seconds // 60} minutes. "
        "Ask for a new code."
    )
    http_status = 400


class CodeUsedUp(DomainError):
    code = "code_used_up"
    message = f"That code no longer works after {GUESSES_PER_CODE} wrong tries. Ask for a new code."
    http_status = 400


class CodeAlreadyUsed(DomainError):
    code = "code_already_used"
    message = "That code has already been used to sign in. Ask for a new code to sign in again."
    http_status = 400


class CodeNotSentYet(DomainError):
    code = "code_not_sent_yet"
    message = "We are still sending your code. Wait a moment for the email, then enter the code."
    http_status = 400


class CodeForEarlierRequest(DomainError):
    code = "code_for_earlier_request"
    http_status = 400

    def __init__(self, *, same_address: bool) -> None:
        super().__init__(
            "That code was replaced by the newer one we sent: use the code in the most "
            "recent email."
            if same_address
            else "That code was sent for the address you entered before. Use the code sent "
            "to the address you entered last, or go back and enter the other address again."
        )


class SignInWait(DomainError):
    code = "signin_wait"
    http_status = 429

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        super().__init__(f"Wait a moment between tries: try again in {wait_in_words(seconds)}.")


def login_code_request(*, email: str, token: str) -> None:
    """Queue "send a sign-in code" for this address and pending sign-in, whoever it is.

    The request does exactly this for every address (one INSERT into the task
    queue), so neither its answer nor its timing tells anyone who has an
    account; the worker decides whether the address gets an email.
    """
    login_code_send.enqueue(email=normalize_email(email), token=token)


@task()
def login_code_send(*, email: str, token: str) -> None:
    """Task: issue the code of one pending sign-in; email it if an active account has the address.

    Every address gets its request row (an unknown one with no user and a code
    nobody receives), so checking codes later behaves the same for all. A failed
    send raises, and the retry issues a fresh code for the same sign-in.
    """
    now = timezone.now()
    user = User.objects.filter(email=email, is_active=True).first()
    code = new_code()
    # One INSERT ... ON CONFLICT: a retry of this task replaces its own row's code.
    SignInRequest.objects.bulk_create(
        [
            SignInRequest(
                token=token,
                user=user,
                code_hash=hash_code(token=token, code=code),
                created_at=now,
                valid_until=now + CODE_VALIDITY,
            )
        ],
        update_conflicts=True,
        unique_fields=["token"],
        update_fields=[
            "user",
            "code_hash",
            "created_at",
            "valid_until",
            "failures",
            "last_failure_at",
            "used_at",
        ],
    )
    SignInRequest.objects.filter(valid_until__lt=now - SIGNIN_REQUEST_RETENTION).delete()
    if user is not None:
        email_send_now(
            build_email(
                template="login_code",
                recipient=user,
                context={"code": code, "user": user, "minutes": CODE_VALIDITY.seconds // 60},
            )
        )


def login_code_verify(
    *, token: str, code: str, previous: tuple[str, bool] | None = None
) -> EmailCodeDevice:
    """Check a code against this browser's pending sign-in; return the user's device.

    The request row is locked (select_for_update), so parallel guesses are
    judged one at a time. Only a wrong code is written down (its count and
    time); every other refusal writes nothing. `previous` is the token of the
    sign-in this browser asked for before and whether it was for the same
    address, to say so when its code is entered. Raises a DomainError with its
    own message for each kind of refusal.
    """
    now = timezone.now()
    with transaction.atomic():
        request = (
            SignInRequest.objects.select_for_update(of=("self",))
            .select_related("user")
            .filter(token=token)
            .first()
        )
        if request is None:
            raise CodeNotSentYet()
        if request.used_at is not None:
            raise CodeAlreadyUsed()
        if request.used_up:
            raise CodeUsedUp()
        retry_at = request.retry_at()
        if retry_at is not None and now < retry_at:
            raise SignInWait((retry_at - now).total_seconds())
        if now >= request.valid_until:
            raise CodeExpired()
        user = request.user
        if request.matches(code) and user is not None and user.is_active:
            request.used_at = now
            request.save(update_fields=["used_at"])
            device, _ = EmailCodeDevice.objects.get_or_create(user=user, defaults={"name": "Email"})
            device.set_last_used_timestamp(commit=False)
            device.user = user
            device.save(update_fields=["last_used_at"])
            audit_record(action="signin.success", obj=user, actor=user)
            return device
        if previous is not None and _matches_earlier(previous[0], code):
            raise CodeForEarlierRequest(same_address=previous[1])
        request.failures += 1
        request.last_failure_at = now
        request.save(update_fields=["failures", "last_failure_at"])
        after = {"failure_count": request.failures}
        audit_record(action="signin.failure", obj=user, after=after)
        if request.used_up:
            audit_record(action="signin.code_used_up", obj=user, after=after)
    if request.used_up:
        raise CodeUsedUp()
    raise CodeRejected()


def _matches_earlier(token: str, code: str) -> bool:
    earlier = SignInRequest.objects.filter(token=token).first()
    return earlier is not None and earlier.matches(code)


def signin_unlock(*, user: User, actor: User | None) -> bool:
    """Reset the code-request limits of a user's address (staff's "Unlock sign-in").

    The person can ask for a code at once, from anywhere. False for an
    inactive account, which cannot sign in anyway.
    """
    if not user.is_active:
        return False
    address_limits_reset(email=user.email)
    audit_record(action="signin.unlock", obj=user, actor=actor)
    return True


def user_deactivate(*, user: User, actor: User | None) -> bool:
    """Deactivate an account: its sessions end at their next request. False if already off."""
    with transaction.atomic():
        updated = User.objects.filter(pk=user.pk, is_active=True).update(is_active=False)
        if not updated:
            return False
        user.is_active = False
        users_forget([user.pk])  # update() sends no post_save
        audit_record(
            action="user.deactivated",
            obj=user,
            actor=actor,
            before={"is_active": True},
            after={"is_active": False},
        )
    return True


def reminders_switch(*, user: User, enabled: bool) -> bool:
    """Turn the person's reminder emails on or off; False when they already were.

    Called from the link in a reminder (no one is signed in, so no actor: the
    signed link stands for the person) and audited when something changed.
    """
    with transaction.atomic():
        changed = User.objects.filter(pk=user.pk, reminders_enabled=not enabled).update(
            reminders_enabled=enabled
        )
        user.reminders_enabled = enabled
        if changed:
            users_forget([user.pk])
            audit_record(
                action="reminders.turned_on" if enabled else "reminders.turned_off",
                obj=user,
                before={"reminders_enabled": not enabled},
                after={"reminders_enabled": enabled},
            )
    return bool(changed)


# URL names of each role's first page, keyed by Role (looked up with User.role, a str).
ROLE_HOMES: dict[str, str] = {
    Role.PARTICIPANT: "home",
    Role.COACH: "coach_workspace",
    Role.SPONSOR: "reports:sponsor_home",
    Role.STAFF: "nudges:ops_dashboard",
}
