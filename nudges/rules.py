"""The nudge rules: when each kind of flag holds, and who is reminded of it.

docs/architecture.md, "Rules and where they live". The run (services.py) raises
and resolves flags with flag_conditions; the reminders (reminders.py) and the
dry run's message count both read RECIPIENTS. The thresholds are per program
(Program.no_coach_selected_days and its siblings, in days).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from functools import reduce
from operator import or_
from typing import Any

from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from engagements.models import Program, Status
from engagements.services import LOGGABLE_STATUSES
from nudges.models import FlagKind
from scheduling.models import LIVE_STATUSES, ScheduledSession


class Recipient(StrEnum):
    """Who a reminder goes to; NudgeFlag has a `<recipient>_notified_at` stamp for each."""

    PARTICIPANT = "participant"
    COACH = "coach"


# Who is emailed about a newly raised flag of each kind, once per flag and person.
# Coaches are reminded too: bookings happen on their own scheduling pages, so the
# session log is the only record that a session took place. behind_schedule
# emails nobody; it is for the ops team, on the dashboard.
RECIPIENTS: Mapping[FlagKind, tuple[Recipient, ...]] = {
    FlagKind.NO_COACH_SELECTED: (Recipient.PARTICIPANT,),
    FlagKind.NO_FIRST_SESSION: (Recipient.PARTICIPANT, Recipient.COACH),
    FlagKind.STALLED: (Recipient.PARTICIPANT, Recipient.COACH),
    FlagKind.BEHIND_SCHEDULE: (),
    FlagKind.UNCONFIRMED_SESSION: (Recipient.COACH,),
}

# A booked session that ended more than this many calendar days ago and is still not
# confirmed raises unconfirmed_session (the same for every program).
UNCONFIRMED_SESSION_DAYS = 2

# Invited engagements count as behind schedule: they have every session left, and
# the dashboard should say how many people will not finish, whatever the reason.
BEHIND_SCHEDULE_STATUSES = (
    Status.INVITED,
    Status.COACH_SELECTED,
    Status.IN_PROGRESS,
    Status.ON_HOLD,
)


def reminder_kinds() -> list[FlagKind]:
    """The kinds whose flags email somebody, in RECIPIENTS order."""
    return [kind for kind, recipients in RECIPIENTS.items() if recipients]


def kinds_reminding(recipient: Recipient) -> list[FlagKind]:
    """The kinds whose flags email `recipient`."""
    return [kind for kind, recipients in RECIPIENTS.items() if recipient in recipients]


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=timezone.get_current_timezone())


def _booked(prefix: str, **lookups: Any) -> Exists:
    """The engagement (reached through `prefix`) has a live booking matching `lookups`."""
    return Exists(
        ScheduledSession.objects.filter(
            engagement=OuterRef(f"{prefix}pk"), status__in=LIVE_STATUSES, **lookups
        )
    )


def flag_conditions(*, program: Program, today: date, prefix: str = "") -> dict[FlagKind, Q]:
    """The rules as conditions on an engagement (reached through `prefix`), by kind.

    Days are calendar days: with a threshold of 7, something dated 7 days before
    `today` does not raise and 8 days before does ("more than 7 days ago").
    behind_schedule holds when the program ends within its threshold (ends_on is at
    most N days after today, or already past) and sessions remain; the kind is
    left out altogether on days when it cannot hold for the program.
    A session booked from today on is movement: no_first_session and stalled do
    not hold while one is coming. unconfirmed_session holds while a booking of the
    engagement's coach ended more than UNCONFIRMED_SESSION_DAYS ago unconfirmed, in
    an engagement where a session can be logged.
    """

    def rule(**lookups: Any) -> Q:
        return Q(**{f"{prefix}{name}": value for name, value in lookups.items()})

    coming = _booked(prefix, starts_at__gte=_day_start(today))
    unconfirmed = _booked(
        prefix,
        coach=OuterRef(f"{prefix}coach"),
        confirmed_session__isnull=True,
        ends_at__lt=_day_start(today - timedelta(days=UNCONFIRMED_SESSION_DAYS)),
    )

    conditions = {
        FlagKind.NO_COACH_SELECTED: rule(
            status=Status.INVITED,
            invited_at__lt=_day_start(today - timedelta(days=program.no_coach_selected_days)),
        ),
        FlagKind.NO_FIRST_SESSION: rule(
            status=Status.COACH_SELECTED,
            coach_selected_at__lt=_day_start(today - timedelta(days=program.no_first_session_days)),
            sessions_logged=0,
        )
        & ~Q(coming),
        FlagKind.STALLED: rule(
            status=Status.IN_PROGRESS,
            last_session_on__lt=today - timedelta(days=program.stalled_days),
        )
        & ~Q(coming),
        FlagKind.UNCONFIRMED_SESSION: rule(status__in=LOGGABLE_STATUSES) & Q(unconfirmed),
    }
    if (program.ends_on - today).days <= program.behind_schedule_days:
        conditions[FlagKind.BEHIND_SCHEDULE] = rule(
            status__in=BEHIND_SCHEDULE_STATUSES,
            sessions_logged__lt=program.sessions_per_engagement,
        )
    return conditions


def flag_still_holds(*, program: Program, today: date) -> Q:
    """A condition on flags: the flag's own rule holds for its engagement (Q() if none can)."""
    conditions = flag_conditions(program=program, today=today, prefix="engagement__")
    return reduce(or_, (Q(kind=kind) & cond for kind, cond in conditions.items()), Q())
