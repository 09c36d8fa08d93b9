"""Measure the engagements CSV export of 100,000 engagements on PostgreSQL (not a test).

Builds the data in bulk in its own database (created if missing, reused when
already filled), then streams the export through the real view in a fresh
process and prints the time, the rows and bytes sent, the process's peak RSS
and, in a second pass, the tracemalloc peak of the Python heap.

    .venv/bin/python -m bench.export_100k \
        --database-url postgres://postgres@127.0.0.1:5432/coachdesk_bench_export

Never point it at a database you care about: it migrates and fills it. The
benchmark suite (`python -m bench`) runs the export and trace phases on its own
data set, with --json.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

ROOT = Path(__file__).resolve().parents[1]
N = 100_000
BATCH = 5_000


def _setup_django(database_url: str) -> None:
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("SECRET_KEY", "perf-only-secret")
    os.environ.setdefault("EMAIL_URL", "dummymail://")
    os.environ.setdefault("ALLOWED_HOSTS", "testserver")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def _create_database(database_url: str) -> None:
    import psycopg

    base, name = database_url.rsplit("/", 1)
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')  # noqa: S608 - our own argument


def build(database_url: str) -> None:
    """Migrate and fill the database with N engagements, unless already there."""
    _create_database(database_url)
    _setup_django(database_url)
    from datetime import timedelta

    from django.core.management import call_command
    from django.utils import timezone

    from accounts.models import Role, User
    from coaches.models import CoachProfile
    from engagements.models import (
        CoachingSession,
        Engagement,
        Organization,
        Outcome,
        Program,
        Status,
    )
    from nudges.models import FlagKind, NudgeFlag

    call_command("migrate", verbosity=0)
    if Engagement.objects.count() >= N:
        print(f"data present: {Engagement.objects.count()} engagements")
        return
    started = time.perf_counter()
    today = timezone.localdate()
    org = Organization.objects.create(name="Perf Org")
    program = Program.objects.create(
        organization=org,
        name="Perf Program",
        starts_on=today - timedelta(days=120),
        ends_on=today + timedelta(days=120),
    )
    coach_users = User.objects.bulk_create(
        User(email=f"coach{i}@perf.example", full_name=f"Coach {i}", role=Role.COACH)
        for i in range(200)
    )
    coaches = CoachProfile.objects.bulk_create(
        CoachProfile(user=u, capacity=1000) for u in coach_users
    )
    statuses = [Status.INVITED, Status.COACH_SELECTED, Status.IN_PROGRESS, Status.COMPLETED]
    now = timezone.now()
    for start in range(0, N, BATCH):
        users = User.objects.bulk_create(
            User(
                email=f"p{i}@perf.example",
                full_name=("=cmd" if i % 1000 == 0 else f"Participant-{i}"),
                role=Role.PARTICIPANT,
            )
            for i in range(start, start + BATCH)
        )
        engagements = Engagement.objects.bulk_create(
            Engagement(
                participant=u,
                program=program,
                status=statuses[i % 4],
                coach=None if i % 4 == 0 else coaches[i % len(coaches)],
                coach_selected_at=None if i % 4 == 0 else now,
                sessions_logged=0 if i % 4 < 2 else 3,
                last_session_on=None if i % 4 < 2 else today,
            )
            for i, u in enumerate(users, start=start)
        )
        CoachingSession.objects.bulk_create(
            CoachingSession(
                engagement=e,
                coach=e.coach,
                number=n,
                held_on=today - timedelta(days=7 * n),
                duration_minutes=60,
                outcome=Outcome.HELD,
                notes="private notes",
            )
            for e in engagements
            if e.sessions_logged
            for n in range(1, 4)
        )
        NudgeFlag.objects.bulk_create(
            NudgeFlag(engagement=e, program_id=e.program_id, kind=FlagKind.NO_COACH_SELECTED)
            for e in engagements
            if e.coach_id is None
        )
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(f"built {N} engagements in {time.perf_counter() - started:.1f} s")


def export(database_url: str, *, trace: bool) -> dict[str, float | int | bool]:
    """Stream the export through the view, reading and discarding every chunk."""
    _setup_django(database_url)
    from django.db import connection
    from django.http import StreamingHttpResponse
    from django.test import RequestFactory

    from accounts.models import AuditEvent, Role, User
    from reports.views import export_engagements

    staff, _ = User.objects.get_or_create(
        email="staff@perf.example", defaults={"full_name": "Perf Staff", "role": Role.STAFF}
    )
    connection.ensure_connection()
    baseline_kib = _current_rss_kib()
    request = RequestFactory().get("/ops/exports/engagements.csv")
    request.user = staff
    # As django-otp's middleware marks a code-verified session: staff exports need one.
    setattr(staff, "is_verified", lambda: True)  # noqa: B010
    if trace:
        tracemalloc.start()
    started = time.perf_counter()
    # A staff request: the CSV stream, not a redirect to sign-in.
    response = cast(StreamingHttpResponse, export_engagements(request))
    sent = chunks = 0
    # The export streams from a plain (sync) iterator.
    for chunk in cast(Iterator[bytes], response.streaming_content):
        sent += len(chunk)
        chunks += 1
    response.close()
    seconds = time.perf_counter() - started
    event = AuditEvent.objects.filter(action="export.engagements").latest("created_at")
    after = cast(dict[str, Any], event.after)  # an export always records its row count
    figures: dict[str, float | int | bool] = {
        "rows": after["rows"],
        "complete": after["complete"],
        "bytes": sent,
        "chunks": chunks,
        "seconds": seconds,
    }
    if trace:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        figures["tracemalloc_peak_mib"] = peak / 2**20
    else:
        figures["rss_before_mib"] = baseline_kib / 1024
        figures["rss_peak_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return figures


def _print(figures: dict[str, float | int | bool]) -> None:
    if "tracemalloc_peak_mib" in figures:
        print(
            f"tracemalloc peak during the export: {figures['tracemalloc_peak_mib']:.1f} MiB "
            f"({figures['seconds']:.1f} s)"
        )
        return
    print(f"rows: {figures['rows']} (complete={figures['complete']})")
    print(f"bytes: {figures['bytes']:,} in {figures['chunks']} chunks")
    print(f"seconds: {figures['seconds']:.2f}")
    print(f"RSS before the export: {figures['rss_before_mib']:.1f} MiB")
    print(f"peak RSS of the process: {figures['rss_peak_mib']:.1f} MiB")


def _current_rss_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--phase", choices=["all", "build", "export", "trace"], default="all")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    if args.phase == "build":
        build(args.database_url)
    elif args.phase in ("export", "trace"):
        figures = export(args.database_url, trace=args.phase == "trace")
        if args.json:
            print(json.dumps(figures))
        else:
            _print(figures)
    else:
        # Each phase in its own process, so the peak RSS is the export's own.
        for phase in ("build", "export", "trace"):
            subprocess.run(  # noqa: S603 - our own script and arguments
                [sys.executable, __file__, "--database-url", args.database_url, "--phase", phase],
                check=True,
            )


if __name__ == "__main__":
    main()
