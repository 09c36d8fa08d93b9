"""Sign-in on launch day, measured against gunicorn on PostgreSQL and Redis.

    python -m bench.signin timing   # POST /login/: known vs unknown addresses
    python -m bench.signin launch   # 400 sign-ins from one address, through the worker

Both create a fresh database (coachdesk_bench_signin), migrate it, start
gunicorn (DEBUG off, 4 sync workers, plain HTTP on 127.0.0.1), print their
figures and drop the database. BENCH_PG_URL and BENCH_CACHE_URL as for `make
bench` (the Redis db is flushed first). Not collected by pytest.

timing: 30 addresses with an active account and 30 without, in a shuffled
order, 3 timed POST /login/ each (each after an untimed GET for the CSRF token,
each on a fresh connection from a fresh browser). Per address the fastest and
the median of its 3; then the best single threshold on the fastest-of-3
(either direction) and how many of the 60 it classifies correctly. No worker
runs meanwhile: the request only queues, the worker's work is elsewhere.

launch: 400 participants, all requests from 127.0.0.1 (one office address),
20 at a time: GET /login/, POST the address, wait for the email in the mail
sink (EMAIL_URL=filemail://, written by 2 `db_worker` processes), POST the code
and expect the redirect home. Prints the total time and the spread per person.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from bench.client import TOKEN, request
from bench.env import ROOT, bench_env, database_drop, database_recreate, setup_django

DB_NAME = "coachdesk_bench_signin"
CODE = re.compile(r"sign-in code is:\s+(\d{6})")
TO = re.compile(r"^To: (\S+)$", re.MULTILINE)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.signin", description=__doc__)
    parser.add_argument("mode", choices=["timing", "launch"])
    parser.add_argument("--people", type=int, default=400, help="launch: how many sign in")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn sync workers")
    parser.add_argument(
        "--control",
        action="store_true",
        help="timing: create no accounts, so both groups are unknown addresses (what chance "
        "looks like for the same classifier)",
    )
    args = parser.parse_args(argv)
    pg_url = os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432").rstrip("/")
    cache_url = os.environ.get("BENCH_CACHE_URL", "redis://127.0.0.1:6379/12")
    database_url = f"{pg_url}/{DB_NAME}"
    sink = Path(tempfile.mkdtemp(prefix="coachdesk-mail-"))
    env = bench_env(database_url=database_url, cache_url=cache_url)
    env["EMAIL_URL"] = f"filemail://{sink}"
    database_recreate(pg_url, DB_NAME)
    try:
        subprocess.run(  # noqa: S603 - our own command
            [sys.executable, "manage.py", "migrate", "-v", "0"], cwd=ROOT, env=env, check=True
        )
        os.environ["EMAIL_URL"] = env["EMAIL_URL"]
        setup_django(database_url=database_url, cache_url=cache_url)
        from django.core.cache import cache

        cache.clear()
        if args.mode == "timing":
            timing(env=env, workers=args.workers, control=args.control)
        else:
            launch(env=env, workers=args.workers, people=args.people, sink=sink)
    finally:
        from django.db import connections

        connections.close_all()
        database_drop(pg_url, DB_NAME)


def _users(emails: list[str]) -> None:
    from accounts.models import Role, User

    # "!" is Django's unusable password: nobody has one (sign-in is by code).
    unusable = "!"
    User.objects.bulk_create(
        User(email=email, full_name=f"Person {n}", role=Role.PARTICIPANT, password=unusable)
        for n, email in enumerate(emails)
    )


class Browser:
    """One person's cookies, over fresh connections (gunicorn's sync workers close them)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.cookies: dict[str, str] = {}

    def send(self, method: str, path: str, data: dict[str, str] | None = None) -> Any:
        cookie = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = urlencode(data) if data is not None else None
        status, headers, content, seconds = request(
            self.port, method, path, cookie=cookie, body=body
        )
        for header in headers.get("set-cookie", []):
            name, _, rest = header.partition("=")
            self.cookies[name.strip()] = rest.split(";", 1)[0]
        return status, headers, content, seconds

    def post_form(self, path: str, data: dict[str, str]) -> tuple[int, dict[str, Any], float]:
        """GET the page for its CSRF token (untimed), then POST the form (timed)."""
        _, _, page, _ = self.send("GET", path)
        match = TOKEN.search(page.decode())
        if match is None:
            raise RuntimeError(f"no CSRF token on {path}")
        status, headers, _, seconds = self.send(
            "POST", path, {"csrfmiddlewaretoken": match.group(1), **data}
        )
        return status, headers, seconds


def timing(*, env: dict[str, str], workers: int, control: bool) -> None:
    from bench.pages import gunicorn  # imports models: only after django.setup()

    known = [f"known{n}@bench.example" for n in range(30)]
    unknown = [f"unknown{n}@bench.example" for n in range(30)]
    if not control:
        _users(known)
    samples: dict[str, list[float]] = {email: [] for email in known + unknown}
    with gunicorn(env=env, workers=workers) as port:
        for email in random.sample(known + unknown, 60):  # warm-up, untimed
            Browser(port).post_form("/login/", {"email": email.replace("@", "-warm@")})
        for _round in range(3):
            for email in random.sample(known + unknown, 60):
                status, _, seconds = Browser(port).post_form("/login/", {"email": email})
                if status != 302:
                    raise RuntimeError(f"POST /login/ answered {status}")
                samples[email].append(seconds * 1000)
    fastest = {email: min(times) for email, times in samples.items()}
    median = {email: statistics.median(times) for email, times in samples.items()}
    correct, cut = _best_threshold(fastest, set(known))
    print(f"POST /login/ against gunicorn ({workers} sync workers, DEBUG off), PostgreSQL, Redis")
    print()
    print("| addresses | median of medians | median of fastest-of-3 | fastest | slowest |")
    print("| --- | ---: | ---: | ---: | ---: |")
    first = "30 more without (control)" if control else "30 with an account"
    for label, group in ((first, known), ("30 without", unknown)):
        print(
            f"| {label} | {statistics.median(median[e] for e in group):.1f} ms "
            f"| {statistics.median(fastest[e] for e in group):.1f} ms "
            f"| {min(fastest[e] for e in group):.1f} ms "
            f"| {max(fastest[e] for e in group):.1f} ms |"
        )
    print()
    print(
        f"Best threshold on fastest-of-3 ({cut:.2f} ms): {correct} of 60 correct "
        f"({correct / 60:.0%}); leave-one-out: {_leave_one_out(fastest, set(known))} of 60 "
        "(50% is chance)."
    )


def _best_threshold(times: dict[str, float], positives: set[str]) -> tuple[int, float]:
    """The cut that classifies the most addresses right, "slower means known" or the reverse."""
    ordered = sorted(times.values())
    cuts = [ordered[0] - 1] + [(a + b) / 2 for a, b in zip(ordered, ordered[1:], strict=False)]
    best = (0, 0.0)
    for cut in cuts:
        slower = sum((t > cut) == (e in positives) for e, t in times.items())
        best = max(best, (max(slower, len(times) - slower), cut))
    return best


def _leave_one_out(times: dict[str, float], positives: set[str]) -> int:
    """Right answers when each address is judged by a threshold learnt on the other 59."""
    right = 0
    for email, value in times.items():
        rest = {e: t for e, t in times.items() if e != email}
        _, cut = _best_threshold(rest, positives)
        slower_is_known = sum((t > cut) == (e in positives) for e, t in rest.items()) * 2 >= len(
            rest
        )
        guess_known = (value > cut) == slower_is_known
        right += guess_known == (email in positives)
    return right


def launch(*, env: dict[str, str], workers: int, people: int, sink: Path) -> None:
    from bench.pages import gunicorn  # imports models: only after django.setup()

    emails = [f"employee{n}@northwind.example" for n in range(people)]
    _users(emails)
    codes: dict[str, str] = {}
    sizes: dict[Path, int] = {}
    lock = threading.Lock()

    def read_sink() -> None:
        with lock:
            for path in sink.iterdir():
                # A file grows while its worker writes it, and two workers may
                # append to the same name (the same second and backend id):
                # read it again whenever its size has changed.
                size = path.stat().st_size
                if sizes.get(path) == size:
                    continue
                sizes[path] = size
                for part in path.read_text(errors="replace").split("-" * 79):
                    to, code = TO.search(part), CODE.search(part)
                    if to and code:
                        codes[to.group(1)] = code.group(1)

    def sign_in(email: str) -> tuple[bool, float]:
        started = time.perf_counter()
        browser = Browser(port)
        status, _, _ = browser.post_form("/login/", {"email": email})
        if status != 302:
            return False, time.perf_counter() - started
        deadline = time.monotonic() + 120
        while email not in codes and time.monotonic() < deadline:
            time.sleep(0.05)
            read_sink()
        if email not in codes:
            return False, time.perf_counter() - started
        status, headers, _ = browser.post_form("/login/code/", {"code": codes[email]})
        ok = status == 302 and headers.get("location") == ["/"]
        return ok, time.perf_counter() - started

    worker_command = [sys.executable, "manage.py", "db_worker", "--interval", "0.1"]
    worker_command += ["--no-startup-delay", "--no-reload", "-v", "0"]
    task_workers = [
        subprocess.Popen(worker_command, cwd=ROOT, env=env)  # noqa: S603 - our own command
        for _ in range(2)
    ]
    try:
        with gunicorn(env=env, workers=workers) as port:
            started = time.perf_counter()
            with ThreadPoolExecutor(max_workers=20) as pool:
                results = list(pool.map(sign_in, emails))
            total = time.perf_counter() - started
    finally:
        for process in task_workers:
            process.terminate()
        for process in task_workers:
            process.wait(timeout=30)
    ok = [seconds for success, seconds in results if success]
    print(
        f"Launch: {people} sign-ins from one client address, 20 at a time; gunicorn "
        f"({workers} sync workers), 2 db_worker processes, PostgreSQL, Redis, filemail sink"
    )
    print()
    print("| signed in | refused or failed | total | per person: median | p95 | slowest |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: |")
    ordered = sorted(ok) or [0.0]
    p95 = ordered[max(0, int(len(ordered) * 0.95) - 1)]
    print(
        f"| {len(ok)} | {people - len(ok)} | {total:.1f} s | {statistics.median(ordered):.2f} s "
        f"| {p95:.2f} s | {ordered[-1]:.2f} s |"
    )


if __name__ == "__main__":
    main()
