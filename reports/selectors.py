"""Program reports (staff and sponsor): figures computed in a fixed number of queries.

Every figure is an aggregate (COUNT, AVG, PERCENTILE_CONT) over the program's
rows, so the number of queries does not grow with the number of engagements:
3 queries for the figures (engagements, sessions, open flags), 1 for the weekly
chart, and on SQLite 1 more for the median (it has no PERCENTILE_CONT).
Staff add 2 (coach utilisation, closing-survey texts). Sponsors see the
feedback figures last released to them (read with the program, no query) and,
where their organization allows it, one page of per-participant progress (1
query). Notes are never selected.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from django.db import connection
from django.db.models import (
    Aggregate,
    Avg,
    Count,
    DurationField,
    F,
    Func,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    Window,
)
from django.db.models.functions import Coalesce, TruncWeek
from django.shortcuts import get_object_or_404
from django.utils import timezone

from accounts.models import User
from coaches.models import CoachProfile
from engagements.models import (
    ACTIVE_STATUSES,
    CoachingSession,
    Engagement,
    Program,
    Status,
    held,
    held_count,
    session_counted,
)
from feedback.models import ClosingSurvey, SessionRating
from feedback.selectors import with_released_feedback
from nudges.models import FlagKind, NudgeFlag

# The chart shows at most this many weeks (the most recent ones).
CHART_MAX_WEEKS = 52
# Staff read the most recent closing-survey texts on the page.
SURVEY_TEXTS_SHOWN = 50
# Participants per page of a sponsor's progress list (where the organization allows it).
PROGRESS_PAGE_SIZE = 50


class Median(Aggregate):
    """PostgreSQL's PERCENTILE_CONT(0.5); NULLs are ignored as by every aggregate."""

    function = "PERCENTILE_CONT"
    name = "Median"
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY %(expressions)s)%(filter)s"
    arity = 1


def _pct(share: float | None) -> float | None:
    return None if share is None else share * 100


@dataclass(frozen=True)
class WeekBar:
    week: date
    held: int


@dataclass(frozen=True)
class CoachLine:
    name: str
    capacity: int
    active: int
    in_program: int
    rating_avg: float | None
    rating_count: int

    @property
    def utilisation(self) -> float | None:
        """Active engagements across all programs as a share of capacity."""
        return self.active / self.capacity if self.capacity else None

    @property
    def utilisation_pct(self) -> float | None:
        return _pct(self.utilisation)


@dataclass(frozen=True)
class ParticipantLine:
    name: str
    status: str
    status_label: str
    sessions_held: int


@dataclass
class ProgramReport:
    program: Program
    by_status: list[tuple[str, str, int]]
    total: int
    not_cancelled: int
    matched: int
    median_days_to_selection: float | None
    sessions_held: int
    sessions_planned: int
    completed: int
    open_flags: list[tuple[str, str, int]]
    rating_avg: float | None
    rating_count: int
    survey_avg: float | None
    survey_count: int
    weeks: list[WeekBar]
    coaches: list[CoachLine] = field(default_factory=list)
    survey_texts: list[tuple[date, int, str]] = field(default_factory=list)
    # True when the feedback figures are the released ones (sponsors), not live (staff).
    feedback_released: bool = False

    @property
    def share_matched(self) -> float | None:
        """Participants who have had a coach, of all participants."""
        return self.matched / self.total if self.total else None

    @property
    def completion_rate(self) -> float | None:
        """Completed engagements, of the engagements that were not cancelled."""
        return self.completed / self.not_cancelled if self.not_cancelled else None

    @property
    def sessions_share(self) -> float | None:
        return self.sessions_held / self.sessions_planned if self.sessions_planned else None

    # Percentages (0-100) for display; None when there is nothing to divide by.
    @property
    def share_matched_pct(self) -> float | None:
        return _pct(self.share_matched)

    @property
    def completion_rate_pct(self) -> float | None:
        return _pct(self.completion_rate)

    @property
    def sessions_share_pct(self) -> float | None:
        return _pct(self.sessions_share)

    @property
    def open_flags_total(self) -> int:
        return sum(count for _, _, count in self.open_flags)


def program_report(*, program: Program, with_staff_detail: bool = False) -> ProgramReport:
    """Compute the report of one program, with live feedback figures; staff detail on request."""
    engagements = Engagement.objects.filter(program=program)
    figures = _engagement_figures(engagements)
    sessions = _session_figures(program)
    report = ProgramReport(
        program=program,
        by_status=[(s.value, s.label, figures[f"n_{s.value}"]) for s in Status],
        total=figures["total"],
        not_cancelled=figures["total"] - figures[f"n_{Status.CANCELLED}"],
        matched=figures["matched"],
        median_days_to_selection=_median_days(engagements, figures),
        sessions_held=sessions["held"],
        sessions_planned=(figures["total"] - figures[f"n_{Status.CANCELLED}"])
        * program.sessions_per_engagement,
        completed=figures[f"n_{Status.COMPLETED}"],
        open_flags=_open_flags(program),
        rating_avg=sessions["rating_avg"],
        rating_count=sessions["rating_count"],
        survey_avg=figures["survey_avg"],
        survey_count=figures["survey_count"],
        weeks=_weeks(program),
    )
    if with_staff_detail:
        report.coaches = coach_utilisation(program=program)
        report.survey_texts = _survey_texts(program)
    return report


def sponsor_program_or_404(*, sponsor: User, public_id: object) -> Program:
    """One of the sponsor's programs, with its organization and released feedback, else 404."""
    programs = with_released_feedback(sponsor_programs(sponsor=sponsor))
    return get_object_or_404(programs.select_related("organization"), public_id=public_id)


def sponsor_report(*, program: Program) -> ProgramReport:
    """The report a sponsor reads: the program's figures, and released feedback only.

    `program` comes from sponsor_program_or_404, which read the released
    figures with it (feedback.selectors.with_released_feedback); the live
    averages never reach a sponsor's page, so two visits cannot be differenced
    into one answer (docs/architecture.md, "Private fields and group sizes").
    """
    report = program_report(program=program)
    report.rating_avg = program.rating_avg  # type: ignore[attr-defined]
    report.rating_count = program.rating_count  # type: ignore[attr-defined]
    report.survey_avg = program.survey_avg  # type: ignore[attr-defined]
    report.survey_count = program.survey_count  # type: ignore[attr-defined]
    report.feedback_released = True
    return report


def _engagement_figures(engagements: QuerySet[Engagement]) -> dict[str, Any]:
    """One query: counts by status, matched, closing-survey average (a 1:1 join)."""
    aggregates: dict[str, Any] = {f"n_{s.value}": Count("pk", filter=Q(status=s)) for s in Status}
    aggregates.update(
        total=Count("pk"),
        # coach_selected_at is stamped on selection and kept if the coach is
        # released later, so it marks "has had a coach".
        matched=Count("pk", filter=Q(coach_selected_at__isnull=False)),
        survey_avg=Avg("closing_survey__recommend_score"),
        survey_count=Count("closing_survey"),
    )
    if connection.vendor == "postgresql":
        aggregates["median"] = Median(
            F("coach_selected_at") - F("invited_at"), output_field=DurationField()
        )
    return engagements.aggregate(**aggregates)


def _median_days(engagements: QuerySet[Engagement], figures: dict[str, Any]) -> float | None:
    """Median days from invitation to coach selection.

    PostgreSQL computes it in the figures query; elsewhere one more query
    reads the one or two middle values (ORDER BY ... OFFSET n/2).
    """
    if "median" in figures:
        median = figures["median"]
        return None if median is None else median.total_seconds() / 86400
    n = figures["matched"]
    if not n:
        return None
    middle = list(
        engagements.filter(coach_selected_at__isnull=False)
        .annotate(wait=F("coach_selected_at") - F("invited_at"))
        .order_by("wait")
        .values_list("wait", flat=True)[(n - 1) // 2 : n // 2 + 1]
    )
    return sum(w.total_seconds() for w in middle) / len(middle) / 86400


def _session_figures(program: Program) -> dict[str, Any]:
    """One query: held sessions of live engagements, and the session-rating average."""
    # Voided sessions count nowhere: not held, and their ratings not averaged.
    return (
        CoachingSession.objects.counted()
        .filter(engagement__program=program)
        .aggregate(
            held=Count(
                "pk",
                filter=held() & ~Q(engagement__status=Status.CANCELLED),
            ),
            rating_avg=Avg("rating__score"),
            rating_count=Count("rating"),
        )
    )


def _open_flags(program: Program) -> list[tuple[str, str, int]]:
    """One query: open flags (not resolved) by kind, every kind listed."""
    counts = dict(
        NudgeFlag.objects.filter(engagement__program=program, resolved_at__isnull=True)
        .values_list("kind")
        .annotate(n=Count("pk"))
        .order_by()
    )
    return [(kind.value, kind.label, counts.get(kind.value, 0)) for kind in FlagKind]


def chart_weeks(program: Program, today: date) -> tuple[date, date]:
    """The Mondays of the first and last week the chart shows."""
    first = program.starts_on - timedelta(days=program.starts_on.weekday())
    end = min(today, program.ends_on)
    last = end - timedelta(days=end.weekday())
    if last < first:
        last = first
    earliest = last - timedelta(weeks=CHART_MAX_WEEKS - 1)
    return max(first, earliest), last


def _weeks(program: Program) -> list[WeekBar]:
    """One query: held sessions per week, with empty weeks filled in."""
    first, last = chart_weeks(program, timezone.localdate())
    counts = dict(
        CoachingSession.objects.filter(
            held(),
            engagement__program=program,
            held_on__gte=first,
            held_on__lt=last + timedelta(weeks=1),
        )
        .annotate(week=TruncWeek("held_on"))
        .values_list("week")
        .annotate(n=Count("pk"))
        .order_by()
    )
    bars = []
    week = first
    while week <= last:
        bars.append(WeekBar(week=week, held=counts.get(week, 0)))
        week += timedelta(weeks=1)
    return bars


def coach_utilisation(*, program: Program) -> list[CoachLine]:
    """One query: each coach of the program (pool or engaged in it) with load and ratings.

    Active engagements count across all programs, as capacity does; ratings
    are averaged over this program's sessions only.
    """
    ratings = SessionRating.objects.filter(
        session_counted("session__"),
        session__coach=OuterRef("pk"),
        session__engagement__program=program,
    )
    engagements = Engagement.objects.filter(coach=OuterRef("pk"))
    pool = Program.coaches.through.objects.filter(program=program).values("coachprofile")
    engaged = Engagement.objects.filter(program=program, coach__isnull=False).values("coach")
    # Correlated subqueries rather than joins: a join of engagements and
    # ratings would multiply rows and make the GROUP BY cost grow with them.
    coaches = (
        CoachProfile.objects.filter(Q(pk__in=pool) | Q(pk__in=engaged))
        .select_related("user")
        .annotate(
            active=_count(engagements.filter(status__in=ACTIVE_STATUSES)),
            in_program=_count(engagements.filter(program=program)),
            rating_avg=Subquery(
                ratings.order_by().values("session__coach").annotate(a=Avg("score")).values("a")
            ),
            rating_count=_count(ratings),
        )
        .order_by("user__full_name", "pk")
    )
    return [
        CoachLine(
            name=c.user.full_name,
            capacity=c.capacity,
            active=c.active,
            in_program=c.in_program,
            rating_avg=None if c.rating_avg is None else float(c.rating_avg),
            rating_count=c.rating_count,
        )
        for c in coaches
    ]


def _count(queryset: QuerySet[Any]) -> Coalesce:
    """COUNT(*) of a correlated subquery, 0 when it has no rows."""
    # COUNT as a plain function: no GROUP BY, so the subquery yields one row.
    counted = queryset.order_by().annotate(n=Func(F("pk"), function="COUNT")).values("n")
    return Coalesce(Subquery(counted), Value(0), output_field=IntegerField())


def _survey_texts(program: Program) -> list[tuple[date, int, str]]:
    """One query: the most recent non-empty "what changed" answers (staff only)."""
    rows = (
        ClosingSurvey.objects.filter(engagement__program=program)
        .exclude(what_changed="")
        .order_by("-created_at", "-pk")
        .values_list("created_at", "recommend_score", "what_changed")[:SURVEY_TEXTS_SHOWN]
    )
    return [(timezone.localdate(created), score, text) for created, score, text in rows]


@dataclass(frozen=True)
class ProgressPage:
    """One page of participants' progress, with the number that match the search."""

    lines: list[ParticipantLine]
    number: int
    matching: int
    search: str
    per_page: int = PROGRESS_PAGE_SIZE

    @property
    def pages(self) -> int:
        return max(1, -(-self.matching // self.per_page))

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.pages


def participant_progress(*, program: Program, search: str = "", page: int = 1) -> ProgressPage:
    """One query: a page of participants (by name) with status and held sessions.

    For sponsors of organizations that share individual progress. The number
    of matching participants comes with the rows (COUNT(*) OVER ()), so a page
    costs one query however long the list; a page past the end has no lines.
    """
    engagements = Engagement.objects.filter(program=program)
    if search:
        engagements = engagements.filter(participant__full_name__icontains=search)
    start = (page - 1) * PROGRESS_PAGE_SIZE
    rows = list(
        engagements.annotate(
            held=held_count(),
            matching=Window(Count("pk")),
        )
        .order_by("participant__full_name", "pk")
        .values_list("participant__full_name", "status", "held", "matching")[
            start : start + PROGRESS_PAGE_SIZE
        ]
    )
    return ProgressPage(
        lines=[
            ParticipantLine(
                name=name, status=status, status_label=Status(status).label, sessions_held=held
            )
            for name, status, held, _ in rows
        ],
        number=page,
        matching=rows[0][3] if rows else 0,
        search=search,
    )


def sponsor_programs(*, sponsor: User) -> QuerySet[Program]:
    """The programs of the organizations this sponsor belongs to."""
    return Program.objects.filter(organization__sponsors=sponsor).distinct()


def sponsor_programs_overview(*, sponsor: User) -> QuerySet[Program]:
    """The sponsor's programs with participant counts and released averages, in one query."""
    return (
        with_released_feedback(sponsor_programs(sponsor=sponsor))
        .select_related("organization")
        .annotate(participants=_participant_count())
    )


def _participant_count() -> Coalesce:
    participants = (
        Engagement.objects.filter(program=OuterRef("pk"))
        .order_by()
        .values("program")
        .annotate(c=Count("pk"))
        .values("c")
    )
    return Coalesce(Subquery(participants), Value(0), output_field=IntegerField())


def programs_overview(*, programs: QuerySet[Program]) -> list[Program]:
    """Programs with participant counts and live program-level averages, in two queries (staff).

    The session-rating averages come from one GROUP BY over the ratings of these
    programs: a correlated subquery joined every rating again for each program
    (issue 16). Each program gets `participants`, `rating_avg` and `survey_avg`.
    """
    survey = (
        ClosingSurvey.objects.filter(engagement__program=OuterRef("pk"))
        .order_by()
        .values("engagement__program")
        .annotate(a=Avg("recommend_score"))
        .values("a")
    )
    rows: list[Program] = list(
        programs.select_related("organization").annotate(
            participants=_participant_count(),
            survey_avg=Subquery(survey),
        )
    )
    averages = dict(
        SessionRating.objects.filter(
            session_counted("session__"), session__engagement__program__in=programs
        )
        .values_list("session__engagement__program")
        .annotate(a=Avg("score"))
        .order_by()
    )
    for program in rows:
        setattr(program, "rating_avg", averages.get(program.pk))  # noqa: B010 - not a field
    return rows
