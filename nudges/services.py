"""The daily nudge run: raise and resolve flags in set-based SQL, then send reminders.

The rules are in rules.py, the reminders in reminders.py (docs/architecture.md,
"Rules and where they live"). For each program the run issues the same few
statements whatever the number of engagements: one UPDATE resolves the open flags
whose condition no longer holds and one INSERT ... SELECT ... ON CONFLICT DO
NOTHING RETURNING raises the new ones. The partial unique index
one_open_flag_per_engagement_kind makes a second open flag impossible, so even a
race could not duplicate one. Each program commits on its own: a failure rolls
back that program only and the run ends as failed.

Reminders are queued for the email worker after those commits, in the same
transaction as their delivery records (reminders.py); the worker retries a
failed send.
A run within RUN_GAP of the last successful one does nothing unless forced. On
PostgreSQL a session advisory lock serializes whole runs (flags and emails), so
two runs at once never email the same person twice.
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.db import connection, transaction
from django.db.models import Count, Exists, F, OuterRef, QuerySet
from django.utils import timezone

from accounts.audit import audit_record
from accounts.emails import email_enqueue_many
from accounts.models import User
from config.errors import DomainError
from engagements.models import Engagement, Program
from nudges.models import FlagKind, NudgeFlag, NudgeRun
from nudges.reminders import (
    Digest,
    _digest,
    _person,
    nudge_reminders_send,
    reminders_people,
)
from nudges.rules import RECIPIENTS, Recipient, flag_conditions, flag_still_holds, reminder_kinds

logger = logging.getLogger(__name__)

# A daily job started twice by mistake (cron and a person) must not redo the day's
# work; docs/architecture.md, "Rules and where they live".
RUN_GAP = timedelta(hours=1)
# Key of the PostgreSQL advisory lock held for the whole run ("nudg" in ASCII).
LOCK_KEY = 0x6E756467
# A reminder sent by hand (or by a run) is not sent again by hand within this time:
# a second click, or two of the team at once, never email a person twice.
REMIND_AGAIN_AFTER = timedelta(days=1)


@dataclass
class ProgramResult:
    """What one program's part of a run did (or, in a dry run, would do)."""

    program_id: int
    name: str
    raised: int = 0
    resolved: int = 0
    open: int = 0
    raised_by_kind: dict[str, int] = field(default_factory=dict)
    error: str = ""


@dataclass
class RunReport:
    """The outcome of nudge_run, ready to print."""

    outcome: str
    today: date
    dry_run: bool = False
    programs: list[ProgramResult] = field(default_factory=list)
    emails_sent: int = 0
    emails_failed: int = 0
    message: str = ""
    run: NudgeRun | None = None

    @property
    def failed(self) -> bool:
        return self.outcome == NudgeRun.Outcome.FAILED

    def lines(self) -> list[str]:
        """One line per program, then one line about the run as a whole."""
        if self.dry_run:
            return [*map(_dry_run_line, self.programs), self.message]
        lines = [_program_line(result) for result in self.programs]
        if self.outcome != NudgeRun.Outcome.SKIPPED:
            lines.append(
                f"Reminders: {self.emails_sent} email(s) sent, {self.emails_failed} failed "
                "(failed ones are retried by the next run)."
            )
        lines.append(self.message)
        return lines


def _program_line(result: ProgramResult) -> str:
    if result.error:
        return f"{result.name}: FAILED, nothing changed for this program ({result.error})"
    return f"{result.name}: raised {result.raised}, resolved {result.resolved}, open {result.open}"


def _dry_run_line(result: ProgramResult) -> str:
    kinds = ", ".join(f"{kind} {n}" for kind, n in sorted(result.raised_by_kind.items()))
    return (
        f"[dry run] {result.name}: would raise {result.raised}"
        f"{f' ({kinds})' if kinds else ''}, would resolve {result.resolved}, "
        f"open now {result.open}"
    )


def _label(program: Program) -> str:
    return f"{program.name} (#{program.pk})"


def _flags_to_resolve(*, program: Program, today: date) -> Any:
    """Open flags of the program whose condition no longer holds (one UPDATE or COUNT)."""
    still_holds = flag_still_holds(program=program, today=today)
    # program twice: the flags' own (their partial index) and their engagements'
    # (so the join reads this program's engagements only, whatever the data size).
    open_flags = NudgeFlag.objects.filter(
        resolved_at__isnull=True, program=program, engagement__program=program
    )
    return open_flags.exclude(still_holds) if still_holds else open_flags


def _candidates(*, program: Program, today: date) -> dict[FlagKind, QuerySet[Engagement]]:
    """The program's engagements each kind would flag now: its rule holds and that
    kind is not already open on them. Built from the same conditions as the resolution."""
    candidates = {}
    for kind, condition in flag_conditions(program=program, today=today).items():
        already_open = NudgeFlag.objects.filter(
            engagement=OuterRef("pk"), program=program, kind=kind, resolved_at__isnull=True
        )
        candidates[kind] = (
            Engagement.objects.filter(condition, program=program)
            .filter(~Exists(already_open))
            .order_by()
        )
    return candidates


def _candidates_sql(*, program: Program, today: date) -> tuple[str, list[Any]]:
    """SELECT (engagement_id, kind) of every flag the program should raise now:
    the candidates of each kind, by the ORM, joined into one UNION ALL."""
    branches: list[str] = []
    params: list[Any] = []
    for kind, engagements in _candidates(program=program, today=today).items():
        candidates = engagements.values(candidate_id=F("pk"))
        sql, candidate_params = candidates.query.sql_with_params()
        branches.append(
            "SELECT c.candidate_id AS engagement_id, CAST(%s AS VARCHAR(32)) AS kind "  # noqa: S608
            f"FROM ({sql}) c"
        )
        params += [kind.value, *candidate_params]
    return " UNION ALL ".join(branches), params


def _raise_flags(*, program: Program, today: date, now: datetime) -> list[tuple[int, str]]:
    """Insert the new flags of one program in one statement; return (id, kind) of each."""
    candidates, params = _candidates_sql(program=program, today=today)
    table = connection.ops.quote_name(NudgeFlag._meta.db_table)
    raised_at = NudgeFlag._meta.get_field("raised_at").get_db_prep_value(now, connection)
    # WHERE 1 = 1 keeps SQLite from reading ON CONFLICT as a join constraint. With no
    # conflict target, DO NOTHING covers the partial unique index on open flags.
    sql = (
        f"INSERT INTO {table} (engagement_id, program_id, kind, raised_at) "  # noqa: S608
        f"SELECT n.engagement_id, %s, n.kind, %s FROM ({candidates}) n WHERE 1 = 1 "
        "ON CONFLICT DO NOTHING RETURNING id, kind"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [program.pk, raised_at, *params])
        return [(row[0], row[1]) for row in cursor.fetchall()]


def _count_candidates(*, program: Program, today: date) -> dict[str, int]:
    candidates, params = _candidates_sql(program=program, today=today)
    sql = f"SELECT n.kind, COUNT(*) FROM ({candidates}) n GROUP BY n.kind"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return {kind: count for kind, count in cursor.fetchall()}


def _open_counts() -> dict[int, int]:
    rows = (
        NudgeFlag.objects.filter(resolved_at__isnull=True)
        .values("program")
        .annotate(n=Count("pk"))
        .order_by()
    )
    return {row["program"]: row["n"] for row in rows}


def _apply_program(*, program: Program, today: date, now: datetime) -> ProgramResult:
    """Resolve then raise one program's flags in its own transaction."""
    result = ProgramResult(program_id=program.pk, name=_label(program))
    try:
        with transaction.atomic():
            _prefer_hash_joins()
            result.resolved = _flags_to_resolve(program=program, today=today).update(
                resolved_at=now
            )
            raised = _raise_flags(program=program, today=today, now=now)
    except Exception as exc:  # noqa: BLE001 - recorded, reported, and the run fails
        logger.exception("nudge run failed for program %s", program.pk)
        result.resolved = 0
        result.error = f"{type(exc).__name__}: {exc}"
        return result
    result.raised = len(raised)
    for _, kind in raised:
        result.raised_by_kind[kind] = result.raised_by_kind.get(kind, 0) + 1
    return result


def _prefer_hash_joins() -> None:
    """Keep PostgreSQL from nested-loop anti-joins for the rest of this transaction.

    Each program's NOT EXISTS also sees the flags the programs before it inserted
    moments ago, which no statistics know of yet; the planner then expects one open
    flag and loops over thousands per candidate (13 s instead of 4 s for a first
    run over 100,000 engagements). Hash joins are right for set-based work at any
    size here; SET LOCAL ends with the program's transaction.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_nestloop = off")


@contextmanager
def _exclusive_run() -> Iterator[bool]:
    """Hold the run lock for the block; yield False when another run holds it.

    A session-level advisory lock on PostgreSQL, released when the block ends or
    when the connection drops with a crashed process. SQLite (the one-process
    quick start) has no such lock; the unique index still prevents duplicate flags.
    """
    if connection.vendor != "postgresql":
        yield True
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [LOCK_KEY])
        locked = bool(cursor.fetchone()[0])
    try:
        yield locked
    finally:
        if locked:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [LOCK_KEY])


def _refresh_flag_statistics() -> None:
    """ANALYZE the flag table on PostgreSQL before the anti-joins read it.

    A run can add tens of thousands of flags faster than autovacuum notices; with
    statistics from a near-empty table the planner expects one open flag and picks a
    nested loop that takes seconds per program instead of a hash anti-join that
    takes milliseconds. ANALYZE samples a bounded number of rows (~0.1 s).
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {connection.ops.quote_name(NudgeFlag._meta.db_table)}")


def _skip(*, today: date, force: bool, message: str) -> RunReport:
    now = timezone.now()
    run = NudgeRun.objects.create(
        started_at=now,
        finished_at=now,
        as_of=today,
        forced=force,
        outcome=NudgeRun.Outcome.SKIPPED,
        detail=message,
    )
    return RunReport(outcome=run.outcome, today=today, message=message, run=run)


def _recent_success(now: datetime) -> NudgeRun | None:
    return (
        NudgeRun.objects.filter(outcome=NudgeRun.Outcome.SUCCEEDED, finished_at__gt=now - RUN_GAP)
        .order_by("-finished_at")
        .first()
    )


def nudge_run(*, today: date, force: bool = False, dry_run: bool = False) -> RunReport:
    """Raise and resolve every program's flags as of `today`, then send the reminders.

    Skipped (and recorded as such) when another run holds the lock, or when a run
    succeeded less than an hour ago unless `force`. A dry run writes and sends
    nothing. Every other run is recorded in NudgeRun with its counts and outcome.
    """
    programs = list(Program.objects.order_by("name", "pk"))
    if dry_run:
        return _dry_run(programs=programs, today=today, force=force)
    with _exclusive_run() as locked:
        if not locked:
            return _skip(
                today=today,
                force=force,
                message="Another nudge run is in progress; this one did nothing.",
            )
        now = timezone.now()
        last = _recent_success(now)
        if last is not None and not force:
            return _skip(
                today=today,
                force=force,
                message=(
                    f"The last run finished at {last.finished_at:%Y-%m-%d %H:%M} UTC, "
                    "less than an hour ago; nothing done. Use --force to run anyway."
                ),
            )
        _refresh_flag_statistics()
        run = NudgeRun.objects.create(started_at=now, as_of=today, forced=force)
        try:
            return _run(run=run, programs=programs, today=today, now=now)
        except BaseException as exc:
            run.outcome = NudgeRun.Outcome.FAILED
            run.finished_at = timezone.now()
            run.detail = f"Stopped by {type(exc).__name__}: {exc}"
            run.save()
            raise


def _run(*, run: NudgeRun, programs: list[Program], today: date, now: datetime) -> RunReport:
    results = [_apply_program(program=p, today=today, now=now) for p in programs]
    open_counts = _open_counts()
    for result in results:
        result.open = open_counts.get(result.program_id, 0)
    sent, failed = nudge_reminders_send(now=timezone.now())
    failures = [r for r in results if r.error]
    report = RunReport(
        outcome=NudgeRun.Outcome.FAILED if failures else NudgeRun.Outcome.SUCCEEDED,
        today=today,
        programs=results,
        emails_sent=sent,
        emails_failed=failed,
        run=run,
    )
    if failures:
        names = ", ".join(r.name for r in failures)
        report.message = (
            f"Nudge run #{run.pk} for {today} FAILED for {names}; those programs were left "
            "unchanged, the others were applied. See the lines above."
        )
    else:
        report.message = f"Nudge run #{run.pk} for {today} succeeded."
    run.outcome = report.outcome
    run.finished_at = timezone.now()
    run.raised = sum(r.raised for r in results)
    run.resolved = sum(r.resolved for r in results)
    run.open_flags = sum(open_counts.values())
    run.emails_sent = sent
    run.detail = "\n".join(report.lines())
    run.save()
    return report


def _dry_run(*, programs: list[Program], today: date, force: bool) -> RunReport:
    """Count what a run would do, writing and sending nothing."""
    open_counts = _open_counts()
    results = []
    for program in programs:
        by_kind = _count_candidates(program=program, today=today)
        results.append(
            ProgramResult(
                program_id=program.pk,
                name=_label(program),
                raised=sum(by_kind.values()),
                resolved=_flags_to_resolve(program=program, today=today).count(),
                open=open_counts.get(program.pk, 0),
                raised_by_kind=by_kind,
            )
        )
    # One digest per person, whatever the number of their flags and programs.
    people: set[int] = set()
    for program in programs:
        candidates = _candidates(program=program, today=today)
        people |= reminders_people(program=program, today=today, candidates=candidates)
    emails = len(people)
    last = _recent_success(timezone.now())
    guard = (
        " A run now would be skipped: the last one finished less than an hour ago (use --force)."
        if last is not None and not force
        else ""
    )
    return RunReport(
        outcome="dry_run",
        today=today,
        dry_run=True,
        programs=results,
        message=(
            f"[dry run] as of {today}: would send {emails} reminder email(s); "
            f"nothing was written or sent.{guard}"
        ),
    )


# --- Reminders sent by hand -------------------------------------------------


class ReminderRefused(DomainError):
    code = "reminder_refused"
    message = "No reminder was sent."


@dataclass
class RemindResult:
    """What nudge_remind_now did: digests queued, engagements reminded, refusals by reason."""

    emails: int = 0
    reminded: int = 0
    refused: Counter[str] = field(default_factory=Counter)


def _run_lock_free() -> bool:
    """Take the run lock until the transaction ends; False while a run holds it."""
    if connection.vendor != "postgresql":
        return True
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [LOCK_KEY])
        return bool(cursor.fetchone()[0])


def _why_not(flag: NudgeFlag, recipient: Recipient, now: datetime) -> str:
    """Why `recipient` cannot be reminded of `flag` now, or "" when they can."""
    if not flag.engagement.program.reminders_enabled:
        return "Reminders are turned off for this program."
    try:
        person = _person(flag, recipient)
    except LookupError:
        return "The engagement has no coach to remind."
    if not person.reminders_enabled:
        return f"The {recipient} turned reminders off."
    stamp = getattr(flag, f"{recipient}_notified_at")
    if stamp is not None and now - stamp < REMIND_AGAIN_AFTER:
        return f"The {recipient} was reminded less than a day ago."
    return ""


def _reminders_owed(
    flags: list[NudgeFlag], now: datetime
) -> tuple[dict[Digest, list[NudgeFlag]], dict[int, list[str]]]:
    """The flags to remind of, by digest; and why not, per engagement id."""
    owed: dict[Digest, list[NudgeFlag]] = defaultdict(list)
    why_not: dict[int, list[str]] = defaultdict(list)
    for flag in flags:
        for recipient in RECIPIENTS[FlagKind(flag.kind)]:
            why = _why_not(flag, recipient, now)
            if why:
                why_not[flag.engagement_id].append(why)
            else:
                owed[(_person(flag, recipient).pk, recipient)].append(flag)
    return owed, why_not


def _stamp(flag: NudgeFlag, recipient: Recipient, now: datetime) -> None:
    """Record a reminder on the flag; `notified_at` once every recipient it has is stamped,
    so the run sends none of them again."""
    setattr(flag, f"{recipient}_notified_at", now)
    people = [r for r in RECIPIENTS[FlagKind(flag.kind)] if _has_person(flag, r)]
    if all(getattr(flag, f"{r}_notified_at") is not None for r in people):
        flag.notified_at = now


def _has_person(flag: NudgeFlag, recipient: Recipient) -> bool:
    """A released engagement has no coach: nothing is owed to one."""
    return recipient != Recipient.COACH or flag.engagement.coach_id is not None


def nudge_remind_now(
    *, engagements: Sequence[Engagement], actor: User, now: datetime | None = None
) -> RemindResult:
    """Email now the reminders that the engagements' open flags call for, one digest per person.

    The same digests as the run's (reminders.py), to the same people (rules.RECIPIENTS),
    stamped on the flags in the same transaction as they are queued, so the run does
    not send them again. Refused for a person who turned reminders off, a program with
    reminders off, or a person reminded of that flag less than REMIND_AGAIN_AFTER ago;
    and for everything while a run holds the lock. Each engagement reminded is audited.
    """
    now = now or timezone.now()
    result = RemindResult()
    ids = [engagement.pk for engagement in engagements]
    with transaction.atomic():
        if not _run_lock_free():
            raise ReminderRefused(
                "The nightly nudge run is sending reminders right now. Try again in a few minutes."
            )
        flags = list(
            NudgeFlag.objects.select_for_update(of=("self",))
            .select_related(
                "engagement__participant", "engagement__coach__user", "engagement__program"
            )
            .filter(engagement__in=ids, resolved_at__isnull=True, kind__in=reminder_kinds())
            .order_by("pk")
        )
        owed, why_not = _reminders_owed(flags, now)
        outgoing = []
        reminded: dict[int, set[str]] = defaultdict(set)
        for (_, recipient), mine in owed.items():
            outgoing.append(
                (_digest(_person(mine[0], recipient), recipient, mine), f"nudge_digest_{recipient}")
            )
            for flag in mine:
                _stamp(flag, recipient, now)
                reminded[flag.engagement_id].add(recipient)
        email_enqueue_many(outgoing)
        NudgeFlag.objects.bulk_update(
            flags, ["participant_notified_at", "coach_notified_at", "notified_at"]
        )
        by_id = {flag.engagement_id: flag.engagement for flag in flags}
        for engagement_id, recipients in reminded.items():
            audit_record(
                action="nudge.reminder_sent",
                obj=by_id[engagement_id],
                actor=actor,
                after={"recipients": sorted(recipients)},
            )
    result.emails = len(outgoing)
    result.reminded = len(reminded)
    for pk in ids:
        if pk not in reminded:
            reasons = why_not.get(pk) or ["No open flag on this engagement calls for a reminder."]
            result.refused[" ".join(dict.fromkeys(reasons))] += 1
    return result
