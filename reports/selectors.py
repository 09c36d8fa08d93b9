"""Program reports (staff and sponsor): figures computed in a fixed number of queries,
and kept in the shared cache until the program's rows change.

Every figure is an aggregate (COUNT, SUM, PERCENTILE_CONT) over the program's own
rows, so the number of queries does not grow with the number of engagements. The
figures of a program are cached under its version (config/cached.py), which every
write to its engagements, sessions or answers replaces after commit
(engagements.models.program_rows_changed): a page never shows figures older than
the last committed write, and a page of 50 programs reads their figures in two
round trips to the cache. Computing them takes 1 query for any number of
programs (engagements and sessions, as JSON objects per program), 1 for the
weekly chart, on SQLite 1 more for the median (it has no PERCENTILE_CONT, and it
is not cached). Open flags are read live along their partial index (1 query).
Staff add the closing-survey texts and the coaches' part in the program (pool,
engagements, ratings; cached, 1 query each) and the coaches' load (live: it spans
programs, 1 query by pk). Sponsors see the feedback figures last released to them (read with the
program, no query) and, where their organization allows it, one page of
per-participant progress (1 query). Notes are never selected.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db import connection
from django.db.models import (
    Aggregate,
    Count,
    F,
    Func,
    IntegerField,
    JSONField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    Window,
)
from django.db.models.functions import Coalesce, Extract, JSONObject, TruncWeek
from django.shortcuts import get_object_or_404
from django.utils import timezone

from accounts.models import User
from coaches.models import CoachProfile
from config.cached import cached_many, versions
from engagements.models import (
    ACTIVE_STATUSES,
    CoachingSession,
    Engagement,
    Program,
    Status,
    held,
    held_count,
    program_scope,
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

    # The table's cells as the page shows them, formatted here once: a report lists
    # every coach of the pool, and template filters on each cell cost more than the
    # rest of the page (intcomma, floatformat; the same rounding, half up).
    @property
    def load_text(self) -> str:
        return f"{self.active:,} / {self.capacity:,}"

    @property
    def utilisation_text(self) -> str:
        pct = self.utilisation_pct
        return "–" if pct is None else f"{half_up(pct, 0)}%"

    @property
    def in_program_text(self) -> str:
        return f"{self.in_program:,}"

    @property
    def rating_text(self) -> str:
        if self.rating_avg is None:
            return "–"
        return f"{half_up(self.rating_avg, 1)} ({self.rating_count:,})"


def half_up(value: float, places: int) -> str:
    """`value` to `places` decimals, rounded half up as the floatformat filter does."""
    return str(Decimal(repr(value)).quantize(Decimal(1).scaleb(-places), ROUND_HALF_UP))


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


# How long a program's figures are kept: a safety net only, since every write to the
# program's rows moves its version on (config/cached.py).
FIGURES_CACHE_SECONDS = 24 * 60 * 60


@dataclass(frozen=True)
class ProgramFigures:
    """A program's figures from its own rows (engagements, sessions, answers): what the
    lists and the report's header read. Cached per program version."""

    by_status: dict[str, int]
    total: int
    matched: int
    # Seconds; None when nobody has chosen, or not computed (SQLite: the report asks).
    median_wait: float | None
    survey_sum: int
    survey_count: int
    sessions_held: int
    rating_sum: int
    rating_count: int

    @property
    def rating_avg(self) -> float | None:
        return self.rating_sum / self.rating_count if self.rating_count else None

    @property
    def survey_avg(self) -> float | None:
        return self.survey_sum / self.survey_count if self.survey_count else None


def _program_keys(programs: list[Program], part: str) -> dict[int, str]:
    """The cache key of `part` of each program's figures: its public id (unique to this
    database) and its current version."""
    scopes = {program.pk: program_scope(program.pk) for program in programs}
    current = versions(list(scopes.values()))
    return {
        program.pk: f"reports:{part}:{program.public_id}:{current[scopes[program.pk]]}"
        for program in programs
    }


def program_figures(programs: list[Program]) -> dict[int, ProgramFigures]:
    """Each program's figures by pk: from the cache, the missing ones in one query."""
    return cached_many(_program_keys(programs, "figures"), _figures_of, FIGURES_CACHE_SECONDS)


def _figures_of(program_ids: list[int]) -> dict[int, ProgramFigures]:
    """One query: per program, its engagements' and its sessions' aggregates, each a
    JSON object from a subquery bounded by that program's rows (its indexes)."""
    rows = Program.objects.filter(pk__in=program_ids).values_list(
        "pk", _json_of(_engagement_aggregates()), _json_of(_session_aggregates())
    )
    figures = {}
    for pk, engagements, sessions in rows:
        engagements, sessions = engagements or {}, sessions or {}
        median = engagements.get("median")
        figures[pk] = ProgramFigures(
            by_status={s.value: engagements.get(f"n_{s.value}", 0) for s in Status},
            total=engagements.get("total", 0),
            matched=engagements.get("matched", 0),
            median_wait=None if median is None else float(median),
            survey_sum=engagements.get("survey_sum") or 0,
            survey_count=engagements.get("survey_count", 0),
            sessions_held=sessions.get("held", 0),
            rating_sum=sessions.get("rating_sum") or 0,
            rating_count=sessions.get("rating_count", 0),
        )
    return figures


def _json_of(aggregates: QuerySet[Any]) -> Subquery:
    return Subquery(aggregates, output_field=JSONField())


def _engagement_aggregates() -> QuerySet[Any]:
    """Counts by status, matched, the closing survey (a 1:1 join), the median wait."""
    aggregates: dict[str, Any] = {f"n_{s.value}": Count("pk", filter=Q(status=s)) for s in Status}
    aggregates.update(
        total=Count("pk"),
        # coach_selected_at is stamped on selection and kept if the coach is
        # released later, so it marks "has had a coach".
        matched=Count("pk", filter=Q(coach_selected_at__isnull=False)),
        survey_sum=Sum("closing_survey__recommend_score"),
        survey_count=Count("closing_survey"),
    )
    if connection.vendor == "postgresql":
        aggregates["median"] = Median(Extract(F("coach_selected_at") - F("invited_at"), "epoch"))
    return (
        Engagement.objects.filter(program=OuterRef("pk"))
        .order_by()
        .values("program")
        .annotate(figures=JSONObject(**aggregates))
        .values("figures")
    )


def _session_aggregates() -> QuerySet[Any]:
    """Held sessions of live engagements, and the session ratings (voided ones count nowhere)."""
    return (
        CoachingSession.objects.counted()
        .filter(engagement__program=OuterRef("pk"))
        .order_by()
        .values("engagement__program")
        .annotate(
            figures=JSONObject(
                held=Count("pk", filter=held() & ~Q(engagement__status=Status.CANCELLED)),
                rating_sum=Sum("rating__score"),
                rating_count=Count("rating"),
            )
        )
        .values("figures")
    )


def _program_parts(program: Program, parts: dict[str, Callable[[], Any]]) -> dict[str, Any]:
    """Cached parts of one program's report, read in one round trip; each missing one
    computed by its function (one query each)."""
    current = versions([program_scope(program.pk)])[program_scope(program.pk)]
    keys = {name: f"reports:{name}:{program.public_id}:{current}" for name in parts}
    return cached_many(
        keys,
        lambda missing: {name: parts[name]() for name in missing},
        FIGURES_CACHE_SECONDS,
    )


def program_report(*, program: Program, with_staff_detail: bool = False) -> ProgramReport:
    """The report of one program, with live feedback figures; staff detail on request."""
    parts: dict[str, Callable[[], Any]] = {
        "figures": lambda: _figures_of([program.pk])[program.pk],
        "weeks": lambda: _held_by_week(program),
    }
    if with_staff_detail:
        parts["texts"] = lambda: _survey_texts(program)
        parts["coaches"] = lambda: _coaches_in_program(program)
    cached_parts = _program_parts(program, parts)
    figures: ProgramFigures = cached_parts["figures"]
    not_cancelled = figures.total - figures.by_status[Status.CANCELLED]
    report = ProgramReport(
        program=program,
        by_status=[(s.value, s.label, figures.by_status[s.value]) for s in Status],
        total=figures.total,
        not_cancelled=not_cancelled,
        matched=figures.matched,
        median_days_to_selection=_median_days(program, figures),
        sessions_held=figures.sessions_held,
        sessions_planned=not_cancelled * program.sessions_per_engagement,
        completed=figures.by_status[Status.COMPLETED],
        open_flags=_open_flags(program),
        rating_avg=figures.rating_avg,
        rating_count=figures.rating_count,
        survey_avg=figures.survey_avg,
        survey_count=figures.survey_count,
        weeks=_weeks(program, cached_parts["weeks"]),
    )
    if with_staff_detail:
        report.coaches = coach_utilisation(program=program, coaches=cached_parts["coaches"])
        report.survey_texts = [
            (timezone.localdate(created), score, text)
            for created, score, text in cached_parts["texts"]
        ]
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


def _median_days(program: Program, figures: ProgramFigures) -> float | None:
    """Median days from invitation to coach selection.

    PostgreSQL computes it with the figures (PERCENTILE_CONT); elsewhere one more
    query reads the one or two middle values (ORDER BY ... OFFSET n/2).
    """
    if connection.vendor == "postgresql":
        return None if figures.median_wait is None else figures.median_wait / 86400
    n = figures.matched
    if not n:
        return None
    middle = list(
        Engagement.objects.filter(program=program, coach_selected_at__isnull=False)
        .annotate(wait=F("coach_selected_at") - F("invited_at"))
        .order_by("wait")
        .values_list("wait", flat=True)[(n - 1) // 2 : n // 2 + 1]
    )
    return sum(w.total_seconds() for w in middle) / len(middle) / 86400


def _open_flags(program: Program) -> list[tuple[str, str, int]]:
    """One query: open flags (not resolved) by kind, every kind listed.

    Live (flags change during a nudge run), along the partial index of open flags by
    program and kind (nudges/models.py), so it reads only this program's open flags.
    """
    counts = dict(
        NudgeFlag.objects.filter(program=program, resolved_at__isnull=True)
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


def _held_by_week(program: Program) -> dict[date, int]:
    """One query: held sessions per week (its Monday), every week of the program.

    Not limited to the weeks shown today, so the cached counts stay right as days pass.
    """
    return dict(
        CoachingSession.objects.filter(held(), engagement__program=program)
        .annotate(week=TruncWeek("held_on"))
        .values_list("week")
        .annotate(n=Count("pk"))
        .order_by()
    )


def _weeks(program: Program, counts: dict[date, int]) -> list[WeekBar]:
    """The chart's weeks as of today, empty weeks filled in."""
    first, last = chart_weeks(program, timezone.localdate())
    bars = []
    week = first
    while week <= last:
        bars.append(WeekBar(week=week, held=counts.get(week, 0)))
        week += timedelta(weeks=1)
    return bars


@dataclass(frozen=True)
class CoachInProgram:
    """A coach's part in one program: in its pool, engagements in it, ratings of their
    counted sessions in it. Cached with the program's figures."""

    in_pool: bool = False
    engagements: int = 0
    rating_sum: int = 0
    rating_count: int = 0


_POOL, _ENGAGED, _RATED = 0, 1, 2


def _coaches_in_program(program: Program) -> dict[int, CoachInProgram]:
    """One query (UNION ALL of three, each along the program's own index): the pool, the
    engagements per coach, the ratings per coach of the program's counted sessions."""
    kind = {n: Value(n, output_field=IntegerField()) for n in (_POOL, _ENGAGED, _RATED)}
    zero = Value(0, output_field=IntegerField())
    pool = Program.coaches.through.objects.filter(program=program).values_list(
        "coachprofile_id", kind[_POOL], zero, zero
    )
    engaged = (
        Engagement.objects.filter(program=program, coach__isnull=False)
        .order_by()
        .values("coach")
        .annotate(n=Count("pk"))
        .values_list("coach", kind[_ENGAGED], "n", zero)
    )
    rated = (
        SessionRating.objects.filter(
            session_counted("session__"), session__engagement__program=program
        )
        .order_by()
        .values("session__coach")
        .annotate(n=Count("pk"), total=Sum("score"))
        .values_list("session__coach", kind[_RATED], "n", "total")
    )
    found: dict[int, dict[str, Any]] = {}
    for coach, part, n, total in pool.union(engaged, rated, all=True):
        mine = found.setdefault(coach, {})
        if part == _POOL:
            mine["in_pool"] = True
        elif part == _ENGAGED:
            mine["engagements"] = n
        else:
            mine.update(rating_count=n, rating_sum=total)
    return {coach: CoachInProgram(**parts) for coach, parts in found.items()}


def coach_utilisation(
    *, program: Program, coaches: dict[int, CoachInProgram] | None = None
) -> list[CoachLine]:
    """One query: each coach of the program (pool or engaged in it) with load and ratings.

    Who they are and what they did in this program come from `coaches`
    (_coaches_in_program, cached with the program's figures); their load counts
    active engagements across all programs, as capacity does, so it is read live, for
    these coaches only, by pk and along the index on (coach, status).
    """
    if coaches is None:
        coaches = _coaches_in_program(program)
    listed = [pk for pk, part in coaches.items() if part.in_pool or part.engagements]
    active = Engagement.objects.filter(coach=OuterRef("pk"), status__in=ACTIVE_STATUSES)
    rows = (
        CoachProfile.objects.filter(pk__in=listed)
        .annotate(name=F("user__full_name"), active=_count(active))
        .order_by("name", "pk")
        .values_list("pk", "name", "capacity", "active")
    )
    lines = []
    for pk, name, capacity, load in rows:
        part = coaches[pk]
        lines.append(
            CoachLine(
                name=name,
                capacity=capacity,
                active=load,
                in_program=part.engagements,
                rating_avg=part.rating_sum / part.rating_count if part.rating_count else None,
                rating_count=part.rating_count,
            )
        )
    return lines


def _count(queryset: QuerySet[Any]) -> Coalesce:
    """COUNT(*) of a correlated subquery, 0 when it has no rows."""
    # COUNT as a plain function: no GROUP BY, so the subquery yields one row. COUNT(*)
    # rather than of a column, so an index that answers the filter answers it alone.
    counted = (
        queryset.order_by()
        .annotate(n=Func(template="COUNT(*)", output_field=IntegerField()))
        .values("n")
    )
    return Coalesce(Subquery(counted), Value(0), output_field=IntegerField())


def _survey_texts(program: Program) -> list[tuple[datetime, int, str]]:
    """One query: the most recent non-empty "what changed" answers (staff only)."""
    return list(
        ClosingSurvey.objects.filter(engagement__program=program)
        .exclude(what_changed="")
        .order_by("-created_at", "-pk")
        .values_list("created_at", "recommend_score", "what_changed")[:SURVEY_TEXTS_SHOWN]
    )


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


def sponsor_programs_overview(*, sponsor: User) -> list[Program]:
    """The sponsor's programs with participant counts and released averages: one query,
    and the counts from the programs' cached figures."""
    programs = list(
        with_released_feedback(sponsor_programs(sponsor=sponsor)).select_related("organization")
    )
    figures = program_figures(programs)
    for program in programs:
        setattr(program, "participants", figures[program.pk].total)  # noqa: B010 - not a field
    return programs


def programs_overview(*, programs: QuerySet[Program]) -> list[Program]:
    """Programs with participant counts and live program-level averages (staff).

    One query for the programs; their figures come from the cache, the missing ones in
    one query more (program_figures). Each program gets `participants`, `rating_avg`
    and `survey_avg`.
    """
    rows = list(programs.select_related("organization"))
    figures = program_figures(rows)
    for program in rows:
        mine = figures[program.pk]
        setattr(program, "participants", mine.total)  # noqa: B010 - not a field
        setattr(program, "rating_avg", mine.rating_avg)  # noqa: B010 - not a field
        setattr(program, "survey_avg", mine.survey_avg)  # noqa: B010 - not a field
    return rows
