"""A hand-built program whose report figures are known in advance.

Time is frozen on Wednesday 18 March 2026, 12:00 UTC. The program runs from
Monday 2 February 2026, four sessions per participant. Every session note
carries NOTES_MARKER, which must never appear on a page or in an export.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from accounts.models import Role, User
from coaches.models import CoachProfile
from engagements.models import CoachingSession, Engagement, Outcome, Program, Status
from feedback.services import closing_survey_submit, session_rate
from nudges.models import FlagKind, NudgeFlag
from tests.factories import (
    CoachFactory,
    EngagementFactory,
    OrganizationFactory,
    ProgramFactory,
    SessionFactory,
    UserFactory,
)

NOW = datetime(2026, 3, 18, 12, 0, tzinfo=UTC)
NOTES_MARKER = "NOTES-MARKER-7f3a"
SURVEY_TEXT = "I delegate the weekly report now and sleep better."


@dataclass
class ReportData:
    program: Program
    other_program: Program
    sponsor: User
    other_sponsor: User
    staff: User
    coaches: dict[str, CoachProfile]
    engagements: dict[str, Engagement]


def _engagement(program: Program, name: str, *, invited_days: int, **kw: Any) -> Engagement:
    participant = UserFactory(role=Role.PARTICIPANT, full_name=name)
    engagement = EngagementFactory(program=program, participant=participant)
    Engagement.objects.filter(pk=engagement.pk).update(
        invited_at=NOW - timedelta(days=invited_days)
    )
    engagement.refresh_from_db()
    return engagement


def _select(engagement: Engagement, coach: Any, *, selected_days: int, then: list[str]) -> None:
    engagement.transition_to(Status.COACH_SELECTED, changes={"coach": coach})
    for status in then:
        engagement.transition_to(status)
    Engagement.objects.filter(pk=engagement.pk).update(
        coach_selected_at=NOW - timedelta(days=selected_days)
    )


def _sessions(engagement: Engagement, coach: Any, plan: list[tuple[date, str]]) -> list[Any]:
    sessions = [
        SessionFactory(
            engagement=engagement,
            coach=coach,
            number=n,
            held_on=held_on,
            outcome=outcome,
            notes=f"{NOTES_MARKER} session {n}",
        )
        for n, (held_on, outcome) in enumerate(plan, start=1)
    ]
    Engagement.objects.filter(pk=engagement.pk).update(
        sessions_logged=len(plan), last_session_on=plan[-1][0]
    )
    return sessions


@pytest.fixture
def now(time_machine: Any) -> datetime:
    time_machine.move_to(NOW, tick=False)
    return NOW


@pytest.fixture
def report_data(db: None, now: datetime) -> ReportData:
    """Seven participants in one program (and one in another program).

    Five session ratings (released to sponsors: a group of five) and one
    closing survey (not released: below the group size).

    waits to coach choice (days): B 2, C 4, D 6, F 8, G 10 -> median 6
    held sessions: C 2 (+1 no-show), D 4, F 1, G 1 (cancelled, not counted)
    """
    org = OrganizationFactory(name="Northwind")
    program = ProgramFactory(
        organization=org,
        name="Leaders 2026",
        starts_on=date(2026, 2, 2),
        ends_on=date(2026, 7, 31),
        sessions_per_engagement=4,
    )
    other_org = OrganizationFactory(name="Contoso")
    other_program = ProgramFactory(organization=other_org, name="Contoso Coaching")
    sponsor = UserFactory(role=Role.SPONSOR, full_name="Sam Sponsor")
    org.sponsors.add(sponsor)
    other_sponsor = UserFactory(role=Role.SPONSOR, full_name="Olga Othersponsor")
    other_org.sponsors.add(other_sponsor)
    staff = UserFactory(role=Role.STAFF, full_name="Stella Staff")

    x = CoachFactory(capacity=4, user__full_name="Xavier Coach")
    y = CoachFactory(capacity=2, user__full_name="Yvonne Coach")
    z = CoachFactory(capacity=5, user__full_name="Zoe Coach")
    program.coaches.set([x, y, z])

    e = {}
    e["A"] = _engagement(program, "Ana Invited", invited_days=10)
    e["B"] = _engagement(program, "Ben Selected", invited_days=20)
    _select(e["B"], x, selected_days=18, then=[])
    e["C"] = _engagement(program, "Cleo Progress", invited_days=30)
    _select(e["C"], x, selected_days=26, then=[Status.IN_PROGRESS])
    c_sessions = _sessions(
        e["C"],
        x,
        [
            (date(2026, 2, 16), Outcome.HELD),
            (date(2026, 2, 23), Outcome.NO_SHOW),
            (date(2026, 3, 2), Outcome.HELD),
        ],
    )
    e["D"] = _engagement(program, "Dan Done", invited_days=40)
    _select(e["D"], x, selected_days=34, then=[Status.IN_PROGRESS, Status.COMPLETED])
    d_sessions = _sessions(
        e["D"],
        x,
        [
            (date(2026, 2, 9), Outcome.HELD),
            (date(2026, 2, 16), Outcome.HELD),
            (date(2026, 3, 2), Outcome.HELD),
            (date(2026, 3, 9), Outcome.HELD),
        ],
    )
    e["E"] = _engagement(program, "Eve Cancelled", invited_days=12)
    e["E"].transition_to(Status.CANCELLED)
    e["F"] = _engagement(program, "Fay Hold", invited_days=45)
    _select(e["F"], x, selected_days=37, then=[Status.IN_PROGRESS, Status.ON_HOLD])
    _sessions(e["F"], x, [(date(2026, 2, 9), Outcome.HELD)])
    e["G"] = _engagement(program, "Gus Gone", invited_days=50)
    _select(e["G"], y, selected_days=40, then=[Status.CANCELLED])
    _sessions(e["G"], y, [(date(2026, 2, 16), Outcome.HELD)])

    # Another program: must not count in this one's figures, but Yvonne's
    # active engagement there counts against her capacity.
    e["H"] = _engagement(other_program, "Hal Elsewhere", invited_days=5)
    _select(e["H"], y, selected_days=1, then=[Status.IN_PROGRESS])
    _sessions(e["H"], y, [(date(2026, 3, 10), Outcome.HELD)])
    NudgeFlag.objects.create(engagement=e["H"], kind=FlagKind.STALLED)

    # Answers come through the services, as participants give them, so that the
    # figures released to sponsors and coaches are what they would be.
    for session, score in zip(d_sessions, [5, 4, 4, 3], strict=True):
        session_rate(participant=e["D"].participant, session=session, score=score)
    session_rate(participant=e["C"].participant, session=c_sessions[0], score=2)
    closing_survey_submit(
        participant=e["D"].participant,
        engagement=e["D"],
        recommend_score=9,
        what_changed=SURVEY_TEXT,
    )

    NudgeFlag.objects.create(engagement=e["A"], kind=FlagKind.NO_COACH_SELECTED)
    NudgeFlag.objects.create(engagement=e["B"], kind=FlagKind.NO_FIRST_SESSION)
    NudgeFlag.objects.create(engagement=e["C"], kind=FlagKind.STALLED)
    NudgeFlag.objects.create(engagement=e["F"], kind=FlagKind.STALLED, resolved_at=NOW)
    assert CoachingSession.objects.filter(notes__contains=NOTES_MARKER).count() == 10

    return ReportData(
        program=program,
        other_program=other_program,
        sponsor=sponsor,
        other_sponsor=other_sponsor,
        staff=staff,
        coaches={"X": x, "Y": y, "Z": z},
        engagements=e,
    )
