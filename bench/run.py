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
from typing import Any, cast

from bench.env import PREFIX, ROOT, admin_connection, bench_env, database_drop, setup_django

PARTS = ("nudges", "export", "queries", "latency", "throughput", "contention", "import")
SCALES = (1_000, 10_000, 100_000)
FLAT_GOAL = 1.2  # 1k -> 100k participants, every page
NUDGES_PER_PROGRAM_GOAL = 2.0  # next-day run per program, 100k over 10k


def main(argv: list[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    if not args.db.startswith(PREFIX):
        sys.exit(f"The database name must start with {PREFIX} (it is dropped at the end).")
    parts = args.only.split(",") if args.only else list(PARTS)
    unknown = set(parts) - set(PARTS)
    if unknown:
        sys.exit(f"Unknown part(s) {', '.join(sorted(unknown))}; choose from {', '.join(PARTS)}.")
    smaller: dict[int, dict[str, Any]] = {}
    if args.scale:
        # The smaller data sets first, each in a child process with its own database.
        for n in SCALES[:-1]:
            smaller[n] = _scale_child(args, participants=n)
        args.participants = SCALES[-1]
    results = _measure_dataset(args, parts=parts)
    print(results.table())
    if args.scale:
        print(_scale_table({**smaller, SCALES[-1]: results.figures}))
    if args.figures_out:
        Path(args.figures_out).write_text(json.dumps(results.figures))


def _measure_dataset(args: argparse.Namespace, *, parts: list[str]) -> Results:
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
        return results
    finally:
        if created and not args.keep:
            from django.db import connections

            connections.close_all()
            _drop_database(args.pg_url, args.db)
        elif created:
            print(f"Kept {args.db}; measure again with --db {args.db} --reuse --only <parts>.")


def _scale_child(args: argparse.Namespace, *, participants: int) -> dict[str, Any]:
    """Pages and run_nudges on a smaller data set, in a child process: its figures."""
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "figures.json"
        command = [sys.executable, "-m", "bench", "--db", f"{args.db}_{participants // 1000}k"]
        command += ["--participants", str(participants), "--only", "nudges,latency"]
        command += ["--requests", str(args.requests), "--warmup", str(args.warmup)]
        command += ["--pg-url", args.pg_url, "--cache-url", args.cache_url]
        command += ["--figures-out", str(out)]
        subprocess.run(command, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)  # noqa: S603
        return cast(dict[str, Any], json.loads(out.read_text()))


def _scale_table(figures: dict[int, dict[str, Any]]) -> str:
    """Each page's median at 1k, 10k and 100k participants, and run_nudges per program."""
    large = SCALES[-1]
    lines = ["", f"Flat with data size (goal: 100k / 1k at most {FLAT_GOAL})", ""]
    lines.append(
        "| page | " + " | ".join(f"{n // 1000}k" for n in SCALES) + " | 100k / 1k | goal |"
    )
    lines.append("| --- |" + " ---: |" * len(SCALES) + " ---: | --- |")
    for name, label in figures[large]["labels"].items():
        medians = [figures[n]["medians"].get(name) for n in SCALES]
        if None in medians:
            continue
        ratio = medians[-1] / medians[0]
        cells = [f"{m:.1f} ms" for m in medians]
        lines.append(
            f"| {label} | "
            + " | ".join(cells)
            + f" | {ratio:.2f} | {_verdict(ratio <= FLAT_GOAL)} |"
        )
    per_program: dict[int, float] = {
        n: float(figures[n].get("nudges_next_day_per_program") or 0) for n in SCALES
    }
    if per_program[SCALES[1]] and per_program[large]:
        ratio = per_program[large] / per_program[SCALES[1]]
        verdict = _verdict(ratio <= NUDGES_PER_PROGRAM_GOAL)
        timings = " | ".join(f"{per_program[n] * 1000:.0f} ms" for n in SCALES)
        lines.append(
            f"| `run_nudges` next day, per program | {timings} | 100k / 10k: {ratio:.2f} "
            f"| ≤ {NUDGES_PER_PROGRAM_GOAL}: {verdict} |"
        )
    return "\n".join(lines)


def _verdict(met: bool) -> str:
    return "met" if met else "**missed**"


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
    parser.add_argument(
        "--participants", type=int, default=100_000, help="data set size (programs of 2,000)"
    )
    parser.add_argument(
        "--scale",
        action="store_true",
        help="also measure pages and run_nudges on 1k and 10k data sets; print the ratios",
    )
    parser.add_argument("--concurrency", type=int, default=8, help="throughput: requests in flight")
    parser.add_argument("--seconds", type=float, default=10, help="throughput: seconds per page")
    parser.add_argument("--figures-out", help=argparse.SUPPRESS)
    parser.add_argument("--requests", type=int, default=500, help="timed requests per page")
    parser.add_argument("--warmup", type=int, default=20, help="untimed requests per page first")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn sync workers")
    parser.add_argument(
        "--nudge-reminders",
        action="store_true",
        help="nudges part: reminders on, emails rendered and queued, not sent (default: off)",
    )
    return parser


def _create_database(pg_url: str, name: str) -> None:
    with admin_connection(pg_url) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            sys.exit(
                f"{name} exists: drop it (dropdb {name}) or measure it again with "
                f"--db {name} --reuse."
            )
        conn.execute(f'CREATE DATABASE "{name}"')


def _drop_database(pg_url: str, name: str) -> None:
    database_drop(pg_url, name)
    print(f"Dropped {name}.")


class Results:
    """What was measured, and the one table that shows it."""

    def __init__(self, *, args: argparse.Namespace) -> None:
        self.args = args
        self.rows: list[tuple[str, ...]] = []
        self.header: list[str] = []
        # Machine-readable figures, for the --scale table.
        self.figures: dict[str, Any] = {"medians": {}, "labels": {}}

    def add(self, *cells: str) -> None:
        """benchmark, median, p95, × anonymous, × bare, goal, SQL, notes."""
        self.rows.append(cells)
        print(" | ".join(cells), file=sys.stderr, flush=True)

    def table(self) -> str:
        lines = ["", *self.header, ""]
        lines.append(
            "| benchmark | median | p95 | × anonymous | × bare signed-in | goal | SQL | notes |"
        )
        lines.append("| --- | ---: | ---: | ---: | ---: | --- | ---: | --- |")
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
        generated = generate_data(results.args.participants)
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
    from engagements.models import Program

    reminders = results.args.nudge_reminders
    programs = Program.objects.count()
    for timing in measure(reminders=reminders):
        emails = f"{timing.emails:,} emails queued" if reminders else "reminders off"
        per_program = timing.seconds / programs
        results.add(
            f"`run_nudges`, {timing.label}",
            f"{timing.seconds:.2f} s",
            "",
            "",
            "",
            "flat per program (see the scale table)",
            str(timing.statements),
            f"{per_program * 1000:.0f} ms and {timing.statements / programs:.1f} statements "
            f"per program ({programs}); raised {timing.run.raised:,}, resolved "
            f"{timing.run.resolved:,}, open {timing.run.open_flags:,}; {emails}",
        )
        if timing.label == "next day":
            results.figures["nudges_next_day_per_program"] = per_program
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
        "",
        "",
        f"{plain['bytes'] / 2**20:.1f} MiB streamed; peak RSS {plain['rss_peak_mib']:.0f} MiB "
        f"(from {plain['rss_before_mib']:.0f} MiB before); tracemalloc peak "
        f"{traced['tracemalloc_peak_mib']:.1f} MiB",
    )


def _pages(results: Results, *, parts: list[str], env: dict[str, str]) -> None:
    from bench import pages as bench_pages

    args = results.args
    pages = [*bench_pages.bench_pages(), bench_pages.webhook_page(args.warmup + args.requests)]
    queries = bench_pages.queries_per_page(pages) if "queries" in parts else {}
    contest = bench_pages.contention_setup() if "contention" in parts else None
    timings: dict[str, Any] = {}
    rates: dict[str, Any] = {}
    with bench_pages.gunicorn(env=env, workers=results.args.workers) as port:
        if "latency" in parts:
            timings = bench_pages.latency(
                pages,
                port=port,
                requests=results.args.requests,
                warmup=results.args.warmup,
                env=env,
            )
        if "throughput" in parts:
            spec = {
                "port": port,
                "concurrency": results.args.concurrency,
                "seconds": results.args.seconds,
                "pages": [
                    {"name": p.name, "targets": p.targets}
                    for p in pages
                    if p.name in ("floor", "bare", "home")
                ],
            }
            rates = bench_pages.run_client("throughput", spec, env=env)
        if contest is not None:
            race = bench_pages.run_client(
                "contend", {"port": port, "clients": contest.clients}, env=env
            )
    if timings:
        _latency_rows(results, pages=pages, timings=timings, queries=queries)
    elif queries:
        for page in pages:
            results.add(page.label, "", "", "", "", "", str(queries[page.name]), "")
    if rates:
        _throughput_row(results, rates)
    if contest is not None:
        check = bench_pages.contention_check(contest)
        results.add(
            f"contended selection: {race['clients']} clients, "
            f"{len(contest.coaches)} coaches × {bench_pages.SEATS} seats",
            f"{race['median_ms']:.0f} ms",
            "",
            "",
            "",
            "nobody over capacity",
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
    from bench.pages import BARE_OVER_ANONYMOUS_GOAL

    floor, bare = timings["floor"], timings.get("bare")
    for page in pages:
        t = timings[page.name]
        anonymous = f"{t['median_ms'] / floor['median_ms']:.1f}"
        over_bare = f"{t['median_ms'] / bare['median_ms']:.1f}" if bare else ""
        goal = ""
        if page.name == "bare":
            ratio = t["median_ms"] / floor["median_ms"]
            met = _verdict(ratio <= BARE_OVER_ANONYMOUS_GOAL)
            goal = f"≤ {BARE_OVER_ANONYMOUS_GOAL}× anonymous: {met}"
        elif page.goal is not None and bare:
            ratio = t["median_ms"] / bare["median_ms"]
            goal = f"≤ {page.goal:g}× bare: {_verdict(ratio <= page.goal)}"
        bad = t["unexpected_statuses"]
        results.add(
            page.label,
            f"{t['median_ms']:.1f} ms",
            f"{t['p95_ms']:.1f} ms",
            anonymous,
            over_bare,
            goal,
            str(queries.get(page.name, "")),
            f"{t['requests']} requests, {_who(page)}" + (f"; NOT 200: {bad}" if bad else ""),
        )
        results.figures["medians"][page.name] = t["median_ms"]
        results.figures["labels"][page.name] = page.label


def _who(page: Any) -> str:
    if page.posts:
        return f"{len({path for path, _, _ in page.posts})} coaches' endpoints, each delivery new"
    return f"{len(page.targets)} users"


def _throughput_row(results: Results, rates: dict[str, Any]) -> None:
    home, bare, floor = rates["home"], rates["bare"], rates["floor"]
    ratio = home["per_second"] / bare["per_second"]
    failed = sum(r["not_200"] for r in rates.values())
    results.add(
        f"throughput at concurrency {results.args.concurrency}: participant home",
        f"{home['per_second']:.0f} req/s",
        "",
        f"{home['per_second'] / floor['per_second']:.2f}",
        f"{ratio:.2f}",
        f"≥ 0.5× bare: {_verdict(ratio >= 0.5)}",
        "",
        f"bare signed-in view {bare['per_second']:.0f} req/s, anonymous landing "
        f"{floor['per_second']:.0f} req/s; {results.args.seconds:g} s per page"
        + (f"; {failed} not 200" if failed else ""),
    )


def _import(results: Results, *, env: dict[str, str]) -> None:
    """import_coaches on 50,000 and 2,000 rows; django-import-export row by row on 2,000."""
    from bench.imports import COMPARED_ROWS, ROWS

    ours = _timed_import(env, rows=ROWS)
    small = _timed_import(env, rows=COMPARED_ROWS)
    row_by_row = _timed_import(env, rows=COMPARED_ROWS, row_by_row=True)
    per_row = ours["seconds"] / ROWS / (small["seconds"] / COMPARED_ROWS)
    faster = row_by_row["seconds"] / small["seconds"]
    results.add(
        f"coach import (`import_coaches`), {ROWS:,} new coaches",
        f"{ours['seconds']:.2f} s",
        "",
        "",
        "",
        f"peak < 150 MiB: {_verdict(ours['rss_peak_mib'] < 150)}; linear: "
        f"{_verdict(per_row <= FLAT_GOAL)}",
        str(ours["statements"]),
        f"peak RSS {ours['rss_peak_mib']:.0f} MiB (from {ours['rss_before_mib']:.0f} MiB "
        f"before); per row {per_row:.2f}× the {COMPARED_ROWS:,}-row import's; {ours['output']}",
    )
    results.add(
        f"coach import, {COMPARED_ROWS:,} rows: ours against django-import-export row by row",
        f"{small['seconds']:.2f} s",
        "",
        "",
        "",
        f"≥ 10× faster: {_verdict(faster >= 10)}",
        f"{small['statements']} / {row_by_row['statements']}",
        f"row by row {row_by_row['seconds']:.2f} s: ours is {faster:.1f}× faster; "
        f"peak RSS {small['rss_peak_mib']:.0f} / {row_by_row['rss_peak_mib']:.0f} MiB",
    )


def _timed_import(env: dict[str, str], *, rows: int, row_by_row: bool = False) -> dict[str, Any]:
    """One import of `rows` new coaches into a new program, in a child process."""
    from django.utils import timezone

    from bench.imports import write_csv
    from engagements.models import Organization, Program

    today = timezone.localdate()
    run = uuid.uuid4().hex[:8]  # new emails each time: every row creates a coach
    program = Program.objects.create(
        organization=Organization.objects.create(name=f"Import benchmark {run}"),
        name="Imported pool",
        starts_on=today,
        ends_on=today + timedelta(days=180),
    )
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "coaches.csv"
        write_csv(path, run=run, rows=rows)
        command = ["bench.imports", str(path), str(program.public_id)]
        return _child([*command, "--row-by-row"] if row_by_row else command, env=env)
