"""Pages over HTTP: signed-in sessions, queries per page, gunicorn, latency, contention.

Sessions are written straight into the session store with the keys that the
sign-in flow sets (user, backend, auth hash, role lifetime, and the OTP device
for staff), so the benchmark measures the pages, not the code emails.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from importlib import import_module
from typing import Any, cast

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.db import connection
from django.middleware.csrf import CSRF_ALLOWED_CHARS, CSRF_SECRET_LENGTH
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django.utils.crypto import get_random_string
from django_otp import DEVICE_ID_SESSION_KEY

from accounts.models import EmailCodeDevice, Role, User
from accounts.sessions import session_lifetime_start
from bench.env import ROOT
from coaches.models import CoachProfile
from engagements.models import ACTIVE_STATUSES, Engagement, Organization, Program, Status

USERS_PER_PAGE = 20
CONTENDERS = 200
CONTENDED_COACHES = 10
SEATS = 5


def signed_in_cookie(user: User) -> str:
    """A new session of `user`, as the code sign-in leaves it; the Cookie header value.

    With the CSRF cookie a browser keeps from its first visit, so that pages with a
    form (every signed-in page has the sign-out button) reuse it, as for a person.
    """
    store = import_module(settings.SESSION_ENGINE).SessionStore()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    if user.role == Role.STAFF:
        device, _ = EmailCodeDevice.objects.get_or_create(user=user, defaults={"name": "Email"})
        store[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session_lifetime_start(store, role=user.role)
    store.create()
    csrf = get_random_string(CSRF_SECRET_LENGTH, allowed_chars=CSRF_ALLOWED_CHARS)
    return f"{settings.SESSION_COOKIE_NAME}={store.session_key}; {settings.CSRF_COOKIE_NAME}={csrf}"


def cookie_pairs(header: str) -> dict[str, str]:
    """A Cookie header's name=value pairs."""
    return dict(pair.split("=", 1) for pair in header.split("; ") if pair)


# Issue 16's goals, as the most a page may cost in multiples of the bare signed-in view.
PARTICIPANT_AND_COACH_GOAL = 2.0
STAFF_AND_SPONSOR_GOAL = 10.0
BARE_OVER_ANONYMOUS_GOAL = 1.5


@dataclass(frozen=True)
class Page:
    name: str
    label: str
    targets: list[tuple[str, str]]  # (path, Cookie header) rotated over
    goal: float | None = None  # at most this many times the bare signed-in view
    # POSTs instead of GETs: (path, JSON body, headers), each sent once, in order.
    posts: list[tuple[str, str, dict[str, str]]] | None = None

    def spec(self) -> dict[str, Any]:
        return {"name": self.name, "targets": self.targets, "posts": self.posts}


def _spread(queryset: Any, n: int = USERS_PER_PAGE) -> list[Any]:
    """n rows spread over the first 50 * n of `queryset` (varied users, reproducible)."""
    rows = list(queryset[: 50 * n])
    step = max(1, len(rows) // n)
    return rows[::step][:n]


def bench_pages() -> list[Page]:
    """The floors (anonymous, bare signed-in) and the pages, each with up to
    USERS_PER_PAGE signed-in users."""
    today = timezone.localdate()
    running = Engagement.objects.filter(program__ends_on__gte=today).select_related("participant")
    with_coach = _spread(
        running.filter(status__in=[Status.IN_PROGRESS, Status.COMPLETED]).order_by("pk")
    )
    choosing = _spread(running.filter(status=Status.INVITED).order_by("pk"))
    coaches = _spread(
        CoachProfile.objects.filter(engagements__status=Status.IN_PROGRESS)
        .select_related("user")
        .distinct()
        .order_by("pk")
    )
    # Each coach was chosen for having an engagement in progress.
    engagements = [
        cast(
            Engagement,
            Engagement.objects.filter(coach=coach, status=Status.IN_PROGRESS)
            .order_by("pk")
            .first(),
        )
        for coach in coaches
    ]
    staff = list(User.objects.filter(role=Role.STAFF).order_by("pk"))
    staff_cookies = [signed_in_cookie(u) for u in staff]
    coach_cookies = [signed_in_cookie(coach.user) for coach in coaches]
    return [
        Page("floor", "anonymous landing `/` (floor)", [("/", "")]),
        Page(
            "bare",
            "bare signed-in view `/bench/bare/`",
            [("/bench/bare/", signed_in_cookie(e.participant)) for e in with_coach],
        ),
        Page(
            "home",
            "participant home `/`",
            [("/", signed_in_cookie(e.participant)) for e in with_coach],
            PARTICIPANT_AND_COACH_GOAL,
        ),
        Page(
            "directory",
            "coach directory `/coaches/`",
            [("/coaches/", signed_in_cookie(e.participant)) for e in choosing],
            PARTICIPANT_AND_COACH_GOAL,
        ),
        Page(
            "workspace",
            "coach workspace `/coach/`",
            [("/coach/", c) for c in coach_cookies],
            PARTICIPANT_AND_COACH_GOAL,
        ),
        Page(
            "engagement",
            "engagement page `/coach/engagements/<id>/`",
            [
                (f"/coach/engagements/{e.public_id}/", cookie)
                for e, cookie in zip(engagements, coach_cookies, strict=True)
            ],
            PARTICIPANT_AND_COACH_GOAL,
        ),
        *_staff_and_sponsor_pages(staff_cookies),
    ]


def _staff_and_sponsor_pages(staff_cookies: list[str]) -> list[Page]:
    programs = _spread(Program.objects.order_by("pk"), n=10) or list(Program.objects.all())
    sponsors = [
        (sponsor, program)
        for program in programs
        for sponsor in program.organization.sponsors.all()[:1]
    ]
    staff_reports = [
        (f"/ops/programs/{p.public_id}/report/", staff_cookies[n % len(staff_cookies)])
        for n, p in enumerate(programs)
    ]
    # Engagements in progress, with sessions and history: what ops open from a flag.
    ops_engagements = [
        (f"/ops/engagements/{e.public_id}/", staff_cookies[n % len(staff_cookies)])
        for n, e in enumerate(
            _spread(Engagement.objects.filter(status=Status.IN_PROGRESS).order_by("pk"))
        )
    ]
    return [
        Page(
            "ops",
            "ops dashboard `/ops/`",
            [("/ops/", c) for c in staff_cookies],
            STAFF_AND_SPONSOR_GOAL,
        ),
        Page(
            "programs",
            "staff program list `/ops/programs/`",
            [("/ops/programs/", c) for c in staff_cookies],
            STAFF_AND_SPONSOR_GOAL,
        ),
        Page("report", "staff program report", staff_reports, STAFF_AND_SPONSOR_GOAL),
        Page(
            "sponsor_home",
            "sponsor home `/sponsor/`",
            [("/sponsor/", signed_in_cookie(s)) for s, _ in sponsors],
            STAFF_AND_SPONSOR_GOAL,
        ),
        Page(
            "sponsor_report",
            "sponsor program report",
            [(f"/sponsor/programs/{p.public_id}/", signed_in_cookie(s)) for s, p in sponsors],
            STAFF_AND_SPONSOR_GOAL,
        ),
        Page(
            "ops_engagement",
            "ops engagement page `/ops/engagements/<id>/`",
            ops_engagements,
            STAFF_AND_SPONSOR_GOAL,
        ),
    ]


def webhook_page(deliveries: int) -> Page:
    """Signed Cal.com BOOKING_CREATED deliveries, each a new booking of a participant
    in progress with one of USERS_PER_PAGE coaches; two more for the SQL count."""
    from scheduling.samples import body_of, calcom, signed_headers
    from scheduling.services import booking_endpoint_of

    running = Engagement.objects.filter(status=Status.IN_PROGRESS).select_related(
        "coach", "participant"
    )
    engagements = _spread(running.order_by("pk"))
    endpoints = [booking_endpoint_of(cast(CoachProfile, e.coach)) for e in engagements]
    start = timezone.now().replace(microsecond=0) + timedelta(days=3)
    posts = []
    for n in range(deliveries + 2):
        engagement, endpoint = engagements[n % len(engagements)], endpoints[n % len(engagements)]
        data = calcom(
            "BOOKING_CREATED",
            uid=f"bench-{uuid.uuid4()}",
            start=start + timedelta(hours=n),
            email=engagement.participant.email,
        )
        body = body_of(data)
        headers = signed_headers("calcom", body, secret=endpoint.signing_secret)
        posts.append((f"/hooks/calcom/{endpoint.token}/", body.decode(), headers))
    return Page(
        "webhook",
        "booking webhook, Cal.com `BOOKING_CREATED`",
        [],
        STAFF_AND_SPONSOR_GOAL,
        posts=posts,
    )


def queries_per_page(pages: list[Page]) -> dict[str, int]:
    """SQL statements of one request to each page (its first target), after a warm-up.

    A page of POSTs sends its last two deliveries, which the timed run never sends.
    """
    counts = {}
    for page in pages:
        if page.posts:
            counts[page.name] = _queries_of_post(page.posts[-2:])
            continue
        path, cookie = page.targets[0]
        client = Client()
        for name, value in cookie_pairs(cookie).items():
            client.cookies[name] = value
        client.get(path)
        with CaptureQueriesContext(connection) as queries:
            response = client.get(path)
        if response.status_code != 200:
            raise RuntimeError(f"{path} answered {response.status_code} in the bench process")
        counts[page.name] = len(queries)
    return counts


def _queries_of_post(posts: list[tuple[str, str, dict[str, str]]]) -> int:
    client = Client()
    for path, body, headers in posts:
        with CaptureQueriesContext(connection) as queries:
            response = client.post(path, body, content_type="application/json", headers=headers)
        if response.status_code != 200:
            raise RuntimeError(f"{path} answered {response.status_code} in the bench process")
    return len(queries)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def gunicorn(*, env: dict[str, str], workers: int) -> Iterator[int]:
    """gunicorn with `workers` sync workers on a free loopback port; yields the port."""
    port = _free_port()
    command = [sys.executable, "-m", "gunicorn", "config.wsgi:application"]
    command += ["--workers", str(workers), "--bind", f"127.0.0.1:{port}", "--log-level", "warning"]
    server = subprocess.Popen(command, cwd=ROOT, env=env)  # noqa: S603 - our own command
    try:
        _wait_until_up(port, server)
        yield port
    finally:
        server.terminate()
        server.wait(timeout=30)


def _wait_until_up(port: int, server: subprocess.Popen[bytes]) -> None:
    import http.client

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError("gunicorn exited during start-up")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("gunicorn did not answer /healthz within 60 s")


def run_client(mode: str, spec: dict[str, Any], *, env: dict[str, str]) -> dict[str, Any]:
    """The client in its own process (stdlib only), spec in on stdin, JSON out."""
    done = subprocess.run(  # noqa: S603 - our own module
        [sys.executable, "-m", "bench.client", mode],
        input=json.dumps(spec),
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        check=False,
    )
    if done.returncode:
        raise RuntimeError(f"bench.client {mode} failed:\n{done.stderr}")
    return json.loads(done.stdout)


def latency(
    pages: list[Page], *, port: int, requests: int, warmup: int, env: dict[str, str]
) -> dict[str, Any]:
    spec = {
        "port": port,
        "requests": requests,
        "warmup": warmup,
        "pages": [p.spec() for p in pages],
    }
    return run_client("latency", spec, env=env)


# --- contended selection ------------------------------------------------------------


@dataclass(frozen=True)
class Contest:
    program: Program
    coaches: list[CoachProfile]
    clients: list[dict[str, str]]


def contention_setup() -> Contest:
    """A program whose pool is exactly 10 coaches with 5 free seats, and 200 invitees."""
    today = timezone.localdate()
    run = uuid.uuid4().hex[:8]  # a database kept with --keep can host several races
    org = Organization.objects.create(name=f"Contention benchmark {run}")
    program = Program.objects.create(
        organization=org,
        name="Contended program",
        starts_on=today - timedelta(days=7),
        ends_on=today + timedelta(days=90),
    )
    coach_users = User.objects.bulk_create(
        User(email=f"contended{n}.{run}@bench.example", full_name=f"Contended {n}", role=Role.COACH)
        for n in range(CONTENDED_COACHES)
    )
    coaches = CoachProfile.objects.bulk_create(
        CoachProfile(user=u, capacity=SEATS, booking_url=f"https://cal.example.com/c{u.pk}")
        for u in coach_users
    )
    program.coaches.set(coaches)
    people = User.objects.bulk_create(
        User(email=f"contender{n}.{run}@bench.example", full_name=f"Contender {n}")
        for n in range(CONTENDERS)
    )
    Engagement.objects.bulk_create(Engagement(participant=u, program=program) for u in people)
    # Twenty participants race for each coach's five seats.
    clients = [
        {"cookie": signed_in_cookie(u), "coach": str(coaches[n % len(coaches)].public_id)}
        for n, u in enumerate(people)
    ]
    return Contest(program=program, coaches=coaches, clients=clients)


def contention_check(contest: Contest) -> dict[str, int]:
    """After the race, from the database: selections made, and coaches over capacity."""
    engagements = Engagement.objects.filter(program=contest.program)
    over = 0
    for coach in contest.coaches:
        active = Engagement.objects.filter(coach=coach, status__in=ACTIVE_STATUSES).count()
        over += active > coach.capacity
    return {
        "selected": engagements.filter(status=Status.COACH_SELECTED).count(),
        "over_capacity": over,
        "max_active": max(
            Engagement.objects.filter(coach=c, status__in=ACTIVE_STATUSES).count()
            for c in contest.coaches
        ),
    }
