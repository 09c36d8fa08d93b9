"""The run as a whole: resolution, re-raising, the hour guard, dry runs, failures, cost."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.contrib.auth.hashers import make_password
from django.core.mail import EmailMultiAlternatives
from django.core.management import CommandError, call_command
from django.db import connection
from pytest_django import DjangoAssertNumQueries

from accounts.models import Role, User
from engagements.models import Engagement, Program
from nudges import services
from nudges.models import FlagKind, NudgeFlag, NudgeRun
from tests.factories import CoachFactory, ProgramFactory
from tests.nudges.helpers import NOW, TODAY, day, in_progress, invited, run_nudges, selected

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def frozen_time() -> Iterator[time_machine.Traveller]:
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def test_flag_resolves_by_itself_when_the_condition_clears() -> None:
    program = ProgramFactory()
    engagement = invited(program, days_ago=10)
    run_nudges()
    flag = NudgeFlag.objects.get(engagement=engagement)

    engagement.transition_to("coach_selected", changes={"coach": CoachFactory()})
    output = run_nudges(today=TODAY + timedelta(days=1))

    flag.refresh_from_db()
    assert flag.resolved_at == NOW
    assert "raised 0, resolved 1, open 0" in output


def test_open_flag_is_not_raised_again() -> None:
    program = ProgramFactory()
    engagement = invited(program, days_ago=10)

    run_nudges()
    output = run_nudges(today=TODAY + timedelta(days=1))

    assert NudgeFlag.objects.filter(engagement=engagement).count() == 1
    assert "raised 0, resolved 0, open 1" in output


def test_flag_is_raised_anew_after_resolution_when_the_condition_returns() -> None:
    program = ProgramFactory()
    engagement = in_progress(program, last_session_days_ago=40)
    run_nudges()
    Engagement.objects.filter(pk=engagement.pk).update(last_session_on=TODAY)
    run_nudges()
    Engagement.objects.filter(pk=engagement.pk).update(last_session_on=TODAY - timedelta(days=31))

    run_nudges()

    flags = NudgeFlag.objects.filter(engagement=engagement, kind=FlagKind.STALLED)
    assert flags.count() == 2
    assert flags.filter(resolved_at__isnull=True).count() == 1


def test_a_program_becomes_clear_when_its_threshold_is_raised() -> None:
    program = ProgramFactory()
    invited(program, days_ago=10)
    run_nudges()
    program.no_coach_selected_days = 30
    program.save()

    output = run_nudges()

    assert "raised 0, resolved 1, open 0" in output


def test_every_run_is_recorded_with_its_counts() -> None:
    program = ProgramFactory()
    invited(program, days_ago=10)
    selected(program, days_ago=20)

    output = run_nudges()

    run = NudgeRun.objects.get()
    assert (run.outcome, run.raised, run.resolved, run.open_flags) == ("succeeded", 2, 0, 2)
    assert run.emails_sent == 3
    assert (run.started_at, run.finished_at, run.as_of, run.forced) == (NOW, NOW, TODAY, True)
    assert f"Nudge run #{run.pk} for {TODAY} succeeded." in output


def test_run_within_an_hour_of_the_last_success_does_nothing_and_says_so(
    frozen_time: time_machine.Traveller,
) -> None:
    program = ProgramFactory()
    invited(program, days_ago=10)
    run_nudges(force=False)
    NudgeFlag.objects.update(resolved_at=NOW)
    frozen_time.shift(timedelta(minutes=59))

    output = run_nudges(force=False)

    assert "less than an hour ago; nothing done. Use --force" in output
    assert NudgeFlag.objects.filter(resolved_at__isnull=True).count() == 0
    last_run = NudgeRun.objects.order_by("pk").last()
    assert last_run is not None and last_run.outcome == NudgeRun.Outcome.SKIPPED


def test_force_runs_within_the_hour_and_an_hour_later_the_guard_lets_a_run_through(
    frozen_time: time_machine.Traveller,
) -> None:
    program = ProgramFactory()
    invited(program, days_ago=10)
    run_nudges(force=False)
    NudgeFlag.objects.update(resolved_at=NOW)

    run_nudges(force=True)
    assert NudgeFlag.objects.filter(resolved_at__isnull=True).count() == 1

    NudgeFlag.objects.update(resolved_at=NOW)
    frozen_time.shift(timedelta(minutes=61))
    run_nudges(force=False)
    assert NudgeFlag.objects.filter(resolved_at__isnull=True).count() == 1


def test_a_failed_run_does_not_hold_back_the_next_one(monkeypatch: pytest.MonkeyPatch) -> None:
    program = ProgramFactory()
    invited(program, days_ago=10)
    monkeypatch.setattr(services, "_raise_flags", _boom)
    with pytest.raises(CommandError):
        run_nudges(force=False)
    monkeypatch.undo()

    output = run_nudges(force=False)

    assert "raised 1" in output


def test_dry_run_writes_nothing_sends_nothing_and_says_what_it_would_do(
    mailoutbox: list[EmailMultiAlternatives], run_worker: Callable[[], int]
) -> None:
    program = ProgramFactory()
    invited(program, days_ago=10)
    selected(program, days_ago=20)
    resolvable = invited(program, days_ago=10)
    NudgeFlag.objects.create(engagement=resolvable, kind=FlagKind.STALLED, raised_at=day(2))

    output = run_nudges("--dry-run")

    assert "would raise 3 (no_coach_selected 2, no_first_session 1), would resolve 1" in output
    assert "open now 1" in output
    assert "would send 4 reminder email(s); nothing was written or sent." in output
    assert NudgeFlag.objects.count() == 1
    assert NudgeFlag.objects.get().resolved_at is None
    assert NudgeRun.objects.count() == 0
    assert run_worker() == 0
    assert mailoutbox == []


def test_dry_run_mentions_that_a_real_run_would_be_skipped() -> None:
    ProgramFactory()
    run_nudges(force=False)

    output = run_nudges("--dry-run", force=False)

    assert "A run now would be skipped" in output


@pytest.mark.parametrize("bad", ["2026-13-01", "16/03/2026", "tomorrow", "2026-02-30", "20260316"])
def test_bad_today_is_refused_with_a_clear_message_and_nothing_written(bad: str) -> None:
    program = ProgramFactory()
    invited(program, days_ago=10)

    with pytest.raises(CommandError, match="--today must be a date written YYYY-MM-DD"):
        call_command("run_nudges", "--today", bad)

    assert NudgeFlag.objects.count() == 0
    assert NudgeRun.objects.count() == 0


def _boom(**kwargs: object) -> None:
    raise RuntimeError("database went away")


def test_failure_leaves_that_program_unchanged_applies_the_others_and_exits_non_zero(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    good = ProgramFactory(name="A good program")
    bad = ProgramFactory(name="B bad program")
    good_one = invited(good, days_ago=10)
    bad_one = invited(bad, days_ago=10)
    cleared = selected(bad, days_ago=1)
    stale_flag = NudgeFlag.objects.create(engagement=cleared, kind=FlagKind.NO_FIRST_SESSION)
    real_raise = services._raise_flags

    def raise_but_fail_for_bad(**kwargs: Any) -> list[tuple[int, str]]:
        if kwargs["program"] == bad:
            raise RuntimeError("database went away")
        return real_raise(**kwargs)

    monkeypatch.setattr(services, "_raise_flags", raise_but_fail_for_bad)

    with pytest.raises(CommandError, match="FAILED for B bad program"):
        run_nudges()

    assert NudgeFlag.objects.filter(engagement=good_one).count() == 1
    assert NudgeFlag.objects.filter(engagement=bad_one).count() == 0
    stale_flag.refresh_from_db()
    assert stale_flag.resolved_at is None  # the resolution was rolled back with the rest
    run = NudgeRun.objects.get()
    assert run.outcome == NudgeRun.Outcome.FAILED
    assert "RuntimeError: database went away" in run.detail


def _bulk_invited(program: Program, n: int) -> None:
    """n invited engagements, flagged by no_coach_selected, written in two statements."""
    start = User.objects.count()
    users = User.objects.bulk_create(
        User(
            email=f"bulk{start + i}@example.com",
            full_name=f"Bulk {i}",
            role=Role.PARTICIPANT,
            password=make_password(None),
        )
        for i in range(n)
    )
    Engagement.objects.bulk_create(
        Engagement(participant=user, program=program, invited_at=day(10)) for user in users
    )


def expected_run_queries(programs: int = 1) -> int:
    # programs, last success, create run, per program (savepoint, resolve, insert,
    # release), open counts, the reminders owed (ids by person), the batch's flags,
    # then savepoint, one INSERT queueing every digest, one UPDATE recording the
    # deliveries and release; finish run;
    # on PostgreSQL also the advisory lock and unlock, ANALYZE of the flag table
    # and, per program, SET LOCAL enable_nestloop.
    per_program = 4 + (1 if connection.vendor == "postgresql" else 0)
    return 11 + (3 if connection.vendor == "postgresql" else 0) + per_program * programs


@pytest.mark.parametrize("size", [10, 2000])
def test_query_count_of_a_run_does_not_grow_with_engagements(
    size: int,
    django_assert_num_queries: DjangoAssertNumQueries,
    mailoutbox: list[EmailMultiAlternatives],
    run_worker: Callable[[], int],
) -> None:
    program = ProgramFactory()
    selected(program, days_ago=20)
    in_progress(program, last_session_days_ago=40)
    _bulk_invited(program, size - 2)

    with django_assert_num_queries(expected_run_queries()):
        run_nudges()
    run_worker()

    assert NudgeFlag.objects.filter(resolved_at__isnull=True).count() == size
    assert len(mailoutbox) == size + 2


def test_flags_carry_their_engagements_program() -> None:
    first, second = ProgramFactory(), ProgramFactory()
    raised = [invited(first, days_ago=10), invited(second, days_ago=10)]
    run_nudges()
    by_hand = NudgeFlag.objects.create(engagement=raised[0], kind=FlagKind.STALLED)

    flags = NudgeFlag.objects.select_related("engagement")
    assert {(f.engagement_id, f.program_id) for f in flags} == {
        (raised[0].pk, first.pk),
        (raised[1].pk, second.pk),
    }
    assert by_hand.program_id == first.pk
