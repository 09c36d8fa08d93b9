"""Booking webhooks: signed deliveries per second on PostgreSQL.

    python -m bench.bookings [--bookings 100] [--coaches 10]

Creates a fresh database (coachdesk_bench_bookings), migrates it, and sends every
delivery through Django's test client in this one process, one at a time (the
whole middleware stack, signature check, rate limit in Redis, the coach's row
lock and the writes): for each booking a create, a reschedule (Calendly: the
cancel and the create that link old and new; Cal.com: BOOKING_RESCHEDULED) and a
cancel, alternating providers, across the coaches. Prints deliveries per second
and the median and p95 of one delivery, then drops the database. BENCH_PG_URL and
BENCH_CACHE_URL as for `make bench`. Sequential on purpose: light on a shared CPU.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from bench.env import ROOT, bench_env, database_drop, database_recreate, setup_django

DB_NAME = "coachdesk_bench_bookings"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.bookings", description=__doc__)
    parser.add_argument("--bookings", type=int, default=100)
    parser.add_argument("--coaches", type=int, default=10)
    args = parser.parse_args(argv)
    pg_url = os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432").rstrip("/")
    cache_url = os.environ.get("BENCH_CACHE_URL", "redis://127.0.0.1:6379/12")
    database_url = f"{pg_url}/{DB_NAME}"
    env = bench_env(database_url=database_url, cache_url=cache_url)
    env["BOOKING_HOOK_RATE"] = "1000000/m"  # measure the work, not the limiter's refusals
    database_recreate(pg_url, DB_NAME)
    try:
        subprocess.run(  # noqa: S603 - our own command
            [sys.executable, "manage.py", "migrate", "-v", "0"], cwd=ROOT, env=env, check=True
        )
        os.environ["BOOKING_HOOK_RATE"] = env["BOOKING_HOOK_RATE"]
        setup_django(database_url=database_url, cache_url=cache_url)
        from django.core.cache import cache

        cache.clear()
        run(bookings=args.bookings, coaches=args.coaches)
    finally:
        from django.db import connections

        connections.close_all()
        database_drop(pg_url, DB_NAME)


def _world(coaches: int) -> list[tuple[Any, str]]:
    """`coaches` coaches, each with an endpoint and one participant in progress."""
    from datetime import date

    from accounts.models import Role, User
    from coaches.models import CoachProfile
    from engagements.models import Engagement, Organization, Program
    from scheduling.services import booking_endpoint_of

    org = Organization.objects.create(name="Bench bookings")
    program = Program.objects.create(
        organization=org, name="P", starts_on=date(2026, 1, 1), ends_on=date(2027, 1, 1)
    )
    world = []
    for n in range(coaches):
        user = User.objects.create_user(email=f"coach{n}@bench.example", role=Role.COACH)
        coach = CoachProfile.objects.create(user=user, time_zone="Europe/Paris")
        person = User.objects.create_user(email=f"p{n}@bench.example", full_name=f"P {n}")
        engagement = Engagement.objects.create(participant=person, program=program)
        engagement.transition_to("coach_selected", changes={"coach": coach})
        world.append((booking_endpoint_of(coach), person.email))
    return world


def _deliveries(n: int, endpoint: Any, email: str) -> list[tuple[str, Any, dict[str, Any]]]:
    from scheduling.samples import calcom, calendly, invitee_uri

    start = datetime(2026, 12, 10, 9, tzinfo=UTC) + timedelta(hours=n)
    moved = start + timedelta(days=1)
    if n % 2:
        old, new = f"bench-{n}-a", f"bench-{n}-b"
        return [
            ("calcom", endpoint, calcom("BOOKING_CREATED", uid=old, start=start, email=email)),
            (
                "calcom",
                endpoint,
                calcom(
                    "BOOKING_RESCHEDULED", uid=new, start=moved, email=email, reschedule_uid=old
                ),
            ),
            ("calcom", endpoint, calcom("BOOKING_CANCELLED", uid=new, start=moved, email=email)),
        ]
    old, new = invitee_uri(2 * n), invitee_uri(2 * n + 1)
    return [
        ("calendly", endpoint, calendly("invitee.created", invitee=old, start=start, email=email)),
        (
            "calendly",
            endpoint,
            calendly(
                "invitee.canceled",
                invitee=old,
                start=start,
                email=email,
                rescheduled=True,
                new_invitee=new,
            ),
        ),
        (
            "calendly",
            endpoint,
            calendly("invitee.created", invitee=new, start=moved, email=email, old_invitee=old),
        ),
        ("calendly", endpoint, calendly("invitee.canceled", invitee=new, start=moved, email=email)),
    ]


def run(*, bookings: int, coaches: int) -> None:
    from django.test import Client
    from django.urls import reverse

    from scheduling.models import ScheduledSession, SessionStatus
    from scheduling.samples import body_of, signed_headers

    world = _world(coaches)
    plan = [d for n in range(bookings) for d in _deliveries(n, *world[n % coaches])]
    client = Client()
    timings = []
    began = time.perf_counter()
    for provider, endpoint, data in plan:
        body = body_of(data)
        headers = signed_headers(provider, body, secret=endpoint.signing_secret)
        path = reverse(f"scheduling:{provider}_hook", kwargs={"token": endpoint.token})
        t0 = time.perf_counter()
        response = client.post(path, body, content_type="application/json", headers=headers)
        timings.append(time.perf_counter() - t0)
        if response.status_code != 200:
            raise SystemExit(f"delivery refused: {response.status_code} {response.content!r}")
    elapsed = time.perf_counter() - began
    cancelled = ScheduledSession.objects.filter(status=SessionStatus.CANCELLED).count()
    if cancelled != bookings:
        raise SystemExit(f"{cancelled} of {bookings} bookings ended cancelled")
    quantiles = statistics.quantiles(timings, n=20)
    print(
        f"{len(plan)} signed deliveries ({bookings} bookings: create, reschedule, cancel; "
        f"{coaches} coaches) in {elapsed:.1f} s: {len(plan) / elapsed:.0f} deliveries/s, "
        f"median {statistics.median(timings) * 1000:.1f} ms, p95 {quantiles[18] * 1000:.1f} ms"
    )


if __name__ == "__main__":
    main()
