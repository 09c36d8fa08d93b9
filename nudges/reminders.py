"""Reminder emails about open flags: one digest per person per run, queued for the
worker, with a delivery record per flag and recipient.

Who is emailed about which kind is rules.RECIPIENTS (docs/architecture.md, "Rules
and where they live"); the run and the dry run's count both read it. After the run
has committed its flags, every reminder still owed is gathered by person: a coach
with three stuck engagements gets one email listing the three, each with its link.
Each flag stamps `<recipient>_notified_at` when that person's digest is queued and
`notified_at` once every recipient's is, in the transaction that queues the
digests for the email worker (which retries a failed send). A digest that cannot
be built stamps nothing and is tried again by the next run; nobody gets a flag's
reminder twice.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from functools import reduce
from operator import or_
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import Case, F, Q, QuerySet, Value, When
from django.urls import reverse

from accounts.emails import build_email, email_enqueue_many
from accounts.models import User
from engagements.models import Engagement, Program
from nudges.models import FlagKind, NudgeFlag
from nudges.rules import RECIPIENTS, Recipient, flag_still_holds, reminder_kinds

logger = logging.getLogger(__name__)

# Flags per transaction: a batch of whole digests queued and recorded together.
RECORD_BATCH = 5000

# The person each recipient is, seen from a flag.
PERSON: Mapping[Recipient, str] = {
    Recipient.PARTICIPANT: "engagement__participant",
    Recipient.COACH: "engagement__coach__user",
}


def _pending_flags() -> QuerySet[NudgeFlag]:
    """Open flags of programs with reminders on that still owe somebody a message."""
    return NudgeFlag.objects.filter(
        resolved_at__isnull=True,
        notified_at__isnull=True,
        kind__in=reminder_kinds(),
        engagement__program__reminders_enabled=True,
    )


def _owes(recipient: Recipient) -> Q:
    """A flag owes `recipient` a reminder not yet queued, to a person who takes reminders.

    A person who turned reminders off (User.reminders_enabled) is skipped and stays
    owed, as with a program's switch: turned back on, the next run reminds them of
    what is still open.
    """
    kinds = [kind for kind, recipients in RECIPIENTS.items() if recipient in recipients]
    return Q(
        kind__in=kinds,
        **{
            f"{recipient}_notified_at__isnull": True,
            f"{PERSON[recipient]}__reminders_enabled": True,
        },
    )


def reminders_people(
    *, program: Program, today: date, candidates: Mapping[FlagKind, QuerySet[Engagement]]
) -> set[int]:
    """The people (user ids) a run as of `today` would remind about this program.

    For the dry run: the recipients of the flags it would raise (`candidates`, the
    engagements each kind would flag) and those still owed a reminder on open flags
    that the run would keep open. One digest goes to each person across programs,
    so the caller counts the union.
    """
    if not program.reminders_enabled:
        return set()
    people: set[int] = set()
    for kind, engagements in candidates.items():
        for recipient in RECIPIENTS[kind]:
            path = PERSON[recipient].removeprefix("engagement__")
            people.update(
                engagements.filter(**{f"{path}__reminders_enabled": True}).values_list(
                    path, flat=True
                )
            )
    still_holds = flag_still_holds(program=program, today=today)
    if still_holds:
        pending = _pending_flags().filter(still_holds, engagement__program=program)
        for recipient in Recipient:
            people.update(
                pending.filter(_owes(recipient)).values_list(PERSON[recipient], flat=True)
            )
    return people


# A digest's address: the person (a user id) and the role they are reminded in.
Digest = tuple[int, Recipient]


def _owed_by_digest() -> tuple[dict[Digest, list[int]], dict[int, set[Recipient]]]:
    """Every reminder to send now, as flag ids grouped by digest, in one query; and
    for each of those flags, every recipient it still owes (those who turned
    reminders off included), so it is marked notified only when none is left.

    Ids only, so a run owing tens of thousands of reminders holds little in memory;
    the flags themselves are loaded a batch at a time.
    """
    recipients = list(Recipient)
    rows = (
        _pending_flags()
        .filter(reduce(or_, map(_owes, recipients)))
        .values_list(
            "pk",
            "kind",
            *(f"{r}_notified_at" for r in recipients),
            *(f"{PERSON[r]}_id" for r in recipients),
            *(f"{PERSON[r]}__reminders_enabled" for r in recipients),
        )
        .order_by("pk")
    )
    owed: dict[Digest, list[int]] = defaultdict(list)
    remaining: dict[int, set[Recipient]] = {}
    n = len(recipients)
    for flag_id, kind, *columns in rows.iterator(chunk_size=5000):
        # Per recipient: (recipient, stamp, person id, takes reminders).
        stamps, people, takes = columns[:n], columns[n : 2 * n], columns[2 * n :]
        per_recipient = zip(recipients, stamps, people, takes, strict=True)
        remaining[flag_id] = set()
        for recipient, stamp, person, enabled in per_recipient:
            if stamp is not None or person is None or recipient not in RECIPIENTS[FlagKind(kind)]:
                continue
            remaining[flag_id].add(recipient)
            if enabled:
                owed[(person, recipient)].append(flag_id)
    return owed, remaining


def _batches(owed: dict[Digest, list[int]]) -> Iterator[dict[Digest, list[int]]]:
    """Whole digests, RECORD_BATCH flags or a little more at a time, in a stable order."""
    batch: dict[Digest, list[int]] = {}
    size = 0
    for digest in sorted(owed):
        batch[digest] = owed[digest]
        size += len(owed[digest])
        if size >= RECORD_BATCH:
            yield batch
            batch, size = {}, 0
    if batch:
        yield batch


@dataclass(frozen=True)
class ReminderItem:
    """One stuck engagement in a digest, with the link that unsticks it."""

    flag: NudgeFlag
    engagement: Engagement
    link: str

    @property
    def kind(self) -> str:
        return self.flag.kind


def _absolute(path: str) -> str:
    """An absolute link for an email: there is no request to build it from."""
    return f"{settings.SITE_URL}{path}"


def _item(flag: NudgeFlag, recipient: Recipient) -> ReminderItem:
    """The participant is sent to sign in (to choose a coach) or to the coach's
    booking page; the coach to the engagement's page, to log the session."""
    engagement = flag.engagement
    if recipient == Recipient.COACH and flag.kind == FlagKind.UNCONFIRMED_SESSION:
        link = _absolute(reverse("coach_workspace"))  # where the one-click buttons are
    elif recipient == Recipient.COACH:
        link = _absolute(reverse("coach_engagement", kwargs={"public_id": engagement.public_id}))
    elif flag.kind == FlagKind.NO_COACH_SELECTED:
        link = _absolute(reverse("accounts:login"))
    else:
        link = engagement.coach.booking_link_for(engagement.participant) if engagement.coach else ""
    return ReminderItem(flag=flag, engagement=engagement, link=link)


def _digest(person: User, recipient: Recipient, flags: list[NudgeFlag]) -> EmailMultiAlternatives:
    """One email to `person` listing every stuck engagement they can act on."""
    items = sorted(
        (_item(flag, recipient) for flag in flags),
        key=lambda item: (
            item.engagement.program.name,
            item.engagement.participant.full_name,
            item.flag.pk,
        ),
    )
    return build_email(
        template=f"nudge_digest_{recipient}",
        recipient=person,
        context={"items": items},
        reminder=True,
    )


def _person(flag: NudgeFlag, recipient: Recipient) -> User:
    engagement = flag.engagement
    if recipient == Recipient.PARTICIPANT:
        return engagement.participant
    if engagement.coach is None:  # released since the reminders were gathered
        raise LookupError("the engagement has no coach any more")
    return engagement.coach.user


def nudge_reminders_send(*, now: datetime) -> tuple[int, int]:
    """Queue one digest per person owed reminders on open flags of programs with reminders on.

    Newly raised flags and earlier failures alike. Per batch of people, the digests
    are queued for the email worker and the deliveries recorded in one transaction,
    so a flag says "notified" for a recipient exactly when that person's digest is
    in the queue (the worker retries failed sends). A digest that cannot be built
    is not recorded and is tried again by the next run. Returns (queued, failed),
    counted in digests. Must run after the flags' transaction has committed.
    """
    # A flag is marked notified in the batch that queues its last reminder (its two
    # recipients may be in different batches).
    owed, remaining = _owed_by_digest()
    sent = failed = 0
    for batch in _batches(owed):
        flags = (
            NudgeFlag.objects.select_related(
                "engagement__participant", "engagement__coach__user", "engagement__program"
            )
            .filter(pk__in=[pk for flag_ids in batch.values() for pk in flag_ids])
            .in_bulk()
        )
        outgoing: list[tuple[EmailMultiAlternatives, str]] = []
        delivered: dict[Recipient, list[int]] = {recipient: [] for recipient in Recipient}
        complete: list[int] = []
        for (person_id, recipient), flag_ids in batch.items():
            mine = [flags[pk] for pk in flag_ids if pk in flags]  # a flag may be gone by now
            if not mine:
                continue
            try:
                message = _digest(_person(mine[0], recipient), recipient, mine)
            except Exception as exc:  # noqa: BLE001 - a broken digest must not stop the others
                logger.warning(
                    "nudge digest not built: user=%s flags=%d error=%s",
                    person_id,
                    len(mine),
                    type(exc).__name__,
                )
                failed += 1
                continue
            outgoing.append((message, f"nudge_digest_{recipient}"))
            for flag in mine:
                delivered[recipient].append(flag.pk)
                remaining[flag.pk].discard(recipient)
                if not remaining[flag.pk]:
                    complete.append(flag.pk)
        with transaction.atomic():
            email_enqueue_many(outgoing)
            _record_deliveries(delivered=delivered, complete=complete, now=now)
        sent += len(outgoing)
    return sent, failed


def _record_deliveries(
    *, delivered: dict[Recipient, list[int]], complete: list[int], now: datetime
) -> None:
    """Stamp a batch's deliveries in one UPDATE: per recipient, and `notified_at` for
    the flags whose every reminder is now queued."""
    stamps: dict[str, list[int]] = {f"{r}_notified_at": ids for r, ids in delivered.items()}
    stamps["notified_at"] = complete
    touched = {pk for ids in stamps.values() for pk in ids}
    if not touched:
        return
    changes: dict[str, Any] = {
        column: Case(When(pk__in=ids, then=Value(now)), default=F(column))
        for column, ids in stamps.items()
        if ids
    }
    NudgeFlag.objects.filter(pk__in=touched).update(**changes)
