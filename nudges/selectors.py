"""The ops dashboard's reads: open flags by kind and program, the flagged
engagements, coach capacity and the last run. Each is a fixed number of queries
whatever the number of flags, engagements or coaches (bench/, README
"Performance").

Open flags change only during a nudge run, so their unfiltered aggregates (the
summary and the number of flagged engagements) are cached under a key naming the
last run and its state: the next run, or the end of this one, makes a new key.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import cached_property, reduce
from operator import or_
from typing import Any
from uuid import UUID

from django.core.paginator import Page, Paginator
from django.db.models import Count, F, Min, Prefetch, Q, QuerySet
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone

from accounts.models import AuditEvent
from coaches.models import CoachProfile
from config.cached import cached
from engagements.models import CoachingSession, Engagement, Outcome, Program, Status
from engagements.selectors import coaches_full_first_ids, coaches_with_load
from nudges.models import FlagKind, NudgeFlag, NudgeRun
from nudges.rules import RECIPIENTS

FLAGGED_PER_PAGE = 50
COACHES_PER_PAGE = 50
AGGREGATES_CACHE_SECONDS = 24 * 60 * 60


def _open_flags() -> QuerySet[NudgeFlag]:
    return NudgeFlag.objects.filter(resolved_at__isnull=True)


def _until_next_run[T](name: str, run: NudgeRun | None, compute: Callable[[], T]) -> T:
    """compute(), cached until the next nudge run (or the end of `run`, the last one).

    Before any run nothing is cached: no key would tell that state apart from a
    later one with flags written outside a run (a restored database, a test).
    """
    if run is None:
        return compute()
    state = f"{run.pk}.{run.started_at.timestamp()}.{run.outcome}"
    return cached(f"nudges:{name}:{state}", compute, AGGREGATES_CACHE_SECONDS)


def open_flag_summary(*, run: NudgeRun | None, today: date | None = None) -> list[dict[str, Any]]:
    """Open flags counted per program and kind, each group with `longest_stuck` in days:
    how long its longest-stuck engagement has been stuck (stuck_since, per group).

    One GROUP BY over the open flags (program, kind), with the earliest of each date a
    rule reads; `run` is the last run (last_nudge_run), which keys the cache with the
    date the days are counted to, so a cached summary stays true the next day.
    """

    def compute() -> list[dict[str, Any]]:
        earliest = {f"since_{field}": Min(f"engagement__{field}") for field in _SINCE_FIELDS}
        rows = (
            _open_flags()
            .values("kind", "program__name")
            .annotate(
                count=Count("pk"),
                oldest=Min("raised_at"),
                ends_on=Min("program__ends_on"),
                behind_schedule_days=Min("program__behind_schedule_days"),
                **earliest,
            )
            .order_by("program__name", "kind")
        )
        return [dict(row) for row in rows]

    today = today or timezone.localdate()

    def with_days() -> list[dict[str, Any]]:
        # The days depend on the date alone (the groups' dates are the run's): kept
        # with them for the day, not counted again for each of 150-odd rows per request.
        return [
            {
                **row,
                "kind_label": FlagKind(row["kind"]).label,
                "longest_stuck": _group_days(row, today),
            }
            for row in compute()
        ]

    return _until_next_run(f"summary:{today.isoformat()}", run, with_days)


def _group_days(row: dict[str, Any], today: date) -> int:
    """Days since the group's condition began (the same dates as stuck_since)."""
    began = _condition_began(
        FlagKind(row["kind"]),
        read=lambda field: row[f"since_{field}"],
        behind_schedule_since=lambda: row["ends_on"] - timedelta(days=row["behind_schedule_days"]),
        raised_at=row["oldest"],
    )
    return max((today - (began or timezone.localdate(row["oldest"]))).days, 0)


class _CountedPaginator(Paginator):
    """A paginator told its count, for a list whose own COUNT would be costly."""

    def __init__(self, object_list: Any, per_page: int, *, count: int) -> None:
        super().__init__(object_list, per_page)
        self.known_count = count

    @cached_property
    def count(self) -> int:
        return self.known_count


@dataclass(frozen=True)
class FlagFilter:
    """The dashboard's filters, as its form cleaned them; None is "any"."""

    program: Program | None = None
    kind: str = ""
    coach: str = ""  # a coach's name or email, or part of it (or their public id)
    days: int | None = None


def _filtered(flags: QuerySet[NudgeFlag], filters: FlagFilter, today: date) -> QuerySet[NudgeFlag]:
    if filters.program is not None:
        flags = flags.filter(engagement__program=filters.program)
    if filters.kind:
        flags = flags.filter(kind=filters.kind)
    if filters.coach:
        flags = flags.filter(_coach_matches(filters.coach))
    if filters.days:
        flags = flags.filter(stuck_at_least(filters.days, today=today))
    return flags


def _coach_matches(search: str) -> Q:
    """Flags whose engagement's coach has `search` in their name or email, or that public id."""
    matches = Q(engagement__coach__user__full_name__icontains=search) | Q(
        engagement__coach__user__email__icontains=search
    )
    try:
        return matches | Q(engagement__coach__public_id=UUID(search))
    except ValueError:
        return matches


@dataclass(frozen=True)
class FlaggedRow:
    """A flagged engagement on the dashboard, with how long each open flag has held.

    What a row shows is put together here once (a page is 50 rows, and filters and
    {% url %} on each cell cost more than the rest of the dashboard's rendering).
    """

    engagement: Engagement
    stuck: list[OpenFlag]
    url: str

    @property
    def coach_name(self) -> str:
        coach = self.engagement.coach
        return coach.user.full_name if coach is not None else ""

    @property
    def sessions_text(self) -> str:
        e = self.engagement
        return f"{e.sessions_logged} of {e.program.sessions_per_engagement}"

    @property
    def badges(self) -> list[str]:
        return [open_flag.badge for open_flag in self.stuck]


# What a flagged row shows and how long it has been stuck reads (stuck_since): a page
# builds 50 engagements with 3 related rows each, so only these columns are loaded.
FLAGGED_ROW_FIELDS = (
    "public_id",
    "status",
    "sessions_logged",
    "invited_at",
    "coach_selected_at",
    "last_session_on",
    "participant__full_name",
    "program__name",
    "program__sessions_per_engagement",
    "program__ends_on",
    "program__behind_schedule_days",
    "coach__user__full_name",
)


def flagged_engagements_page(
    *,
    number: str | None,
    run: NudgeRun | None,
    filters: FlagFilter | None = None,
    today: date | None = None,
) -> Page[Any]:
    """One page of engagements with open flags, oldest flag first, each with its open flags.

    Engagements are ordered by their oldest open flag, aggregated on the flags
    alone (the open ones, via the partial unique index); the page's 50
    engagements are then loaded by id. Grouping the joined engagement rows
    instead took ~1 s at 100,000 engagements and 40,000 flags (bench/, README
    "Performance"). Unfiltered, they are counted with COUNT(DISTINCT engagement_id),
    cached like the summary, and so is which engagements each page lists (their rows
    are read live). `number` is the raw page parameter; a bad one gives page 1.
    The filters choose which open flags count; each row still shows all its open flags.
    """
    today = today or timezone.localdate()
    filters = filters or FlagFilter()
    open_flags = _open_flags()
    oldest_first = (
        _filtered(open_flags, filters, today)
        .order_by()
        .values("engagement_id")
        .annotate(oldest=Min("raised_at"))
        .order_by("oldest", "engagement_id")
    )
    paginator = Paginator(oldest_first, FLAGGED_PER_PAGE)
    unfiltered = filters == FlagFilter()
    if unfiltered:
        flagged = _until_next_run(
            "flagged",
            run,
            lambda: open_flags.aggregate(n=Count("engagement_id", distinct=True))["n"],
        )
        paginator = _CountedPaginator(oldest_first, FLAGGED_PER_PAGE, count=flagged)
    # Page[Any]: its rows are replaced by the engagements they name, below.
    page: Page[Any] = paginator.get_page(number)

    def page_ids() -> list[int]:
        return [row["engagement_id"] for row in page.object_list]

    # Unfiltered, which engagements a page lists changes only with the open flags.
    ids = _until_next_run(f"flagged:{page.number}", run, page_ids) if unfiltered else page_ids()
    flags = open_flags.only("engagement_id", "kind", "raised_at", "resolved_at")
    engagements = (
        Engagement.objects.select_related("participant", "program", "coach__user")
        .only(*FLAGGED_ROW_FIELDS)
        .prefetch_related(
            Prefetch("flags", queryset=flags.order_by("raised_at"), to_attr="open_flags")
        )
        .in_bulk(ids)
    )
    # One reverse() for the page: each row's link is the same path with its own id.
    blank = UUID(int=0)
    link = reverse("nudges:ops_engagement", kwargs={"public_id": blank})
    page.object_list = [
        FlaggedRow(
            engagement=engagements[pk],
            stuck=open_flags_stuck(engagements[pk].open_flags, today=today),
            url=link.replace(str(blank), str(engagements[pk].public_id)),
        )
        for pk in ids
        if pk in engagements
    ]
    return page


def coach_capacity_page(*, number: str | None) -> Page[Any]:
    """One page of coaches with their load (`active_count`, `is_full`), full ones first.

    The order comes from coaches_full_first_ids (cached until a coach's load changes);
    the page's 50 coaches are loaded by pk with their load counted live, for these
    rows only. A page at a time, since a large pool is thousands of rows. `number` is
    the raw page parameter; a bad one gives page 1.
    """
    page: Page[Any] = Paginator(coaches_full_first_ids(), COACHES_PER_PAGE).get_page(number)
    coaches = coaches_with_load(
        CoachProfile.objects.filter(pk__in=page.object_list)
        .select_related("user")
        .only("capacity", "accepting_new", "user__full_name")
    )
    by_pk = {coach.pk: coach for coach in coaches}
    page.object_list = [by_pk[pk] for pk in page.object_list if pk in by_pk]
    return page


def last_nudge_run() -> NudgeRun | None:
    """The latest run that did something; skipped runs are not what ops look for."""
    runs = NudgeRun.objects.exclude(outcome=NudgeRun.Outcome.SKIPPED)
    return runs.order_by("-started_at", "-pk").first()


# --- One engagement, for ops ------------------------------------------------------


# The date each rule reads (nudges/rules.py, flag_conditions): the condition began
# then. behind_schedule reads no engagement date: it began the day the program came
# within its threshold (ends_on - behind_schedule_days). Any other kind (an
# unconfirmed booking, whose date is the scheduling app's) counts from the day its
# flag was raised, which the daily run does the day the rule first holds.
STUCK_SINCE_FIELD: dict[FlagKind, str] = {
    FlagKind.NO_COACH_SELECTED: "invited_at",
    FlagKind.NO_FIRST_SESSION: "coach_selected_at",
    FlagKind.STALLED: "last_session_on",
}
_SINCE_FIELDS = sorted(set(STUCK_SINCE_FIELD.values()))


def _behind_schedule_since(program: Program) -> date:
    return program.ends_on - timedelta(days=program.behind_schedule_days)


def _condition_began(
    kind: FlagKind,
    *,
    read: Callable[[str], date | datetime | None],
    behind_schedule_since: Callable[[], date],
    raised_at: datetime,
) -> date | None:
    """The day a `kind` condition began: the date its rule reads (`read` a field of
    STUCK_SINCE_FIELD), the program's behind-schedule day, or else the flag's raise."""
    if kind == FlagKind.BEHIND_SCHEDULE:
        return behind_schedule_since()
    if kind not in STUCK_SINCE_FIELD:
        return timezone.localdate(raised_at)
    began = read(STUCK_SINCE_FIELD[kind])
    if isinstance(began, datetime):
        return timezone.localdate(began)
    return began


def stuck_since(flag: NudgeFlag) -> date | None:
    """The day the flag's condition began (its engagement and program are loaded)."""
    engagement = flag.engagement
    return _condition_began(
        FlagKind(flag.kind),
        read=lambda field: getattr(engagement, field),
        behind_schedule_since=lambda: _behind_schedule_since(engagement.program),
        raised_at=flag.raised_at,
    )


def stuck_at_least(days: int, *, today: date) -> Q:
    """A condition on flags: stuck_since is at least `days` days before `today`.

    The same dates as stuck_since, in SQL. behind_schedule compares each program's
    date in Python (programs are few; one query).
    """
    latest = today - timedelta(days=days)
    next_day = datetime.combine(
        latest + timedelta(days=1), time.min, tzinfo=timezone.get_current_timezone()
    )
    by_kind = []
    for kind, field in STUCK_SINCE_FIELD.items():
        is_time = field.endswith("_at")  # a moment: its local day is at most `latest`
        lookup = f"engagement__{field}__lt" if is_time else f"engagement__{field}__lte"
        by_kind.append(Q(kind=kind, **{lookup: next_day if is_time else latest}))
    programs = [
        program.pk
        for program in Program.objects.only("pk", "ends_on", "behind_schedule_days")
        if _behind_schedule_since(program) <= latest
    ]
    by_kind.append(Q(kind=FlagKind.BEHIND_SCHEDULE, engagement__program__in=programs))
    dated = [*STUCK_SINCE_FIELD, FlagKind.BEHIND_SCHEDULE]
    by_kind.append(Q(raised_at__lt=next_day) & ~Q(kind__in=dated))
    return reduce(or_, by_kind)


def days_stuck(flag: NudgeFlag, today: date) -> int | None:
    since = stuck_since(flag)
    return None if since is None else max((today - since).days, 0)


def ops_engagement_or_404(public_id: UUID) -> Engagement:
    """The engagement with the people and program its page names."""
    return get_object_or_404(
        Engagement.objects.select_related("participant", "program", "coach__user"),
        public_id=public_id,
    )


@dataclass(frozen=True)
class TimelineEntry:
    """One line of an engagement's history on the ops page."""

    at: datetime
    kind: str  # status, session, flag, reminder or event: how the line is marked
    title: str
    detail: str = ""
    actor: str = ""


# Sessions whose columns the page may show: never the notes (config/privacy.py).
SESSION_COLUMNS = (
    "public_id",
    "number",
    "held_on",
    "duration_minutes",
    "outcome",
    "created_at",
    "voided_at",
    "void_reason",
)


@dataclass(frozen=True)
class OpenFlag:
    """An open flag with the day its condition began and how long that is."""

    flag: NudgeFlag
    since: date | None
    days: int | None

    @property
    def reminds(self) -> bool:
        return bool(RECIPIENTS[FlagKind(self.flag.kind)])

    @property
    def badge(self) -> str:
        """ "Stalled: stuck for 3 days", or the kind alone when the day is not known."""
        label = FlagKind(self.flag.kind).label
        if self.days is None:
            return label
        return f"{label}: stuck for {self.days} day{'' if self.days == 1 else 's'}"


def engagement_flags(engagement: Engagement) -> list[NudgeFlag]:
    """Every flag the engagement has had, oldest first (one query)."""
    return list(engagement.flags.order_by("raised_at", "pk"))


def open_flags_stuck(flags: list[NudgeFlag], *, today: date) -> list[OpenFlag]:
    """The open ones of `flags`, each with how long its engagement has been stuck."""
    return [
        OpenFlag(flag=flag, since=stuck_since(flag), days=days_stuck(flag, today))
        for flag in flags
        if flag.resolved_at is None
    ]


def engagement_timeline(engagement: Engagement, flags: list[NudgeFlag]) -> list[TimelineEntry]:
    """Everything that happened to the engagement, newest first, in two queries more:
    its sessions (without notes) and the audit events on it and its sessions."""
    sessions = list(
        CoachingSession.objects.filter(engagement=engagement)
        .values(*SESSION_COLUMNS, coach_name=F("coach__user__full_name"))
        .order_by("number")
    )
    numbers = {str(row["public_id"]): row["number"] for row in sessions}
    events = (
        AuditEvent.objects.select_related("actor")
        .filter(
            Q(object_type="engagements.engagement", object_id=str(engagement.public_id))
            | Q(object_type="engagements.coachingsession", object_id__in=list(numbers))
        )
        .exclude(action="session.logged")  # the session's own line says it
        .order_by("created_at", "pk")
    )
    entries = [
        TimelineEntry(at=engagement.invited_at, kind="status", title="Invited"),
        *map(_session_entry, sessions),
        *(entry for flag in flags for entry in _flag_entries(flag)),
        *(_event_entry(event, numbers) for event in events),
    ]
    # Oldest first, then reversed: of two things at the same moment, the later-made one
    # (the reminder after its flag, the status change after its event) comes first.
    return sorted(entries, key=lambda entry: entry.at)[::-1]


def _session_entry(row: dict[str, Any]) -> TimelineEntry:
    # A voided session stays on staff's timeline, marked, with its reason.
    voided = f" (voided: {row['void_reason']})" if row["voided_at"] else ""
    return TimelineEntry(
        at=row["created_at"],
        kind="session",
        title=f"Session {row['number']} logged: {Outcome(row['outcome']).label.lower()}{voided}",
        detail=f"Held on {row['held_on']:%-d %b %Y}, {row['duration_minutes']} minutes",
        actor=row["coach_name"],
    )


def _flag_entries(flag: NudgeFlag) -> Iterator[TimelineEntry]:
    label = flag.get_kind_display()
    yield TimelineEntry(at=flag.raised_at, kind="flag", title=f"Flag raised: {label}")
    for recipient in RECIPIENTS[FlagKind(flag.kind)]:
        sent = getattr(flag, f"{recipient}_notified_at")
        if sent is not None:
            yield TimelineEntry(
                at=sent, kind="reminder", title=f"Reminder sent to the {recipient}", detail=label
            )
    if flag.resolved_at is not None:
        yield TimelineEntry(at=flag.resolved_at, kind="flag", title=f"Flag resolved: {label}")


# How audit events read on the timeline; others show their action as recorded.
EVENT_TITLES = {
    "engagement.coach_released": "Coach released",
    "engagement.resumed": "Resumed",
    "engagement.completed_early": "Completed early",
    "invitation.sent": "Invitation sent",
    "nudge.reminder_sent": "Reminder sent now",
    "feedback.closing_survey": "Closing survey answered",
    "session.corrected": "Session corrected",
    "feedback.session_rated": "Session rated by the participant",
    "feedback.session_rating_changed": "Session rating changed by the participant",
}


def _event_entry(event: AuditEvent, numbers: dict[str, int]) -> TimelineEntry:
    """A status change says from what to what, and why; other events what they were.
    Only these derived words are shown, never the recorded values themselves."""
    before, after = event.before or {}, event.after or {}
    title = EVENT_TITLES.get(event.action, event.action)
    kind = "event"
    if "status" in after and after.get("status") != before.get("status"):
        kind = "status"
        change = f"{_status_label(before.get('status'))} → {_status_label(after['status'])}"
        title = f"{title}: {change}" if event.action in EVENT_TITLES else change
    details = []
    if event.object_type == "engagements.coachingsession":
        details.append(f"Session {numbers.get(event.object_id, '?')}")
    if after.get("status_reason"):
        details.append(f"Reason: {after['status_reason']}")
    if event.action == "nudge.reminder_sent":
        details.append("To the " + " and the ".join(after.get("recipients", [])))
    actor = event.actor.full_name if event.actor else "Coachdesk"
    return TimelineEntry(
        at=event.created_at, kind=kind, title=title, detail="; ".join(details), actor=actor
    )


def _status_label(value: Any) -> str:
    return Status(value).label if value in Status.values else "?"
