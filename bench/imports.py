"""Coach import of 5,000 rows through `manage.py import_coaches`, in a child process.

    python -m bench.imports <file.csv> <program public id>

prints one JSON object: seconds, the rows' outcome, the process's RSS before the
import and its high-water mark (resource.getrusage), so the peak is the
import's own and not the benchmark harness's.
"""

from __future__ import annotations

import csv
import json
import resource
import sys
import time
from io import StringIO
from pathlib import Path

ROWS = 5_000


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
    call_command("import_coaches", path, "--program", program, stdout=out)
    seconds = time.perf_counter() - started
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    figures = {
        "seconds": seconds,
        "output": out.getvalue().strip().splitlines()[0],
        "rss_before_mib": baseline_kib / 1024,
        "rss_peak_mib": peak_kib / 1024,
    }
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
