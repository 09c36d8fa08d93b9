"""bench_nudges: time run_nudges on a large generated data set (a benchmark, not a test).

Point DATABASE_URL at an empty scratch PostgreSQL database: the command fills it
with N engagements in bulk (or reuses the data it made before), then times two
runs (a cold one that raises every flag, and the next day's) and counts their SQL
statements. Emails go to an in-memory backend, never to the configured one.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date, timedelta
from io import StringIO
from typing import Any

from django.contrib.auth.hashers import make_password
from django.core import mail
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext, override_settings
from django.utils import timezone

from accounts.models import Role, User
from coaches.models import CoachProfile
from engagements.models import Engagement, Organization, Program, Status
from nudges.models import NudgeFlag, NudgeRun

ORG_NAME = "Nudge benchmark"
BATCH = 5000
# By i % 20: 30% invited, 20% coach selected, 35% in progress, 5% each on hold,
# completed and cancelled.
PLAN = [Status.INVITED] * 6 + [Status.COACH_SELECTED] * 4 + [Status.IN_PROGRESS] * 7
PLAN += [Status.ON_HOLD, Status.COMPLETED, Status.CANCELLED]
LOCMEM = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}


class Command(BaseCommand):
    help = "Benchmark run_nudges on N generated engagements in a scratch database."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--engagements", type=int, default=100_000)
        parser.add_argument("--programs", type=int, default=10)
        parser.add_argument(
            "--reminders",
            action="store_true",
            help="Leave reminders on (emails rendered into memory) instead of off.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        n, n_programs = options["engagements"], options["programs"]
        if n < n_programs or n_programs < 1:
            raise CommandError("--engagements must be at least --programs, which is at least 1.")
        if connection.vendor != "postgresql":
            self.stderr.write("Warning: the target figure is for PostgreSQL.")
        today = timezone.localdate()
        self._ensure_data(n=n, n_programs=n_programs, today=today)
        Program.objects.filter(organization__name=ORG_NAME).update(
            reminders_enabled=options["reminders"]
        )
        NudgeFlag.objects.all().delete()
        NudgeRun.objects.all().delete()
        self.stdout.write(
            f"{connection.vendor}, {n} engagements in {n_programs} programs, "
            f"reminders {'on' if options['reminders'] else 'off'}"
        )
        self._timed_run(label="cold run (raises every flag)", day=today)
        self._log_sessions_on_a_tenth(today=today)
        self._timed_run(
            label="next day (a tenth of engagements logged a session)",
            day=today + timedelta(days=1),
        )

    def _timed_run(self, *, label: str, day: date) -> None:
        timing = timed_nudge_run(day=day)
        self.stdout.write(
            f"{label}: {timing.seconds:.2f} s, {timing.statements} SQL statements, "
            f"raised {timing.run.raised}, resolved {timing.run.resolved}, "
            f"open {timing.run.open_flags}, {timing.emails} emails"
        )

    def _log_sessions_on_a_tenth(self, *, today: date) -> None:
        """Between the runs, coaches log a session on every tenth in-progress engagement."""
        ids = Engagement.objects.filter(
            program__organization__name=ORG_NAME, status=Status.IN_PROGRESS
        ).values_list("pk", flat=True)
        Engagement.objects.filter(pk__in=list(ids)[::10]).update(last_session_on=today)

    def _ensure_data(self, *, n: int, n_programs: int, today: date) -> None:
        existing = Engagement.objects.filter(program__organization__name=ORG_NAME).count()
        if existing == n:
            self.stdout.write(f"Reusing the {n} benchmark engagements already in the database.")
            return
        if existing or Engagement.objects.exists():
            raise CommandError(
                "This database holds other data. Run the benchmark against an empty "
                "scratch database (createdb coachdesk_bench; migrate), never a real one."
            )
        started = time.perf_counter()
        with transaction.atomic():
            self._build(n=n, n_programs=n_programs, today=today)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        self.stdout.write(f"Built {n} engagements in {time.perf_counter() - started:.1f} s.")

    def _build(self, *, n: int, n_programs: int, today: date) -> None:
        org = Organization.objects.create(name=ORG_NAME)
        programs = Program.objects.bulk_create(
            Program(
                organization=org,
                name=f"Benchmark program {p}",
                starts_on=today - timedelta(days=120),
                # Half of the programs end within the behind_schedule window.
                ends_on=today + timedelta(days=10 if p % 2 else 90),
            )
            for p in range(n_programs)
        )
        password = make_password(None)
        coach_users = User.objects.bulk_create(
            (
                User(
                    email=f"coach{i}@bench.example",
                    full_name=f"Coach {i}",
                    role=Role.COACH,
                    password=password,
                )
                for i in range(max(1, n // 50))
            ),
            batch_size=BATCH,
        )
        coaches = CoachProfile.objects.bulk_create(
            (
                CoachProfile(user=u, capacity=100, booking_url=f"https://cal.example.com/{u.pk}")
                for u in coach_users
            ),
            batch_size=BATCH,
        )
        now = timezone.now()
        for start in range(0, n, BATCH):
            users = User.objects.bulk_create(
                User(
                    email=f"p{i}@bench.example",
                    full_name=f"Participant {i}",
                    role=Role.PARTICIPANT,
                    password=password,
                )
                for i in range(start, min(n, start + BATCH))
            )
            Engagement.objects.bulk_create(
                _engagement(i, user, programs[i % n_programs], coaches[i % len(coaches)], now)
                for i, user in enumerate(users, start=start)
            )


@dataclass(frozen=True)
class NudgeTiming:
    seconds: float
    statements: int
    emails: int
    run: NudgeRun


def timed_nudge_run(*, day: date) -> NudgeTiming:
    """One forced run_nudges as of `day`: wall time, SQL statements, emails rendered.

    Emails go to an in-memory backend, never to the configured one. Also used
    by the benchmark suite (bench/) on its own data set.
    """
    out = StringIO()
    with override_settings(MAILERS=LOCMEM), CaptureQueriesContext(connection) as queries:
        started = time.perf_counter()
        call_command("run_nudges", "--force", "--today", day.isoformat(), stdout=out)
        elapsed = time.perf_counter() - started
    emails = len(getattr(mail, "outbox", []))
    mail.outbox = []
    run = NudgeRun.objects.order_by("-pk").first()
    assert run is not None  # noqa: S101 - call_command above always records a run
    return NudgeTiming(seconds=elapsed, statements=len(queries), emails=emails, run=run)


def _engagement(i: int, user: User, program: Program, coach: CoachProfile, now: Any) -> Engagement:
    """One engagement in a state and age spread so that every rule fires for some."""
    status = PLAN[i % len(PLAN)]
    days = i % 45
    engagement = Engagement(
        participant=user, program=program, status=status, invited_at=now - timedelta(days=days + 5)
    )
    if status in (Status.INVITED, Status.CANCELLED):
        engagement.invited_at = now - timedelta(days=i % 20)
        return engagement
    engagement.coach = coach
    engagement.coach_selected_at = now - timedelta(days=days)
    if status != Status.COACH_SELECTED:
        engagement.sessions_logged = 6 if status == Status.COMPLETED else 1 + i % 5
        engagement.last_session_on = now.date() - timedelta(days=i % 50)
    return engagement
