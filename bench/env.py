"""The environment every benchmark process shares: production-like settings on loopback."""

from __future__ import annotations

import os
import secrets
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PREFIX = "coachdesk_bench_"


def bench_env(*, database_url: str, cache_url: str) -> dict[str, str]:
    """DEBUG off, plain HTTP on 127.0.0.1, emails discarded, no collectstatic needed.

    One random secret per benchmark run, passed down to every child process, so
    that sessions signed in by the bench process are accepted by the gunicorn
    workers (the session auth hash is keyed with it).
    """
    env = {k: v for k, v in os.environ.items() if k != "DEBUG"}
    env.setdefault("BENCH_SECRET_KEY", secrets.token_urlsafe(50))
    env.update(
        DATABASE_URL=database_url,
        CACHE_URL=cache_url,
        SECRET_KEY=env["BENCH_SECRET_KEY"],
        EMAIL_URL="dummymail://",
        ALLOWED_HOSTS="127.0.0.1,testserver",
        SECURE_SSL_REDIRECT="false",
        STATIC_MANIFEST="false",
        LOG_LEVEL="ERROR",
        # The per-coach webhook limit still counts every delivery, but never refuses
        # the bench's hundreds a minute: the work is measured, not the 429s.
        BOOKING_HOOK_RATE="1000000/m",
        DJANGO_SETTINGS_MODULE="bench.settings",
        PYTHONPATH=str(ROOT),
    )
    return env


def setup_django(*, database_url: str, cache_url: str) -> None:
    """Configure this process with bench_env() and start Django."""
    os.environ.update(bench_env(database_url=database_url, cache_url=cache_url))
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def current_rss_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def admin_connection(pg_url: str) -> Any:
    """An autocommit connection to the server's `postgres` database (CREATE/DROP DATABASE)."""
    import psycopg

    return psycopg.connect(f"{pg_url.rstrip('/')}/postgres", autocommit=True)


def database_recreate(pg_url: str, name: str) -> None:
    """A new, empty database `name` (any old one is dropped first)."""
    with admin_connection(pg_url) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def database_drop(pg_url: str, name: str) -> None:
    with admin_connection(pg_url) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
