"""Coachdesk benchmarks: `make bench`, or `python -m bench --help` for the parts.

Creates a fresh PostgreSQL database named coachdesk_bench_*, migrates it,
generates the data set in bulk, measures, prints one Markdown table and drops
the database. These are measurements, not tests: nothing here is collected by
pytest or run by CI. Never point it at a database you care about.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

from bench.env import PREFIX, ROOT, bench_env, setup_django

PARTS = ("nudges", "export", "queries", "latency", "contention", "import")


def main(argv: list[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    if not args.db.startswith(PREFIX):
        sys.exit(f"The database name must start with {PREFIX} (it is dropped at the end).")
    parts = args.only.split(",") if args.only else list(PARTS)
    unknown = set(parts) - set(PARTS)
    if unknown:
        sys.exit(f"Unknown part(s) {', '.join(sorted(unknown))}; choose from {', '.join(PARTS)}.")
    database_url = f"{args.pg_url.rstrip('/')}/{args.db}"
    created = False
    if not args.reuse:
        _create_database(args.pg_url, args.db)
        created = True
    try:
        setup_django(database_url=database_url, cache_url=args.cache_url)
        env = bench_env(database_url=database_url, cache_url=args.cache_url)
        results = Results(args=args)
        _prepare(results, generate=created)
        _measure(results, parts=parts, env=env, database_url=database_url)
        print(results.table())
    finally:
        if created and not args.keep:
            from django.db import connections

            connections.close_all()
            _drop_database(args.pg_url, args.db)
        elif created:
            print(f"Kept {args.db}; measure again with --db {args.db} --reuse --only <parts>.")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--db", default=f"{PREFIX}make", help="database name (coachdesk_bench_*)")
    parser.add_argument(
        "--pg-url",
        default=os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432"),
        help="PostgreSQL server URL without the database name (env BENCH_PG_URL)",
    )
    parser.add_argument(
        "--cache-url",
        default=os.environ.get("BENCH_CACHE_URL", "redis://127.0.0.1:6379/12"),
        help="Redis for the rate-limit cache (env BENCH_CACHE_URL)",
    )
    parser.add_argument("--only", help=f"comma-separated parts among: {', '.join(PARTS)}")
    parser.add_argument(
        "--reuse", action="store_true", help="measure an existing, generated --db (kept)"
    )
    parser.add_argument("--keep", action="store_true", help="do not drop the database at the end")
    parser.add_argument("--requests", type=int, default=500, help="timed requests per page")
    parser.add_argument("--warmup", type=int, default=20, help="untimed requests per page first")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn sync workers")
    parser.add_argument(
        "--nudge-reminders",
        action="store_true",
        help="nudges part: reminders on, emails rendered and queued, not sent (default: off)",
    )
    return parser


def _admin_connect(pg_url: str) -> Any:
    import psycopg

    return psycopg.connect(f"{pg_url.rstrip('/')}/postgres", autocommit=True)


def _create_database(pg_url: str, name: str) -> None:
    with _admin_connect(pg_url) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            sys.exit(
                f"{name} exists: drop it (dropdb {name}) or measure it again with "
                f"--db {name} --reuse."
            )
        conn.execute(f'CREATE DATABASE "{name}"')


def _drop_database(pg_url: str, name: str) -> None:
    with _admin_connect(pg_url) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    print(f"Dropped {name}.")


class Results:
    """What was measured, and the one table that shows it."""

    def __init__(self, *, args: argparse.Namespace) -> None:
        self.args = args
        self.rows: list[tuple[str, ...]] = []
        self.header: list[str] = []
        self.floor: dict[str, float] = {}

    def add(self, *cells: str) -> None:
        self.rows.append(cells)
        print(" | ".join(cells), file=sys.stderr, flush=True)

    def table(self) -> str:
        lines = ["", *self.header, ""]
        lines.append("| benchmark | median | p95 | × floor (median / p95) | SQL | notes |")
        lines.append("| --- | ---: | ---: | ---: | ---: | --- |")
        lines += ["| " + " | ".join(row) + " |" for row in self.rows]
        return "\n".join(lines)


def _prepare(results: Results, *, generate: bool) -> None:
    from django.core.management import call_command
    from django.db import connection

    from accounts.models import User
    from bench.generate import generate as generate_data
    from engagements.models import CoachingSession, Engagement

    if generate:
        started = time.perf_counter()
        call_command("migrate", verbosity=0)
        migrated = time.perf_counter() - started
        generated = generate_data()
        print(
            f"Migrated in {migrated:.1f} s; generated in {generated.seconds:.1f} s: "
            + ", ".join(f"{table} {n:,}" for table, n in generated.counts.items()),
            file=sys.stderr,
        )
        made = f"generated by COPY in {generated.seconds:.0f} s"
    else:
        made = "reused"
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        server = cursor.fetchone()[0].split()[0]
    results.header = [
        f"PostgreSQL {server}, Python {platform.python_version()}, {os.cpu_count()} cores; "
        f"gunicorn {results.args.workers} sync workers on 127.0.0.1, DEBUG off.",
        f"Data ({made}): {User.objects.filter(role='participant').count():,} participants, "
        f"{User.objects.filter(role='coach').count():,} coaches, "
        f"{Engagement.objects.values('program').distinct().count()} programs, "
        f"{Engagement.objects.count():,} engagements, "
        f"{CoachingSession.objects.count():,} sessions.",
    ]


def _measure(results: Results, *, parts: list[str], env: dict[str, str], database_url: str) -> None:
    if "nudges" in parts:
        _nudges(results)
    if "export" in parts:
        _export(results, env=env, database_url=database_url)
    if {"queries", "latency", "contention"} & set(parts):
        _pages(results, parts=parts, env=env)
    if "import" in parts:
        _import(results, env=env)


def _nudges(results: Results) -> None:
    from django.db import connection

    from bench.nudges import measure

    reminders = results.args.nudge_reminders
    for timing in measure(reminders=reminders):
        emails = f"{timing.emails:,} emails queued" if reminders else "reminders off"
        results.add(
            f"`run_nudges`, {timing.label}",
            f"{timing.seconds:.2f} s",
            "",
            "",
            str(timing.statements),
            f"raised {timing.run.raised:,}, resolved {timing.run.resolved:,}, "
            f"open {timing.run.open_flags:,}; {emails}",
        )
    # The pages are then measured with these flags, as autovacuum would leave them.
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE nudges_nudgeflag")


def _child(command: list[str], *, env: dict[str, str]) -> dict[str, Any]:
    done = subprocess.run(  # noqa: S603 - our own modules
        [sys.executable, "-m", *command],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        check=False,
    )
    if done.returncode:
        raise RuntimeError(f"{' '.join(command)} failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _export(results: Results, *, env: dict[str, str], database_url: str) -> None:
    base = ["bench.export_100k", "--database-url", database_url, "--json", "--phase"]
    plain = _child([*base, "export"], env=env)
    traced = _child([*base, "trace"], env=env)
    results.add(
        f"engagements CSV export, {plain['rows']:,} rows",
        f"{plain['seconds']:.2f} s",
        "",
        "",
        "",
        f"{plain['bytes'] / 2**20:.1f} MiB streamed; peak RSS {plain['rss_peak_mib']:.0f} MiB "
        f"(from {plain['rss_before_mib']:.0f} MiB before); tracemalloc peak "
        f"{traced['tracemalloc_peak_mib']:.1f} MiB",
    )


def _pages(results: Results, *, parts: list[str], env: dict[str, str]) -> None:
    from bench import pages as bench_pages

    pages = bench_pages.bench_pages()
    queries = bench_pages.queries_per_page(pages) if "queries" in parts else {}
    contest = bench_pages.contention_setup() if "contention" in parts else None
    with bench_pages.gunicorn(env=env, workers=results.args.workers) as port:
        if "latency" in parts:
            timings = bench_pages.latency(
                pages,
                port=port,
                requests=results.args.requests,
                warmup=results.args.warmup,
                env=env,
            )
        if contest is not None:
            race = bench_pages.run_client(
                "contend", {"port": port, "clients": contest.clients}, env=env
            )
    if "latency" in parts:
        _latency_rows(results, pages=pages, timings=timings, queries=queries)
    elif queries:
        for page in pages:
            results.add(page.label, "", "", "", str(queries[page.name]), "")
    if contest is not None:
        check = bench_pages.contention_check(contest)
        results.add(
            f"contended selection: {race['clients']} clients, "
            f"{len(contest.coaches)} coaches × {bench_pages.SEATS} seats",
            f"{race['median_ms']:.0f} ms",
            "",
            "",
            "",
            f"winners {race['winners']}, losers {race['losers']}, errors {race['errors']}, "
            f"other {race['other']}; {race['per_second']:.0f} selections/s "
            f"({race['seconds']:.2f} s in all); in the database: {check['selected']} selected, "
            f"busiest coach {check['max_active']}/{bench_pages.SEATS}, "
            f"{check['over_capacity']} over capacity",
        )


def _latency_rows(
    results: Results, *, pages: list[Any], timings: dict[str, Any], queries: dict[str, int]
) -> None:
    floor = timings["floor"]
    for page in pages:
        t = timings[page.name]
        ratio = (
            "1.0 / 1.0"
            if page.name == "floor"
            else f"{t['median_ms'] / floor['median_ms']:.1f} / {t['p95_ms'] / floor['p95_ms']:.1f}"
        )
        bad = t["unexpected_statuses"]
        results.add(
            page.label,
            f"{t['median_ms']:.1f} ms",
            f"{t['p95_ms']:.1f} ms",
            ratio,
            str(queries.get(page.name, "")),
            f"{t['requests']} requests, {len(page.targets)} users"
            + (f"; NOT 200: {bad}" if bad else ""),
        )


def _import(results: Results, *, env: dict[str, str]) -> None:
    from django.utils import timezone

    from bench.imports import ROWS, write_csv
    from engagements.models import Organization, Program

    today = timezone.localdate()
    run = uuid.uuid4().hex[:8]  # a database kept with --keep can take several imports
    program = Program.objects.create(
        organization=Organization.objects.create(name=f"Import benchmark {run}"),
        name="Imported pool",
        starts_on=today,
        ends_on=today + timedelta(days=180),
    )
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "coaches.csv"
        write_csv(path, run=run)
        figures = _child(["bench.imports", str(path), str(program.public_id)], env=env)
    results.add(
        f"coach import (`import_coaches`), {ROWS:,} new coaches",
        f"{figures['seconds']:.2f} s",
        "",
        "",
        "",
        f"peak RSS {figures['rss_peak_mib']:.0f} MiB (from {figures['rss_before_mib']:.0f} MiB "
        f"before); {figures['output']}",
    )
