"""Program figures are cached per program version; every write through the services
moves the version on after commit, so staff never read figures older than a write
(docs/architecture.md, "Cached figures")."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

import pytest
from django.core.cache import cache
from django.db import transaction
from django.test import Client
from django.utils import timezone

from accounts.models import Role, User
from engagements.imports import participants_enrol
from engagements.models import Outcome, Program, Status
from engagements.services import engagement_cancel, session_log
from feedback.services import session_rate
from reports import selectors
from reports.selectors import program_figures, programs_overview
from tests.factories import CoachFactory, EngagementFactory, UserFactory, engagement_with_coach
from tests.signin import login_verified

pytestmark = pytest.mark.django_db

Commit = Callable[..., AbstractContextManager[list[Callable[[], Any]]]]


@pytest.fixture
def ops(client: Client) -> Client:
    return login_verified(client, UserFactory(role=Role.STAFF))


def _participants(ops: Client) -> dict[str, int]:
    response = ops.get("/ops/programs/")
    return {p.name: p.participants for p in response.context["programs"]}


def _report(ops: Client, program: Program) -> Any:
    return ops.get(f"/ops/programs/{program.public_id}/report/").context["report"]


def test_a_new_participant_shows_on_the_list_once_the_import_commits(
    ops: Client, program: Program, django_capture_on_commit_callbacks: Commit
) -> None:
    EngagementFactory(program=program)
    assert _participants(ops) == {program.name: 1}
    with django_capture_on_commit_callbacks(execute=False) as pending:
        participants_enrol(users=[UserFactory.build(role=Role.PARTICIPANT)], program=program)
    # Not committed yet: the cached figures stand (the page does not recount).
    assert _participants(ops) == {program.name: 1}
    for callback in pending:
        callback()
    assert _participants(ops) == {program.name: 2}


def test_a_status_change_shows_on_the_report_after_commit(
    ops: Client, program: Program, django_capture_on_commit_callbacks: Commit
) -> None:
    engagement = EngagementFactory(program=program)
    assert _report(ops, program).completed == 0
    staff = UserFactory(role=Role.STAFF)
    with django_capture_on_commit_callbacks(execute=True):
        engagement_cancel(engagement=engagement, actor=staff, reason="Left the company")
    by_status = {value: n for value, _, n in _report(ops, program).by_status}
    assert (by_status[Status.INVITED], by_status[Status.CANCELLED]) == (0, 1)


def test_a_logged_session_and_its_rating_show_on_the_report_after_commit(
    ops: Client, program: Program, django_capture_on_commit_callbacks: Commit
) -> None:
    coach = CoachFactory()
    engagement = engagement_with_coach(program=program, coach=coach)
    before = _report(ops, program)
    assert (before.sessions_held, before.rating_count) == (0, 0)
    assert sum(week.held for week in before.weeks) == 0
    with django_capture_on_commit_callbacks(execute=True):
        session = session_log(
            engagement=engagement,
            coach=coach,
            held_on=timezone.localdate(),
            duration_minutes=60,
            outcome=Outcome.HELD,
        )
    after = _report(ops, program)
    assert after.sessions_held == 1
    assert sum(week.held for week in after.weeks) == 1
    with django_capture_on_commit_callbacks(execute=True):
        session_rate(participant=engagement.participant, session=session, score=4)
    rated = _report(ops, program)
    assert (rated.rating_avg, rated.rating_count) == (4.0, 1)
    assert [(line.rating_avg, line.rating_count) for line in rated.coaches] == [(4.0, 1)]


def test_a_change_to_one_program_leaves_the_others_cached(
    program: Program, django_capture_on_commit_callbacks: Commit, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = EngagementFactory().program
    programs = [program, other]
    program_figures(programs)
    with django_capture_on_commit_callbacks(execute=True):
        participants_enrol(users=[UserFactory.build(role=Role.PARTICIPANT)], program=program)
    seen: list[list[int]] = []
    compute = selectors._figures_of

    def spy(missing: list[int]) -> dict[int, Any]:
        seen.append(sorted(missing))
        return compute(missing)

    monkeypatch.setattr(selectors, "_figures_of", spy)
    figures = program_figures(programs)
    assert seen == [[program.pk]]
    assert (figures[program.pk].total, figures[other.pk].total) == (1, 1)


def test_a_rolled_back_write_keeps_the_cached_figures(
    program: Program, django_capture_on_commit_callbacks: Commit
) -> None:
    EngagementFactory(program=program)
    (first,) = programs_overview(programs=Program.objects.all())
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        try:
            with transaction.atomic():
                participants_enrol(
                    users=[UserFactory.build(role=Role.PARTICIPANT)], program=program
                )
                raise RuntimeError("import failed")
        except RuntimeError:
            pass
    assert callbacks == []
    (again,) = programs_overview(programs=Program.objects.all())
    assert getattr(again, "participants") == getattr(first, "participants") == 1  # noqa: B009


def test_figures_are_computed_when_the_cache_is_down(
    ops: Client, program: Program, monkeypatch: pytest.MonkeyPatch
) -> None:
    EngagementFactory(program=program)

    def down(*args: Any, **kwargs: Any) -> Any:
        raise ConnectionError("cache unreachable")

    for method in ("get_many", "set_many", "add"):
        monkeypatch.setattr(cache, method, down)
    assert _participants(ops) == {program.name: 1}
    assert _report(ops, program).total == 1


@pytest.mark.django_db(transaction=True)
def test_a_committed_write_is_seen_by_the_next_request(client: Client) -> None:
    """Real commits, no captured callbacks: the service's own transaction moves the version."""
    cache.clear()
    login_verified(client, UserFactory(role=Role.STAFF))
    engagement = engagement_with_coach()
    program = engagement.program
    assert _report(client, program).matched == 1
    engagement_cancel(engagement=engagement, actor=User.objects.get(role=Role.STAFF), reason="x")
    by_status = {value: n for value, _, n in _report(client, program).by_status}
    assert by_status[Status.CANCELLED] == 1


def test_a_change_to_the_pool_shows_on_the_report_after_commit(
    ops: Client, program: Program, django_capture_on_commit_callbacks: Commit
) -> None:
    ann, bo = CoachFactory(user__full_name="Ann"), CoachFactory(user__full_name="Bo")
    program.coaches.add(ann)

    def listed() -> list[str]:
        return [line.name for line in _report(ops, program).coaches]

    assert listed() == ["Ann"]
    with django_capture_on_commit_callbacks(execute=False) as pending:
        program.coaches.add(bo)
    assert listed() == ["Ann"]  # not committed yet
    for callback in pending:
        callback()
    assert listed() == ["Ann", "Bo"]
    with django_capture_on_commit_callbacks(execute=True):
        ann.programs.remove(program)  # from the coach's side
    assert listed() == ["Bo"]
    with django_capture_on_commit_callbacks(execute=True):
        bo.programs.clear()
    assert listed() == []
