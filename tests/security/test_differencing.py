"""The differencing attack of issue 13, replayed against the coach page and the sponsor pages.

A reader who notes the average and the count shown after every answer can
work out a single answer from two consecutive readings (n * avg - (n-1) *
avg'), and sees that someone changed a rating when the average moves with the
same count. Issue 13: a coach recovered ratings 4 and 3 and detected a change
from 1 to 5; a sponsor read "5.0 / 5, 1 rating".

Each scenario is first replayed against the figures the pages used to show
(live averages: from 3 answers for coaches, from 1 for sponsors), which proves
that the attacker below does recover the answers; then against today's pages,
read as HTML, where it recovers nothing.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

import pytest
from django.db.models import Avg, Count
from django.test import Client

from accounts.models import Role
from coaches.models import CoachProfile
from engagements.models import Program
from feedback.models import SessionRating
from tests.factories import CoachFactory, ProgramFactory, UserFactory
from tests.feedback.helpers import change, rate

pytestmark = pytest.mark.django_db

# The answers of the issue: three ratings, then a 4 and a 3, then the 1 changed to a 5.
FIRST = [5, 2, 1]
LATER = [4, 3]
CHANGED = (2, 5)  # the third rating (a 1) becomes a 5
# More single answers afterwards, as a program goes on.
MORE = [2, 5, 4, 1, 3, 2, 5, 4, 1, 3, 4, 4]


@dataclass(frozen=True)
class Reading:
    """What a page shows: the number of answers and the average, or nothing yet."""

    answers: int | None
    average: float | None


NOTHING = Reading(None, None)


@dataclass
class Learned:
    recovered: list[int]
    changes_seen: int


def difference(readings: list[Reading]) -> Learned:
    """What a reader learns from consecutive readings, as in issue 13."""
    learned = Learned(recovered=[], changes_seen=0)
    for before, after in pairwise(readings):
        if after.average is None or after.answers is None:
            continue
        if before.average is None or before.answers is None:
            if after.answers == 1:  # "5.0 / 5, 1 rating"
                learned.recovered.append(round(after.average))
            continue
        new = after.answers - before.answers
        if new == 1:
            learned.recovered.append(
                round(after.average * after.answers - before.average * before.answers)
            )
        elif new == 0 and after.average != before.average:
            learned.changes_seen += 1
    return learned


def replay(read: Callable[[], Reading], coach: CoachProfile, program: Program) -> list[Reading]:
    """The issue's events one at a time, with a reading after each."""
    readings = [read()]
    ratings: list[SessionRating] = []
    for score in FIRST + LATER:
        ratings += rate(coach, [score], program=program)
        readings.append(read())
    index, score = CHANGED
    change(ratings[index], score)
    readings.append(read())
    for score in MORE:
        rate(coach, [score], program=program)
        readings.append(read())
    return readings


def shown_batches(readings: list[Reading]) -> list[int]:
    """The number of new answers behind each change of what the page shows."""
    shown = [(r, r.answers) for r in readings if r.answers is not None]
    return [now - then for (before, then), (after, now) in pairwise(shown) if after != before]


# --- how the pages used to compute their figures (the control) ---------------------


def old_coach_figures(coach: CoachProfile) -> Reading:
    """The coach's live average, shown from 3 answers, rounded as the page rounded it."""
    live = SessionRating.objects.filter(session__coach=coach).aggregate(
        n=Count("pk"), a=Avg("score")
    )
    if live["n"] < 3:
        return NOTHING
    return Reading(live["n"], round(live["a"], 1))


def old_sponsor_figures(program: Program) -> Reading:
    """The program's live average, shown from the first answer."""
    live = SessionRating.objects.filter(session__engagement__program=program).aggregate(
        n=Count("pk"), a=Avg("score")
    )
    return Reading(live["n"], round(live["a"], 1)) if live["n"] else NOTHING


# --- reading today's pages ----------------------------------------------------------


def read_html(body: str, pattern: str) -> Reading:
    found = re.search(pattern, body, re.S)
    if found is None:
        return NOTHING
    return Reading(int(found["n"].replace(",", "")), float(found["avg"]))


def coach_page(client: Client) -> Callable[[], Reading]:
    def read() -> Reading:
        body = client.get("/coach/").content.decode()
        assert "Average session rating" in body
        return read_html(
            body,
            r"Average session rating</dt>\s*<dd>(?P<avg>[\d.]+) / 5</dd>\s*"
            r'<dd class="muted">from (?P<n>[\d,]+) rating',
        )

    return read


def sponsor_report_page(client: Client, program: Program) -> Callable[[], Reading]:
    def read() -> Reading:
        body = client.get(f"/sponsor/programs/{program.public_id}/").content.decode()
        assert "Average session rating" in body
        return read_html(
            body,
            r"Average session rating</dt><dd>(?P<avg>[\d.]+) / 5</dd>"
            r'<dd class="muted">from (?P<n>[\d,]+) rating',
        )

    return read


def sponsor_home_page(client: Client) -> Callable[[], Reading]:
    def read() -> Reading:
        body = client.get("/sponsor/").content.decode()
        return read_html(
            body, r"Average session rating: (?P<avg>[\d.]+) / 5 \(from (?P<n>[\d,]+)\)"
        )

    return read


@pytest.fixture
def coach(client: Client) -> CoachProfile:
    return CoachFactory()


@pytest.fixture
def sponsored_program() -> tuple[Program, Any]:
    program = ProgramFactory()
    sponsor = UserFactory(role=Role.SPONSOR)
    program.organization.sponsors.add(sponsor)
    return program, sponsor


# --- the coach ------------------------------------------------------------------------


def test_before_a_coach_recovered_ratings_4_and_3_and_saw_the_1_changed_to_5(
    coach: CoachProfile,
) -> None:
    learned = difference(replay(lambda: old_coach_figures(coach), coach, ProgramFactory()))
    assert learned.recovered[:2] == LATER
    assert learned.changes_seen == 1


def test_the_coach_page_gives_away_no_single_rating_and_no_change(
    client: Client, coach: CoachProfile
) -> None:
    client.force_login(coach.user)
    readings = replay(coach_page(client), coach, ProgramFactory())
    assert difference(readings) == Learned(recovered=[], changes_seen=0)
    # Shown first with five answers, then changed twice, each time with five new ones.
    assert shown_batches(readings) == [5, 5]
    assert readings[0] == NOTHING and readings[-1].answers == 15
    # The change (a 1 became a 5) is inside the second batch's figures.
    assert readings[-1].average == round((sum(FIRST + LATER) + 4 + sum(MORE[:10])) / 15, 1)


# --- the sponsor ----------------------------------------------------------------------


def test_before_a_sponsor_read_single_ratings_and_saw_the_change(
    coach: CoachProfile, sponsored_program: tuple[Program, Any]
) -> None:
    program, _ = sponsored_program
    learned = difference(replay(lambda: old_sponsor_figures(program), coach, program))
    assert learned.recovered[:5] == FIRST + LATER
    assert learned.changes_seen == 1


def test_the_sponsor_report_gives_away_no_single_rating_and_no_change(
    client: Client, coach: CoachProfile, sponsored_program: tuple[Program, Any]
) -> None:
    program, sponsor = sponsored_program
    client.force_login(sponsor)
    readings = replay(sponsor_report_page(client, program), coach, program)
    assert difference(readings) == Learned(recovered=[], changes_seen=0)
    assert shown_batches(readings) == [5, 5]
    assert readings[-1].answers == 15


def test_the_sponsor_home_gives_away_no_single_rating_and_no_change(
    client: Client, coach: CoachProfile, sponsored_program: tuple[Program, Any]
) -> None:
    program, sponsor = sponsored_program
    client.force_login(sponsor)
    readings = replay(sponsor_home_page(client), coach, program)
    assert difference(readings) == Learned(recovered=[], changes_seen=0)
    assert shown_batches(readings) == [5, 5]


def test_ratings_for_other_coaches_in_the_program_are_batched_for_the_sponsor_too(
    client: Client, sponsored_program: tuple[Program, Any]
) -> None:
    """The program's figures count every coach's answers; each new one is a new answer."""
    program, sponsor = sponsored_program
    client.force_login(sponsor)
    read = sponsor_report_page(client, program)
    readings = [read()]
    for score in [4, 4, 2, 5, 1, 3, 3, 5, 2, 4]:
        rate(CoachFactory(), [score], program=program)
        readings.append(read())
    assert difference(readings) == Learned(recovered=[], changes_seen=0)
    assert shown_batches(readings) == [5]
