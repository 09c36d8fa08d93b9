"""Coach import through `manage.py import_coaches`, in a child process.

    python -m bench.imports <file.csv> <program public id> [--row-by-row]

prints one JSON object: seconds, SQL statements, the rows' outcome, the
process's RSS before the import and its high-water mark (resource.getrusage),
so the peak is the import's own and not the benchmark harness's. With
--row-by-row the same resource runs in django-import-export's default mode
instead: no bulk writes, a savepoint and the writes of each row as it is read,
the diff of each row computed.
"""

from __future__ import annotations

import csv
import json
import resource
import sys
import time
from io import StringIO
from pathlib import Path
from typing import Any

ROWS = 50_000
COMPARED_ROWS = 2_000  # the row-by-row mode takes 10-35 ms a row


def write_csv(path: Path, *, run: str, rows: int = ROWS) -> None:
    """New coaches (emails unique to `run`), every column filled, a new specialty
    on every tenth row."""
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(
            ["email", "full_name", "headline", "bio", "capacity", "booking_url", "time_zone"]
            + ["languages", "specialties", "accepting_new"]
        )
        for n in range(rows):
            writer.writerow(
                [
                    f"imported{n}.{run}@import.example",
                    f"Imported Coach {n}",
                    "Executive coach, 12 years",
                    "Former engineering director; coaches new managers. " * 4,
                    8 + n % 5,
                    f"https://cal.example.com/imported-{n}",
                    ("Europe/Paris", "America/New_York", "Asia/Tokyo")[n % 3],
                    ("en;fr", "de", "en;es;it")[n % 3],
                    "Leadership;Resilience" + (f";Niche topic {n % 50}" if n % 10 == 0 else ""),
                    "yes" if n % 7 else "no",
                ]
            )


def _row_by_row(path: str, program_id: str) -> str:
    from import_export.formats.base_formats import CSV

    from engagements.coach_imports import coaches_import
    from engagements.coach_resources import CoachImportResource
    from engagements.models import Program

    class RowByRow(CoachImportResource):
        class Meta(CoachImportResource.Meta):
            use_bulk = False
            skip_diff = False

        def save_instance(self, *args: Any, **kwargs: Any) -> None:
            super().save_instance(*args, **kwargs)
            rows, self.pending = self.pending, []
            coaches_import(rows=rows, program=self.program)

    dataset = CSV().create_dataset(Path(path).read_text(encoding="utf-8-sig"))
    result = RowByRow(program=Program.objects.get(public_id=program_id)).import_data(dataset)
    return f"{result.total_rows} rows, {result.totals['new']} new (row by row)"


def main() -> None:
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from bench.env import current_rss_kib

    path, program = sys.argv[1], sys.argv[2]
    connection.ensure_connection()
    baseline_kib = current_rss_kib()
    out = StringIO()
    started = time.perf_counter()
    statements = 0

    def count(execute: Any, *args: Any) -> Any:  # counts, keeping no SQL text in memory
        nonlocal statements
        statements += 1
        return execute(*args)

    with connection.execute_wrapper(count):
        if "--row-by-row" in sys.argv:
            output = _row_by_row(path, program)
        else:
            call_command("import_coaches", path, "--program", program, stdout=out)
            output = out.getvalue().strip().splitlines()[0]
    seconds = time.perf_counter() - started
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    figures = {
        "seconds": seconds,
        "statements": statements,
        "output": output,
        "rss_before_mib": baseline_kib / 1024,
        "rss_peak_mib": peak_kib / 1024,
    }
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
