"""Nudges that know about bookings, the unconfirmed_session flag in the coach's digest,
and the participant's reminder 24 hours before a booked session."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any

import pytest
import time_machine
from django_tasks_db.models import DBTaskResult

from engagements.models import Engagement
from nudges.models import FlagKind, NudgeFlag
from nudges.rules import RECIPIENTS, Recipient
from scheduling.models import ScheduledSession, SessionStatus
from scheduling.services import booking_confirm
from tests.factories import ProgramFactory
from tests.nudges.helpers import NOW, day, in_progress, run_nudges, selected
from tests.scheduling.payloads import calendly, deliver, invitee_uri

pytestmark = pytest.mark.django_db


def open_kinds(engagement: Engagement) -> set[str]:
    return set(
        NudgeFlag.objects.filter(engagement=engagement, resolved_at__isnull=True).values_list(
            "kind", flat=True
        )
    )


def book(engagement: Engagement, start: datetime, n: int = 0, **fields: Any) -> ScheduledSession:
    assert engagement.coach is not None
    return ScheduledSession.objects.create(
        coach=engagement.coach,
        engagement=engagement,
        provider="calcom",
        provider_booking_id=f"uid-{engagement.pk}-{n}",
        attendee_email=engagement.participant.email,
        starts_at=start,
        ends_at=start + timedelta(hours=1),
        **fields,
    )


@time_machine.travel(NOW, tick=False)
def test_no_first_session_is_not_raised_while_a_first_session_is_booked_ahead() -> None:
    program = ProgramFactory()
    waiting = selected(program, days_ago=20)
    booked = selected(program, days_ago=20)
    book(booked, NOW + timedelta(days=3))
    booked_today = selected(program, days_ago=20)
    book(booked_today, day(0, time(18)))
    cancelled = selected(program, days_ago=20)
    book(cancelled, NOW + timedelta(days=3), status=SessionStatus.CANCELLED)

    run_nudges()

    assert open_kinds(waiting) == {FlagKind.NO_FIRST_SESSION}
    assert open_kinds(booked) == open_kinds(booked_today) == set()
    assert open_kinds(cancelled) == {FlagKind.NO_FIRST_SESSION}


@time_machine.travel(NOW, tick=False)
def test_a_booking_resolves_an_open_no_first_session_flag() -> None:
    engagement = selected(ProgramFactory(), days_ago=20)
    run_nudges()
    assert open_kinds(engagement) == {FlagKind.NO_FIRST_SESSION}
    book(engagement, NOW + timedelta(days=2))
    run_nudges()
    assert open_kinds(engagement) == set()


@time_machine.travel(NOW, tick=False)
def test_stalled_counts_a_future_booking_as_movement() -> None:
    program = ProgramFactory()
    stalled = in_progress(program, last_session_days_ago=40)
    moving = in_progress(program, last_session_days_ago=40)
    book(moving, NOW + timedelta(days=5))
    past_only = in_progress(program, last_session_days_ago=40)
    book(past_only, NOW - timedelta(days=1), confirmed_session=None)

    run_nudges()

    assert FlagKind.STALLED in open_kinds(stalled)
    assert FlagKind.STALLED not in open_kinds(moving)
    assert FlagKind.STALLED in open_kinds(past_only)


@time_machine.travel(NOW, tick=False)
def test_unconfirmed_session_is_raised_when_a_booking_ended_over_2_days_ago() -> None:
    program = ProgramFactory()
    two_days = in_progress(program, last_session_days_ago=5)
    book(two_days, day(2, time(10)))
    three_days = in_progress(program, last_session_days_ago=5)
    book(three_days, day(3, time(10)))
    confirmed = in_progress(program, last_session_days_ago=5)
    old = book(confirmed, day(3, time(10)))
    cancelled = in_progress(program, last_session_days_ago=5)
    book(cancelled, day(3, time(10)), status=SessionStatus.CANCELLED)

    assert confirmed.coach is not None
    booking_confirm(scheduled=old, coach=confirmed.coach, outcome="held")
    run_nudges()

    assert FlagKind.UNCONFIRMED_SESSION not in open_kinds(two_days)
    assert FlagKind.UNCONFIRMED_SESSION in open_kinds(three_days)
    assert FlagKind.UNCONFIRMED_SESSION not in open_kinds(confirmed)
    assert FlagKind.UNCONFIRMED_SESSION not in open_kinds(cancelled)


@time_machine.travel(NOW, tick=False)
def test_confirming_resolves_the_flag_at_the_next_run() -> None:
    engagement = in_progress(ProgramFactory(), last_session_days_ago=5)
    booking = book(engagement, day(4, time(10)))
    run_nudges()
    assert FlagKind.UNCONFIRMED_SESSION in open_kinds(engagement)
    assert engagement.coach is not None
    booking_confirm(scheduled=booking, coach=engagement.coach, outcome="no_show")
    run_nudges()
    assert FlagKind.UNCONFIRMED_SESSION not in open_kinds(engagement)


def test_unconfirmed_session_reminds_the_coach_only() -> None:
    assert RECIPIENTS[FlagKind.UNCONFIRMED_SESSION] == (Recipient.COACH,)


@time_machine.travel(NOW, tick=False)
def test_the_coachs_digest_lists_the_unconfirmed_session_with_the_workspace_link(
    mailoutbox: Any, run_worker: Any, settings: Any
) -> None:
    engagement = in_progress(
        ProgramFactory(), last_session_days_ago=5, participant__full_name="Pia Person"
    )
    book(engagement, day(4, time(10)))
    run_nudges()
    run_worker()
    assert engagement.coach is not None
    (mail,) = [m for m in mailoutbox if m.to == [engagement.coach.user.email]]
    assert "Pia Person" in mail.body and "not confirmed yet" in mail.body
    assert f"{settings.SITE_URL}/coach/" in mail.body
    assert not [m for m in mailoutbox if m.to == [engagement.participant.email]]


# --- The 24-hour reminder ----------------------------------------------------------

START = datetime(2026, 12, 10, 9, 0, tzinfo=UTC)
BOOKED_AT = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


def _reminders() -> list[DBTaskResult]:
    return list(DBTaskResult.objects.filter(task_path="scheduling.reminders.booking_reminder_send"))


def _deliver_at(client: Any, endpoint: Any, data: Any, when: datetime) -> None:
    with time_machine.travel(when, tick=False):
        assert deliver(client, "calendly", endpoint, data).status_code == 200


def test_a_booking_queues_its_reminder_for_24_hours_before(
    client: Any, endpoint: Any, engagement: Any
) -> None:
    data = calendly(
        "invitee.created", invitee=invitee_uri(1), start=START, email="pia@client.example"
    )
    _deliver_at(client, endpoint, data, BOOKED_AT)
    (task,) = _reminders()
    assert task.run_after == START - timedelta(hours=24)
    _deliver_at(client, endpoint, data, BOOKED_AT)  # the same delivery again
    assert len(_reminders()) == 1


def test_the_reminder_is_sent_at_its_time(
    client: Any, endpoint: Any, engagement: Any, run_worker: Any, mailoutbox: Any
) -> None:
    data = calendly(
        "invitee.created", invitee=invitee_uri(1), start=START, email="pia@client.example"
    )
    _deliver_at(client, endpoint, data, BOOKED_AT)
    with time_machine.travel(START - timedelta(hours=25), tick=False):
        run_worker()
    assert mailoutbox == []
    with time_machine.travel(START - timedelta(hours=24), tick=False):
        run_worker()
    (mail,) = mailoutbox
    assert mail.to == ["pia@client.example"]
    assert "Carla Coach" in mail.subject
    assert "Thursday 10 December 2026, from 09:00 to 10:00 (UTC)" in mail.body.replace("\n", " ")


def test_a_cancelled_booking_sends_no_reminder(
    client: Any, endpoint: Any, engagement: Any, run_worker: Any, mailoutbox: Any
) -> None:
    uri = invitee_uri(1)
    _deliver_at(
        client,
        endpoint,
        calendly("invitee.created", invitee=uri, start=START, email="pia@client.example"),
        BOOKED_AT,
    )
    _deliver_at(
        client,
        endpoint,
        calendly("invitee.canceled", invitee=uri, start=START, email="pia@client.example"),
        BOOKED_AT,
    )
    with time_machine.travel(START - timedelta(hours=23), tick=False):
        run_worker()
    assert mailoutbox == []


def test_a_moved_booking_sends_one_reminder_for_its_new_time(
    client: Any, endpoint: Any, engagement: Any, run_worker: Any, mailoutbox: Any
) -> None:
    old, new = invitee_uri(1), invitee_uri(2)
    moved = START + timedelta(days=2)
    email = "pia@client.example"
    _deliver_at(
        client,
        endpoint,
        calendly("invitee.created", invitee=old, start=START, email=email),
        BOOKED_AT,
    )
    _deliver_at(
        client,
        endpoint,
        calendly(
            "invitee.canceled",
            invitee=old,
            start=START,
            email=email,
            rescheduled=True,
            new_invitee=new,
        ),
        BOOKED_AT,
    )
    _deliver_at(
        client,
        endpoint,
        calendly("invitee.created", invitee=new, start=moved, email=email, old_invitee=old),
        BOOKED_AT,
    )
    with time_machine.travel(START, tick=False):
        run_worker()
    assert mailoutbox == []  # the old time's reminder found the booking moved
    with time_machine.travel(moved - timedelta(hours=23), tick=False):
        run_worker()
    (mail,) = mailoutbox
    assert "Saturday 12 December 2026" in mail.body


def test_no_reminder_for_a_booking_less_than_a_day_ahead_or_unmatched(
    client: Any, endpoint: Any, engagement: Any
) -> None:
    soon = calendly(
        "invitee.created",
        invitee=invitee_uri(1),
        start=BOOKED_AT + timedelta(hours=20),
        email="pia@client.example",
    )
    stranger = calendly(
        "invitee.created", invitee=invitee_uri(2), start=START, email="who@else.example"
    )
    _deliver_at(client, endpoint, soon, BOOKED_AT)
    _deliver_at(client, endpoint, stranger, BOOKED_AT)
    assert _reminders() == []


def test_a_participant_who_turned_reminders_off_gets_none(
    client: Any, endpoint: Any, engagement: Any, run_worker: Any, mailoutbox: Any
) -> None:
    data = calendly(
        "invitee.created", invitee=invitee_uri(1), start=START, email="pia@client.example"
    )
    _deliver_at(client, endpoint, data, BOOKED_AT)
    engagement.participant.reminders_enabled = False
    engagement.participant.save(update_fields=["reminders_enabled"])
    with time_machine.travel(START - timedelta(hours=23), tick=False):
        run_worker()
    assert mailoutbox == []


def test_a_booking_assigned_by_staff_gets_its_reminder(
    coach_profile: Any, engagement: Any, staff: Any
) -> None:
    from scheduling.services import booking_assign

    with time_machine.travel(BOOKED_AT, tick=False):
        unmatched = ScheduledSession.objects.create(
            coach=coach_profile,
            provider="calcom",
            provider_booking_id="x",
            attendee_email="typo@client.example",
            starts_at=START,
            ends_at=START + timedelta(hours=1),
        )
        booking_assign(scheduled=unmatched, engagement=engagement, actor=staff)
    assert len(_reminders()) == 1
