"""Print the demo program's reports to PDF and say how many pages each takes.

`python -m bench.print_reports` creates a scratch database (coachdesk_bench_print),
seeds the demo data (`seed_demo`, then one `run_nudges` so the flags section is
filled), serves the app in a thread with the static files, and prints the staff
program report and the sponsor report with Chromium's print engine (Playwright
`page.pdf`, A4, the print style sheet's own margins). For each PDF it prints the
page count and, when poppler's `pdftotext` is installed, the first lines of every
page. The PDFs stay under test-output/print/. A measurement, not a test: nothing
here is collected by pytest or run by CI.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
from io import StringIO
from pathlib import Path

from bench.env import PREFIX, ROOT, setup_django
from bench.run import _create_database, _drop_database

CHROMIUM = "/usr/bin/chromium"
OUTPUT = ROOT / "test-output" / "print"
# Every page object of a PDF written by Chromium (Skia), never the /Pages tree nodes.
PAGE_OBJECT = re.compile(rb"/Type\s*/Page(?![s\w])")


def main(argv: list[str] | None = None) -> None:
    """Seed, serve, print both reports, report the pages; drop the database unless kept."""
    args = _parser().parse_args(argv)
    if not args.db.startswith(PREFIX):
        sys.exit(f"The database name must start with {PREFIX} (it is dropped at the end).")
    database_url = f"{args.pg_url.rstrip('/')}/{args.db}"
    if not args.reuse:
        _create_database(args.pg_url, args.db)
    try:
        setup_django(database_url=database_url, cache_url=args.cache_url)
        # Playwright's sync API runs an event loop in this thread; the ORM calls
        # here are plain synchronous ones, as in the browser journeys.
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
        if not args.reuse:
            _seed()
        OUTPUT.mkdir(parents=True, exist_ok=True)
        for name, pdf in _print_reports().items():
            path = OUTPUT / f"{name}.pdf"
            path.write_bytes(pdf)
            print(f"{name}: {page_count(pdf)} pages ({path.relative_to(ROOT)})")
            for number, text in enumerate(_page_texts(path), start=1):
                print(f"  page {number}: {text}")
    finally:
        if not args.reuse and not args.keep:
            from django.db import connections

            connections.close_all()
            _drop_database(args.pg_url, args.db)


def page_count(pdf: bytes) -> int:
    """The number of pages in a PDF that Chromium printed."""
    return len(PAGE_OBJECT.findall(pdf))


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench.print_reports", description=__doc__)
    parser.add_argument("--db", default=f"{PREFIX}print", help="database name (coachdesk_bench_*)")
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
    parser.add_argument("--reuse", action="store_true", help="print from an existing --db (kept)")
    parser.add_argument("--keep", action="store_true", help="do not drop the database at the end")
    return parser


def _seed() -> None:
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    call_command("seed_demo", stdout=StringIO())
    call_command("run_nudges", "--force", stdout=StringIO())


def _print_reports() -> dict[str, bytes]:
    """The staff and the sponsor report of the demo program, printed to PDF."""
    from django.contrib.staticfiles.handlers import StaticFilesHandler
    from django.test.testcases import LiveServerThread
    from playwright.sync_api import sync_playwright

    from accounts.models import User
    from bench.pages import cookie_pairs, signed_in_cookie
    from engagements.management.commands.seed_demo import (
        PROGRAM_NAME,
        SPONSOR_EMAIL,
        STAFF_EMAIL,
    )
    from engagements.models import Program

    program = Program.objects.get(name=PROGRAM_NAME)
    targets = {
        "staff-report": (STAFF_EMAIL, f"/ops/programs/{program.public_id}/report/"),
        "sponsor-report": (SPONSOR_EMAIL, f"/sponsor/programs/{program.public_id}/"),
    }
    server = LiveServerThread("127.0.0.1", StaticFilesHandler)
    server.daemon = True
    server.start()
    server.is_ready.wait()
    if server.error:
        raise server.error
    base = f"http://127.0.0.1:{server.port}"
    pdfs: dict[str, bytes] = {}
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
            for name, (email, path) in targets.items():
                cookies = cookie_pairs(signed_in_cookie(User.objects.get(email=email)))
                context = browser.new_context()
                context.add_cookies(
                    [{"name": n, "value": v, "url": base} for n, v in cookies.items()]
                )
                page = context.new_page()
                response = page.goto(base + path)
                if response is None or response.status != 200:
                    raise RuntimeError(f"{path} did not answer 200")
                pdfs[name] = page.pdf(format="A4", prefer_css_page_size=True)
                context.close()
            browser.close()
    finally:
        server.terminate()
    return pdfs


def _page_texts(path: Path) -> list[str]:
    """A one-line summary of each page's text (needs poppler's pdftotext), else nothing."""
    pdftotext = shutil.which("pdftotext")
    if not pdftotext:
        return []
    text = subprocess.run(  # noqa: S603 - a fixed local tool on our own file
        [pdftotext, "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    pages = text.split("\f")
    if pages and not pages[-1].strip():
        pages.pop()
    summaries = []
    for page in pages:
        lines = [" ".join(line.split()) for line in page.splitlines() if line.strip()]
        summaries.append(f"{len(lines)} lines: " + " | ".join(lines[:6])[:300])
    return summaries


if __name__ == "__main__":
    main()
