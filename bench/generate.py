"""Fill an empty, migrated database with a coherent data set, in bulk (COPY).

100,000 participants in 50 programs of 10 client organizations, 5,000 coaches
(each program's pool is 100 of them), engagements in every state, about 500,000
coaching sessions whose count and last date match each engagement's
`sessions_logged` and `last_session_on`, ratings, closing surveys, the coach
history, bookings (the next session of most engagements in progress, and past
ones for their coaches to confirm), a few staff and sponsors. Rows are streamed
with psycopg's COPY with explicit ids (the database is fresh), then the id
sequences are moved past them.
Coach capacities are set from the active engagements actually generated, so no
coach is over capacity and about one in eight is exactly full.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.contrib.auth.hashers import make_password
from django.db import connection, transaction
from django.utils import timezone

N_PARTICIPANTS = 100_000
N_COACHES = 5_000
N_PROGRAMS = 50
N_ORGS = 10
N_STAFF = 5
POOL_SIZE = N_COACHES // N_PROGRAMS
LANGUAGES = [("en", "English"), ("fr", "French"), ("de", "German"), ("es", "Spanish")]
LANGUAGES += [("it", "Italian"), ("nl", "Dutch"), ("pt", "Portuguese"), ("pl", "Polish")]
SPECIALTIES = [
    "Leadership",
    "Career transition",
    "Communication",
    "Resilience",
    "Team building",
    "Executive presence",
    "Conflict",
    "Time management",
    "Women in leadership",
    "New managers",
    "Change",
    "Strategy",
]
TIME_ZONES = ["Europe/Paris", "Europe/London", "America/New_York", "Asia/Singapore", "UTC"]
# Engagement states by (participant // N_PROGRAMS) % 20: 10% invited, 10% coach
# selected, 40% in progress, 5% on hold, 30% completed, 5% cancelled.
PLAN = ["invited"] * 2 + ["coach_selected"] * 2 + ["in_progress"] * 8 + ["on_hold"]
PLAN += ["completed"] * 6 + ["cancelled"]
ACTIVE = {"coach_selected", "in_progress", "on_hold"}
# Transitions an engagement in each state has been through (its status_version).
VERSIONS = {"invited": 0, "coach_selected": 1, "in_progress": 2, "on_hold": 3}
VERSIONS |= {"completed": 3, "cancelled": 2}


@dataclass(frozen=True)
class Generated:
    seconds: float
    counts: dict[str, int]


def scale_to(participants: int) -> None:
    """Size the data set: programs of 2,000 participants (at least one), pools of 100.

    100,000 gives the default set; 10,000 has 5 programs, 1,000 one program of
    1,000. Module-level sizes, set before generate() and read by its writer.
    """
    global N_PARTICIPANTS, N_COACHES, N_PROGRAMS, N_ORGS, POOL_SIZE  # noqa: PLW0603
    N_PARTICIPANTS = participants
    N_PROGRAMS = max(1, participants // 2_000)
    N_COACHES = 100 * N_PROGRAMS
    N_ORGS = min(10, N_PROGRAMS)
    POOL_SIZE = N_COACHES // N_PROGRAMS


def generate(participants: int = 100_000) -> Generated:
    """Write the whole data set; the database must be migrated and empty."""
    scale_to(participants)
    started = time.perf_counter()
    now = timezone.now().replace(microsecond=0)
    # One transaction: foreign keys are checked once, at commit (Django makes them
    # DEFERRABLE INITIALLY DEFERRED), so tables can be filled in any order.
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM accounts_user")
        if cursor.fetchone()[0]:
            raise RuntimeError("The bench database is not empty; generate into a fresh one.")
        counts = _Writer(cursor.cursor, now=now).write_all()
        for table in counts:
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608 - our names
                f"(SELECT max(id) FROM {table}))"
            )
    connection.close()
    # VACUUM cannot run in a transaction block: autocommit connection of its own.
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    return Generated(seconds=time.perf_counter() - started, counts=counts)


class _Writer:
    def __init__(self, cursor: Any, *, now: datetime) -> None:
        self.cursor = cursor
        self.now = now
        self.today = now.date()
        self.password = make_password(None)
        self.counts: dict[str, int] = {}

    def copy(self, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
        n = 0
        with self.cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
                n += 1
        self.counts[table] = n

    def write_all(self) -> dict[str, int]:
        self.write_reference_data()
        self.write_users()
        self.write_programs()
        engagements = [self.plan_engagement(i) for i in range(N_PARTICIPANTS)]
        self.set_capacities(engagements)
        self.write_coaches()
        self.write_engagements(engagements)
        self.write_sessions(engagements)
        self.write_bookings(engagements)
        return self.counts

    # --- people and programs ---------------------------------------------------------

    def write_reference_data(self) -> None:
        self.copy(
            "coaches_language",
            ["id", "code", "name"],
            ((n, code, name) for n, (code, name) in enumerate(LANGUAGES, 1)),
        )
        self.copy(
            "coaches_specialty",
            ["id", "name"],
            ((n, name) for n, name in enumerate(SPECIALTIES, 1)),
        )
        self.copy(
            "engagements_organization",
            ["id", "public_id", "name", "sponsors_see_individual_progress", "time_zone"],
            (
                (o + 1, uuid.uuid4(), f"Client organization {o + 1}", False, "Europe/Paris")
                for o in range(N_ORGS)
            ),
        )

    def write_users(self) -> None:
        """Coaches are users 1..5000, participants next, then staff and sponsors."""
        people = [(f"coach{c}@bench.example", f"Coach {c}", "coach") for c in range(N_COACHES)]
        people += [
            (f"p{i}@bench.example", f"Participant {i}", "participant")
            for i in range(N_PARTICIPANTS)
        ]
        people += [(f"staff{s}@bench.example", f"Staff {s}", "staff") for s in range(N_STAFF)]
        people += [(f"sponsor{o}@bench.example", f"Sponsor {o}", "sponsor") for o in range(N_ORGS)]
        self.copy(
            "accounts_user",
            ["id", "password", "public_id", "email", "full_name", "role", "is_active"]
            + ["date_joined"],
            (
                (n, self.password, uuid.uuid4(), email, name, role, True, self.now)
                for n, (email, name, role) in enumerate(people, 1)
            ),
        )
        first_staff = N_COACHES + N_PARTICIPANTS + 1
        self.copy(
            "accounts_emailcodedevice",
            ["id", "user_id", "name", "confirmed"],
            ((s + 1, first_staff + s, "Email", True) for s in range(N_STAFF)),
        )
        self.copy(
            "engagements_organization_sponsors",
            ["id", "organization_id", "user_id"],
            ((o + 1, o + 1, first_staff + N_STAFF + o) for o in range(N_ORGS)),
        )

    def program_dates(self, p: int) -> tuple[date, date, int]:
        """Started 200 days ago; most end in 40-120 days, some within 21, two have ended."""
        starts = self.today - timedelta(days=200 - (p % 5) * 10)
        if p % 25 == 24:
            ends = self.today - timedelta(days=5)
        elif p % 10 == 0:
            ends = self.today + timedelta(days=14)
        else:
            ends = self.today + timedelta(days=40 + (p % 5) * 20)
        return starts, ends, (8, 10, 12)[p % 3]

    def write_programs(self) -> None:
        self.programs = [self.program_dates(p) for p in range(N_PROGRAMS)]
        self.copy(
            "engagements_program",
            ["id", "public_id", "organization_id", "name", "starts_on", "ends_on"]
            + ["sessions_per_engagement", "no_coach_selected_days", "no_first_session_days"]
            + ["stalled_days", "behind_schedule_days", "reminders_enabled"],
            (
                (p + 1, uuid.uuid4(), p % N_ORGS + 1, f"Leadership program {p + 1}", s, e, n)
                + (7, 14, 30, 21, False)
                for p, (s, e, n) in enumerate(self.programs)
            ),
        )
        # Coach c (user and profile id c + 1) is in the pool of program c % 50.
        self.copy(
            "engagements_program_coaches",
            ["id", "program_id", "coachprofile_id"],
            ((c + 1, c % N_PROGRAMS + 1, c + 1) for c in range(N_COACHES)),
        )

    # --- engagements ----------------------------------------------------------------

    def plan_engagement(self, i: int) -> dict[str, Any]:
        """Participant i's engagement: state, coach, session count and dates."""
        p = i % N_PROGRAMS
        k = i // N_PROGRAMS  # rank within the program
        status = PLAN[k % len(PLAN)]
        allotment = self.programs[p][2]
        had_coach = status not in ("invited", "cancelled") or (status == "cancelled" and k % 2)
        # Rank k = 20a + b gets pool coach (23a + b) % 100: every coach of the pool gets
        # one engagement of each slot b of PLAN, so each has 20 in all states.
        slot = (23 * (k // len(PLAN)) + k) % POOL_SIZE
        coach = slot * N_PROGRAMS + p + 1 if had_coach else None
        sessions = {
            "in_progress": 2 + (i * 7) % (allotment - 2),
            "on_hold": 2 + i % 4,
            "completed": allotment,
            "cancelled": (i % 3) if had_coach else 0,
        }.get(status, 0)
        last = self.today - timedelta(days=(i % 60) + (3 if status == "on_hold" else 0))
        if status == "completed":
            last = self.today - timedelta(days=i % 90)
        first = last - timedelta(days=7 * (sessions - 1)) if sessions else None
        if status == "coach_selected":
            selected = self.now - timedelta(days=i % 30, hours=i % 24)
        elif had_coach:
            base = first or last
            selected = datetime.combine(base, datetime.min.time(), self.now.tzinfo)
            selected -= timedelta(days=5 + i % 5)
        else:
            selected = None
        invited = (selected or self.now) - timedelta(days=i % 20, hours=1 + i % 12)
        return {
            "id": i + 1,
            "participant": N_COACHES + i + 1,
            "program": p + 1,
            "status": status,
            "coach": coach,
            "sessions": sessions,
            "last": last if sessions else None,
            "first": first,
            "invited": invited,
            "selected": selected,
        }

    def set_capacities(self, engagements: list[dict[str, Any]]) -> None:
        active = [0] * (N_COACHES + 1)
        for e in engagements:
            if e["status"] in ACTIVE:
                active[e["coach"]] += 1
        # One coach in eight is exactly full; the others have 1-7 seats left.
        self.capacities = [n + (c % 8) for c, n in enumerate(active)]

    def write_coaches(self) -> None:
        self.copy(
            "coaches_coachprofile",
            ["id", "public_id", "user_id", "headline", "bio", "photo", "time_zone"]
            + ["booking_url", "capacity", "accepting_new", "created_at", "updated_at"],
            (
                (
                    c,
                    uuid.uuid4(),
                    c,
                    f"{SPECIALTIES[c % len(SPECIALTIES)]} coach, {5 + c % 20} years",
                    "I help leaders find their own answers. " * 6,
                    "",
                    TIME_ZONES[c % len(TIME_ZONES)],
                    f"https://cal.example.com/coach-{c}",
                    self.capacities[c],
                    c % 25 != 0,
                    self.now,
                    self.now,
                )
                for c in range(1, N_COACHES + 1)
            ),
        )
        self.copy(
            "coaches_coachprofile_languages",
            ["id", "coachprofile_id", "language_id"],
            _numbered(
                (c, lang) for c in range(1, N_COACHES + 1) for lang in {1, c % len(LANGUAGES) + 1}
            ),
        )
        self.copy(
            "coaches_coachprofile_specialties",
            ["id", "coachprofile_id", "specialty_id"],
            _numbered(
                (c, s % len(SPECIALTIES) + 1) for c in range(1, N_COACHES + 1) for s in (c, c + 5)
            ),
        )

    def write_engagements(self, engagements: list[dict[str, Any]]) -> None:
        self.copy(
            "engagements_engagement",
            ["id", "public_id", "participant_id", "program_id", "coach_id", "status"]
            + ["status_version", "status_reason", "sessions_logged", "last_session_on"]
            + ["invited_at", "coach_selected_at", "started_at", "on_hold_at", "completed_at"]
            + ["cancelled_at"],
            (self.engagement_row(e) for e in engagements),
        )
        self.copy(
            "engagements_engagementcoach",
            ["id", "engagement_id", "coach_id", "assigned_at"],
            _numbered((e["id"], e["coach"], e["selected"]) for e in engagements if e["coach"]),
        )
        self.copy(
            "engagements_closingsurvey",
            ["id", "engagement_id", "recommend_score", "what_changed", "created_at"],
            _numbered(
                (e["id"], e["id"] % 11, "I delegate more.", self.at(e["last"], 2))
                for e in engagements
                if e["status"] == "completed" and e["id"] % 2
            ),
        )

    def at(self, day: date | None, plus_days: int = 0) -> datetime | None:
        if day is None:
            return None
        moment = datetime.combine(day + timedelta(days=plus_days), datetime.min.time())
        return min(moment.replace(hour=10, tzinfo=self.now.tzinfo), self.now)

    def engagement_row(self, e: dict[str, Any]) -> tuple[Any, ...]:
        status = e["status"]
        return (
            e["id"],
            uuid.uuid4(),
            e["participant"],
            e["program"],
            e["coach"],
            status,
            VERSIONS[status],
            "Left the company." if status == "cancelled" else "",
            e["sessions"],
            e["last"],
            e["invited"],
            e["selected"],
            self.at(e["first"]),
            self.at(e["last"], 3) if status == "on_hold" else None,
            self.at(e["last"]) if status == "completed" else None,
            self.now - timedelta(days=e["id"] % 20) if status == "cancelled" else None,
        )

    def write_sessions(self, engagements: list[dict[str, Any]]) -> None:
        """Weekly sessions up to last_session_on; a few no-shows and late cancellations."""
        rated: list[tuple[int, int, datetime | None]] = []

        def rows() -> Iterator[tuple[Any, ...]]:
            sid = 0
            for e in engagements:
                for n in range(1, e["sessions"] + 1):
                    sid += 1
                    held_on = e["first"] + timedelta(days=7 * (n - 1))
                    outcome = {0: "no_show", 6: "late_cancel"}.get((e["id"] + n) % 12, "held")
                    created = self.at(held_on)
                    if outcome == "held" and (e["id"] + n) % 3 == 0:
                        rated.append((sid, 1 + (e["id"] + n) % 5, self.at(held_on, 1)))
                    yield (
                        sid,
                        uuid.uuid4(),
                        e["id"],
                        e["coach"],
                        n,
                        held_on,
                        (45, 60, 90)[n % 3],
                        outcome,
                        f"Session {n}: worked on the next step of the development plan.",
                        "",  # void_reason: none is voided
                        created,
                        created,
                    )

        self.copy(
            "engagements_coachingsession",
            ["id", "public_id", "engagement_id", "coach_id", "number", "held_on"]
            + ["duration_minutes", "outcome", "notes", "void_reason", "created_at", "updated_at"],
            rows(),
        )
        self.copy(
            "engagements_sessionrating",
            ["id", "session_id", "score", "created_at", "updated_at"],
            _numbered((sid, score, at, at) for sid, score, at in rated),
        )

    def write_bookings(self, engagements: list[dict[str, Any]]) -> None:
        """Bookings from the coaches' Calendly pages, matched to their engagements:
        the participant home's next session and the coach workspace's panels."""
        participants = N_COACHES + 1

        def rows() -> Iterator[tuple[Any, ...]]:
            for e in engagements:
                i = e["participant"] - participants
                for starts, status in _bookings_of(e, self.now):
                    yield (
                        uuid.uuid4(),
                        e["coach"],
                        e["id"],
                        "calendly",
                        f"bench-{e['id']}-{starts:%Y%m%d%H}",
                        f"p{i}@bench.example",
                        f"Participant {i}",
                        starts,
                        starts + timedelta(hours=1),
                        status,
                        "[]",
                        "",
                        self.now,
                        self.now,
                    )

        self.copy("scheduling_scheduledsession", BOOKING_COLUMNS, _numbered(rows()))


BOOKING_COLUMNS = ["id", "public_id", "coach_id", "engagement_id", "provider"]
BOOKING_COLUMNS += ["provider_booking_id", "attendee_email", "attendee_name"]
BOOKING_COLUMNS += ["starts_at", "ends_at", "status", "history", "unmatched_reason"]
BOOKING_COLUMNS += ["created_at", "updated_at"]


def _bookings_of(e: dict[str, Any], now: datetime) -> Iterator[tuple[datetime, str]]:
    """An engagement in progress: three in four have their next session booked (1-14
    days ahead, one in five of them moved), one in four a past one to confirm."""
    if e["status"] != "in_progress":
        return
    if e["id"] % 4:
        starts = now + timedelta(days=1 + e["id"] % 14, hours=e["id"] % 8)
        yield starts, "rescheduled" if e["id"] % 5 == 0 else "booked"
    if e["id"] % 4 == 1:
        yield now - timedelta(days=1 + e["id"] % 3, hours=2), "booked"


def _numbered(rows: Iterable[tuple[Any, ...]]) -> Iterator[tuple[Any, ...]]:
    for n, row in enumerate(rows, 1):
        yield (n, *row)
