"""Each rule raises exactly when it should, at its boundary days, with --today."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import time, timedelta

import pytest
import time_machine
from django.core.mail import EmailMultiAlternatives

from engagements.models import Engagement, Program
from nudges.models import FlagKind, NudgeFlag
from nudges.rules import RECIPIENTS, Recipient
from tests.factories import ProgramFactory, engagement_with_coach
from tests.nudges.helpers import NOW, TODAY, in_progress, invited, run_nudges, selected

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def frozen_time() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


def open_kinds(engagement: Engagement) -> set[str]:
    return set(
        NudgeFlag.objects.filter(engagement=engagement, resolved_at__isnull=True).values_list(
            "kind", flat=True
        )
    )


def test_no_coach_selected_raises_on_day_8_and_not_on_day_7() -> None:
    program = ProgramFactory()
    day_7_late = invited(program, days_ago=7, at=time(0, 0))
    day_8_late = invited(program, days_ago=8, at=time(23, 59))

    run_nudges()

    assert open_kinds(day_7_late) == set()
    assert open_kinds(day_8_late) == {FlagKind.NO_COACH_SELECTED}


def test_no_coach_selected_uses_the_programs_own_threshold() -> None:
    program = ProgramFactory(no_coach_selected_days=3)
    day_3 = invited(program, days_ago=3)
    day_4 = invited(program, days_ago=4)

    run_nudges()

    assert open_kinds(day_3) == set()
    assert open_kinds(day_4) == {FlagKind.NO_COACH_SELECTED}


def test_no_first_session_raises_after_14_days_without_a_session() -> None:
    program = ProgramFactory()
    day_14 = selected(program, days_ago=14)
    day_15 = selected(program, days_ago=15)
    day_15_with_session = selected(program, days_ago=15)
    Engagement.objects.filter(pk=day_15_with_session.pk).update(sessions_logged=1)

    run_nudges()

    assert open_kinds(day_14) == set()
    assert open_kinds(day_15) == {FlagKind.NO_FIRST_SESSION}
    assert open_kinds(day_15_with_session) == set()


def test_stalled_raises_when_last_session_is_more_than_30_days_old() -> None:
    program = ProgramFactory()
    day_30 = in_progress(program, last_session_days_ago=30)
    day_31 = in_progress(program, last_session_days_ago=31)

    run_nudges()

    assert open_kinds(day_30) == set()
    assert open_kinds(day_31) == {FlagKind.STALLED}


def test_stalled_ignores_engagements_on_hold() -> None:
    program = ProgramFactory()
    engagement = in_progress(program, last_session_days_ago=60)
    engagement.refresh_from_db()
    engagement.transition_to("on_hold")

    run_nudges()

    assert open_kinds(engagement) == set()


@pytest.mark.parametrize(("ends_in", "raises"), [(22, False), (21, True), (0, True), (-5, True)])
def test_behind_schedule_raises_when_program_ends_within_21_days(
    ends_in: int, raises: bool
) -> None:
    program = ProgramFactory(
        starts_on=TODAY - timedelta(days=150), ends_on=TODAY + timedelta(days=ends_in)
    )
    engagement = in_progress(program, last_session_days_ago=3, sessions=5)

    run_nudges()

    assert (FlagKind.BEHIND_SCHEDULE in open_kinds(engagement)) is raises


def test_behind_schedule_counts_invited_and_on_hold_but_not_finished_ones() -> None:
    program = ProgramFactory(
        starts_on=TODAY - timedelta(days=150), ends_on=TODAY + timedelta(days=10)
    )
    fresh_invite = invited(program, days_ago=1)
    on_hold = in_progress(program, last_session_days_ago=2)
    on_hold.refresh_from_db()
    on_hold.transition_to("on_hold")
    all_sessions_logged = in_progress(program, last_session_days_ago=2, sessions=6)
    completed = engagement_with_coach(program=program)
    completed.transition_to("completed")
    cancelled = invited(program, days_ago=1)
    cancelled.transition_to("cancelled")

    run_nudges()

    assert open_kinds(fresh_invite) == {FlagKind.BEHIND_SCHEDULE}
    assert open_kinds(on_hold) == {FlagKind.BEHIND_SCHEDULE}
    assert open_kinds(all_sessions_logged) == set()
    assert open_kinds(completed) == set()
    assert open_kinds(cancelled) == set()


def test_one_engagement_can_hold_several_kinds_at_once() -> None:
    program = ProgramFactory(
        starts_on=TODAY - timedelta(days=150), ends_on=TODAY + timedelta(days=5)
    )
    engagement = invited(program, days_ago=20)

    run_nudges()

    assert open_kinds(engagement) == {FlagKind.NO_COACH_SELECTED, FlagKind.BEHIND_SCHEDULE}


def test_programs_are_evaluated_with_their_own_thresholds_in_one_run() -> None:
    strict = ProgramFactory(stalled_days=10)
    lenient = ProgramFactory(stalled_days=60)
    strict_one = in_progress(strict, last_session_days_ago=11)
    lenient_one = in_progress(lenient, last_session_days_ago=59)

    output = run_nudges()

    assert open_kinds(strict_one) == {FlagKind.STALLED}
    assert open_kinds(lenient_one) == set()
    assert f"{strict.name} (#{strict.pk}): raised 1, resolved 0, open 1" in output
    assert f"{lenient.name} (#{lenient.pk}): raised 0, resolved 0, open 0" in output


# One engagement per kind that raises that kind alone as of TODAY.
RAISES_ONLY = {
    FlagKind.NO_COACH_SELECTED: lambda: invited(ProgramFactory(), days_ago=10),
    FlagKind.NO_FIRST_SESSION: lambda: selected(ProgramFactory(), days_ago=20),
    FlagKind.STALLED: lambda: in_progress(ProgramFactory(), last_session_days_ago=40),
    FlagKind.BEHIND_SCHEDULE: lambda: in_progress(
        ProgramFactory(ends_on=TODAY + timedelta(days=5)), last_session_days_ago=2
    ),
    FlagKind.UNCONFIRMED_SESSION: lambda: _with_unconfirmed_booking(
        in_progress(ProgramFactory(), last_session_days_ago=2)
    ),
}


def _with_unconfirmed_booking(engagement: Engagement) -> Engagement:
    """A booking of the engagement that ended 4 days ago, not confirmed."""
    from scheduling.models import ScheduledSession

    assert engagement.coach is not None
    ScheduledSession.objects.create(
        coach=engagement.coach,
        engagement=engagement,
        provider="calcom",
        provider_booking_id=f"uid-{engagement.pk}",
        attendee_email=engagement.participant.email,
        starts_at=NOW - timedelta(days=4),
        ends_at=NOW - timedelta(days=4) + timedelta(hours=1),
    )
    return engagement


def test_every_kind_states_who_is_reminded() -> None:
    assert set(RECIPIENTS) == set(FlagKind)
    assert set(RAISES_ONLY) == set(FlagKind)


@pytest.mark.parametrize("owed", [False, True], ids=["newly-raised", "owed-on-open-flag"])
@pytest.mark.parametrize("kind", list(FlagKind))
def test_dry_run_counts_exactly_the_reminders_the_recipients_map_sends(
    kind: FlagKind,
    owed: bool,
    mailoutbox: list[EmailMultiAlternatives],
    run_worker: Callable[[], int],
) -> None:
    """The dry run's message count, the messages sent and RECIPIENTS agree, kind by kind.

    Both ways the dry run counts: reminders for flags it would raise, and reminders
    still owed on open flags (raised while the program's reminders were off).
    """
    engagement = RAISES_ONLY[kind]()
    engagement.refresh_from_db()
    if owed:
        Program.objects.filter(pk=engagement.program_id).update(reminders_enabled=False)
        run_nudges()
        Program.objects.filter(pk=engagement.program_id).update(reminders_enabled=True)
    address = {
        Recipient.PARTICIPANT: engagement.participant.email,
        Recipient.COACH: engagement.coach.user.email if engagement.coach else None,
    }

    dry_run = run_nudges("--dry-run")
    run_nudges()
    run_worker()

    assert list(NudgeFlag.objects.values_list("kind", flat=True)) == [kind]
    expected = sorted([address[recipient]] for recipient in RECIPIENTS[kind])
    assert sorted(message.to for message in mailoutbox) == expected
    assert f"would send {len(expected)} reminder email(s)" in dry_run
