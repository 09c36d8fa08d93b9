"""Reminder emails about open flags: build them, queue them for the worker, record them.

Who is emailed about which kind is rules.RECIPIENTS (docs/architecture.md, "Rules
and where they live"); the builder and the dry run's counts below both read it.
Reminders go out after the run has committed its flags, once per flag and
recipient: each flag stamps `<recipient>_notified_at` per message delivered and
`notified_at` once all are, in the transaction that queues the messages for the
email worker (which retries a failed send), so nobody is emailed twice.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from datetime import date, datetime
from itertools import batched
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.urls import reverse

from accounts.emails import build_email, email_enqueue_many
from engagements.models import Program
from nudges.models import FlagKind, NudgeFlag
from nudges.rules import RECIPIENTS, Recipient, flag_still_holds, kinds_reminding, reminder_kinds

logger = logging.getLogger(__name__)

RECORD_BATCH = 5000


def reminders_count_raised(by_kind: dict[str, int]) -> int:
    """How many messages newly raised flags call for: one per flag and recipient."""
    return sum(n * len(RECIPIENTS[FlagKind(kind)]) for kind, n in by_kind.items())


def _pending_flags() -> QuerySet[NudgeFlag]:
    """Open flags of programs with reminders on that still owe somebody a message."""
    return NudgeFlag.objects.filter(
        resolved_at__isnull=True,
        notified_at__isnull=True,
        kind__in=reminder_kinds(),
        engagement__program__reminders_enabled=True,
    )


def reminders_count_owed(*, program: Program, today: date) -> int:
    """Messages still owed on the program's open flags that this run would keep open."""
    still_holds = flag_still_holds(program=program, today=today)
    if not still_holds:
        return 0
    owed = {
        recipient.value: Count(
            "pk",
            filter=Q(kind__in=kinds, **{f"{recipient}_notified_at__isnull": True}),
        )
        for recipient in Recipient
        if (kinds := kinds_reminding(recipient))
    }
    if not owed:
        return 0
    pending = _pending_flags().filter(still_holds, engagement__program=program)
    return sum(pending.aggregate(**owed).values())


def _reminder_messages(flag: NudgeFlag) -> Iterator[tuple[Recipient, EmailMultiAlternatives]]:
    """The messages this flag still owes, as (recipient, message), in RECIPIENTS order."""
    for recipient in RECIPIENTS[FlagKind(flag.kind)]:
        if getattr(flag, f"{recipient}_notified_at") is not None:
            continue
        message = _BUILDERS[recipient](flag)
        if message is not None:
            yield recipient, message


def _participant_message(flag: NudgeFlag) -> EmailMultiAlternatives:
    """Choose a coach (with a sign-in link) before one is chosen; book a session after."""
    engagement = flag.engagement
    participant = engagement.participant
    context = {**_context(flag), "person": participant}
    if flag.kind == FlagKind.NO_COACH_SELECTED:
        return build_email(
            template="nudge_choose_coach",
            recipient=participant,
            context={**context, "sign_in_url": _absolute(reverse("accounts:login"))},
        )
    return build_email(template="nudge_book_session", recipient=participant, context=context)


def _coach_message(flag: NudgeFlag) -> EmailMultiAlternatives | None:
    """Ask the coach to log the session that happened; None when no coach is assigned."""
    engagement = flag.engagement
    coach = engagement.coach
    if coach is None:
        return None
    return build_email(
        template="nudge_log_session",
        recipient=coach.user,
        context={
            **_context(flag),
            "person": coach.user,
            "participant": engagement.participant,
            "log_url": _absolute(
                reverse("coach_engagement", kwargs={"public_id": engagement.public_id})
            ),
        },
    )


def _context(flag: NudgeFlag) -> dict[str, Any]:
    engagement = flag.engagement
    return {
        "flag": flag,
        "engagement": engagement,
        "program": engagement.program,
        "coach": engagement.coach,
    }


_BUILDERS: dict[Recipient, Callable[[NudgeFlag], EmailMultiAlternatives | None]] = {
    Recipient.PARTICIPANT: _participant_message,
    Recipient.COACH: _coach_message,
}


def _absolute(path: str) -> str:
    """An absolute link for an email: there is no request to build it from."""
    return f"{settings.SITE_URL}{path}"


def nudge_reminders_send(*, now: datetime) -> tuple[int, int]:
    """Queue every reminder still owed on open flags of programs with reminders on.

    Newly raised flags and earlier failures alike: one message per recipient per
    flag. Per batch of flags, the messages are queued for the email worker and
    the deliveries recorded in one transaction, so a flag says "notified" exactly
    when its message is in the queue (the worker retries failed sends). A message
    that cannot be built is not recorded and is tried again by the next run.
    Returns (queued, failed). Must run after the flags' transaction has committed.
    """
    pending = (
        _pending_flags()
        .select_related("engagement__participant", "engagement__coach__user", "engagement__program")
        .order_by("pk")
    )
    sent = failed = 0
    for flags in batched(pending.iterator(chunk_size=2000), RECORD_BATCH, strict=False):
        outgoing: list[tuple[EmailMultiAlternatives, str]] = []
        delivered: dict[Recipient, list[int]] = {recipient: [] for recipient in Recipient}
        complete: list[int] = []
        for flag in flags:
            ok = True
            for recipient, message in _safe_messages(flag):
                if message is None:
                    ok = False
                    failed += 1
                    continue
                outgoing.append((message, f"nudge_{flag.kind}_{recipient}"))
                delivered[recipient].append(flag.pk)
            if ok:
                complete.append(flag.pk)
        with transaction.atomic():
            email_enqueue_many(outgoing)
            _record_deliveries(delivered=delivered, complete=complete, now=now)
        sent += len(outgoing)
    return sent, failed


def _safe_messages(flag: NudgeFlag) -> list[tuple[Recipient, EmailMultiAlternatives | None]]:
    try:
        return list(_reminder_messages(flag))
    except Exception as exc:  # noqa: BLE001 - a broken template must not stop the others
        logger.warning("nudge email not built: flag=%s error=%s", flag.pk, type(exc).__name__)
        return [(Recipient.PARTICIPANT, None)]


def _record_deliveries(
    *, delivered: dict[Recipient, list[int]], complete: list[int], now: datetime
) -> None:
    for recipient, ids in delivered.items():
        for chunk in batched(ids, RECORD_BATCH, strict=False):
            NudgeFlag.objects.filter(pk__in=chunk).update(**{f"{recipient}_notified_at": now})
    for chunk in batched(complete, RECORD_BATCH, strict=False):
        NudgeFlag.objects.filter(pk__in=chunk).update(notified_at=now)
