"""The report's cost in queries does not depend on the number of engagements."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone
from pytest_django import DjangoAssertNumQueries
from zeal import zeal_ignore

from accounts.models import Role, User
from engagements.models import (
    CoachingSession,
    Engagement,
    Organization,
    Outcome,
    Program,
    Status,
    program_rows_changed,
)
from feedback.models import ClosingSurvey, SessionRating
from nudges.models import FlagKind, NudgeFlag
from reports.selectors import PROGRESS_PAGE_SIZE, participant_progress, program_report
from tests.factories import CoachFactory, ProgramFactory, UserFactory
from tests.signin import OTP_DEVICE_QUERY, login_verified

pytestmark = pytest.mark.django_db

STATUSES = [Status.INVITED, Status.COACH_SELECTED, Status.IN_PROGRESS, Status.COMPLETED]


def build_program(size: int) -> Program:
    """A program of `size` engagements in every state, with sessions, ratings and flags.

    Built in bulk: query counts are about the report, not the set-up.
    """
    program = ProgramFactory()
    coaches = [CoachFactory(capacity=size) for _ in range(3)]
    program.coaches.set(coaches)
    users = User.objects.bulk_create(
        User(email=f"bulk{program.pk}-{i}@example.com", full_name=f"P {i}", role=Role.PARTICIPANT)
        for i in range(size)
    )
    now = timezone.now()
    engagements = Engagement.objects.bulk_create(
        Engagement(
            participant=user,
            program=program,
            status=STATUSES[i % 4],
            coach=None if i % 4 == 0 else coaches[i % 3],
            invited_at=now - timedelta(days=30),
            coach_selected_at=None if i % 4 == 0 else now - timedelta(days=i % 9),
        )
        for i, user in enumerate(users)
    )
    sessions = CoachingSession.objects.bulk_create(
        CoachingSession(
            engagement=e,
            coach=e.coach,
            number=1,
            held_on=timezone.localdate() - timedelta(days=i % 20),
            duration_minutes=60,
            outcome=Outcome.HELD,
            notes="private",
        )
        for i, e in enumerate(engagements)
        if e.coach is not None
    )
    SessionRating.objects.bulk_create(
        SessionRating(session=s, score=1 + i % 5) for i, s in enumerate(sessions)
    )
    ClosingSurvey.objects.bulk_create(
        ClosingSurvey(engagement=e, recommend_score=8, what_changed="More focus.")
        for e in engagements
        if e.status == Status.COMPLETED
    )
    NudgeFlag.objects.bulk_create(
        NudgeFlag(engagement=e, program_id=e.program_id, kind=FlagKind.NO_COACH_SELECTED)
        for e in engagements
        if e.status == Status.INVITED
    )
    return program


# The figures (engagements and sessions, one query), open flags, the weekly chart (+ the
# median's query where there is no PERCENTILE_CONT, never cached).
BASE = 3 if connection.vendor == "postgresql" else 4
MEDIAN = BASE - 3
# Staff add the closing-survey texts, the coaches' ratings (both cached with the
# figures) and the coaches with their load (live).
STAFF_CACHED, STAFF_LIVE = 2, 1


@pytest.mark.parametrize("size", [10, 2000])
def test_report_queries_do_not_grow_with_the_program(
    size: int, django_assert_num_queries: DjangoAssertNumQueries
) -> None:
    program = build_program(size)
    with django_assert_num_queries(BASE):
        report = program_report(program=program)
    assert report.total == size
    # The figures and the chart are cached now: open flags, the median, the staff detail.
    with django_assert_num_queries(1 + MEDIAN + STAFF_CACHED + STAFF_LIVE):
        program_report(program=program, with_staff_detail=True)
    with django_assert_num_queries(1 + MEDIAN + STAFF_LIVE):
        program_report(program=program, with_staff_detail=True)
    # Per-participant progress (sponsors, where the organization shares it): one query
    # a page, with the number of matches; it was one query for the whole list.
    last = -(-size // PROGRESS_PAGE_SIZE)
    with django_assert_num_queries(1):
        progress = participant_progress(program=program, page=last)
    assert (progress.matching, progress.pages) == (size, last)
    assert len(progress.lines) == size - (last - 1) * PROGRESS_PAGE_SIZE
    with django_assert_num_queries(1):
        progress = participant_progress(program=program, search="P 1")
    assert progress.matching == sum(1 for i in range(size) if "P 1" in f"P {i}")


# A signed-in request reads its session from the cache, and its user's row from the
# database on the first request after sign-in only (accounts/backends.py).
FIRST_REQUEST, LATER_REQUEST = 1, 0


def _figures_out_of_date(program: Program, commit: Any) -> None:
    """As a write to the program's rows does: its cached figures are read no more."""
    with commit(execute=True):
        program_rows_changed(program.pk)


@pytest.mark.parametrize("size", [10, 2000])
def test_report_pages_cost_the_same_for_10_and_2000(
    size: int,
    client: Client,
    django_assert_num_queries: DjangoAssertNumQueries,
    django_capture_on_commit_callbacks: Any,
) -> None:
    program = build_program(size)
    staff = UserFactory(role=Role.STAFF)
    sponsor = UserFactory(role=Role.SPONSOR)
    program.organization.sponsors.add(sponsor)
    # user + program, then the report's own queries; nothing cached yet.
    login_verified(client, staff)
    url = f"/ops/programs/{program.public_id}/report/"
    with django_assert_num_queries(
        FIRST_REQUEST + OTP_DEVICE_QUERY + 1 + BASE + STAFF_CACHED + STAFF_LIVE
    ):
        response = client.get(url)
    assert response.status_code == 200
    # Again: only what is read live (open flags, the coaches' load).
    with django_assert_num_queries(1 + 1 + MEDIAN + STAFF_LIVE):
        assert client.get(url).status_code == 200
    client.force_login(sponsor)
    # user + program (with its organization and released feedback), the report's own
    # queries: the per-person list is off. Nothing cached first.
    _figures_out_of_date(program, django_capture_on_commit_callbacks)
    with django_assert_num_queries(FIRST_REQUEST + 1 + BASE):
        response = client.get(f"/sponsor/programs/{program.public_id}/")
    assert response.status_code == 200
    assert "s-progress" not in response.content.decode()
    # Where the organization shares individual progress: one query a page (searched too),
    # and the report's figures come from the cache.
    Organization.objects.filter(pk=program.organization_id).update(
        sponsors_see_individual_progress=True
    )
    for query in ({}, {"page": "2"}, {"q": "P 1"}):
        with django_assert_num_queries(LATER_REQUEST + 1 + 1 + MEDIAN + 1):
            response = client.get(f"/sponsor/programs/{program.public_id}/", query)
        past_the_end = size <= PROGRESS_PAGE_SIZE and "page" in query
        assert response.status_code == (404 if past_the_end else 200)
    with django_assert_num_queries(LATER_REQUEST + 1):  # programs; their figures are cached
        assert client.get("/sponsor/").status_code == 200
    _figures_out_of_date(program, django_capture_on_commit_callbacks)
    with django_assert_num_queries(LATER_REQUEST + 2):  # + the figures of the programs
        assert client.get("/sponsor/").status_code == 200


def test_staff_program_list_costs_the_same_for_one_and_three_programs(
    client: Client,
    django_assert_num_queries: DjangoAssertNumQueries,
) -> None:
    login_verified(client, UserFactory(role=Role.STAFF))
    signed_in = FIRST_REQUEST + OTP_DEVICE_QUERY
    for programs in (1, 3):
        with zeal_ignore():  # set-up: several programs built one after another
            while Program.objects.count() < programs:
                build_program(4)
        # (the user and the OTP device, first request only,) the programs, then the
        # figures of those not cached yet (the new ones), all in one query
        with django_assert_num_queries(signed_in + 2):
            response = client.get("/ops/programs/")
        assert response.status_code == 200
        assert len(response.context["programs"]) == programs
        signed_in = LATER_REQUEST
        with django_assert_num_queries(signed_in + 1):  # all cached
            response = client.get("/ops/programs/")
        assert [p.participants for p in response.context["programs"]] == [4] * programs
