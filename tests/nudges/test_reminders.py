"""Reminder emails: who gets what, once per flag, after commit, through the worker
(which retries a failed send)."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.core.mail.backends.locmem import EmailBackend
from django.db import connection

from nudges.models import FlagKind, NudgeFlag
from tests.factories import CoachFactory, ProgramFactory
from tests.nudges.helpers import NOW, TODAY, in_progress, invited, run_nudges, selected

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def frozen_time():  # noqa: ANN201
    with time_machine.travel(NOW, tick=False):
        yield


def test_no_coach_selected_emails_the_participant_a_sign_in_link(
    mailoutbox, settings, run_worker
) -> None:  # noqa: ANN001
    settings.SITE_URL = "https://coachdesk.example.com"
    engagement = invited(ProgramFactory(name="Leaders 2026"), days_ago=8)

    run_nudges()
    run_worker()

    [message] = mailoutbox
    assert message.to == [engagement.participant.email]
    assert message.subject == "Choose your coach for Leaders 2026"
    assert "https://coachdesk.example.com/login/" in message.body
    assert "https://coachdesk.example.com/login/" in message.alternatives[0].content
    flag = NudgeFlag.objects.get()
    assert flag.notified_at == NOW
    assert flag.participant_notified_at == NOW


@pytest.mark.parametrize(
    ("make", "kind"),
    [
        (lambda program: selected(program, days_ago=15), FlagKind.NO_FIRST_SESSION),
        (lambda program: in_progress(program, last_session_days_ago=31), FlagKind.STALLED),
    ],
)
def test_coach_is_asked_to_log_and_participant_to_book(
    make, kind, mailoutbox, settings, run_worker
) -> None:  # noqa: ANN001
    settings.SITE_URL = "https://coachdesk.example.com"
    engagement = make(ProgramFactory())
    engagement.refresh_from_db()
    coach = engagement.coach

    run_nudges()
    run_worker()

    by_recipient = {tuple(m.to): m for m in mailoutbox}
    assert set(by_recipient) == {(coach.user.email,), (engagement.participant.email,)}
    to_coach = by_recipient[(coach.user.email,)]
    log_url = f"https://coachdesk.example.com/coach/engagements/{engagement.public_id}/"
    assert "Has a session happened? Log it here" in to_coach.body
    assert log_url in to_coach.body
    to_participant = by_recipient[(engagement.participant.email,)]
    assert "Book your next session" in to_participant.body
    assert coach.booking_url in to_participant.body
    flag = NudgeFlag.objects.get(kind=kind)
    assert (flag.notified_at, flag.coach_notified_at, flag.participant_notified_at) == (
        NOW,
        NOW,
        NOW,
    )


def test_participant_is_told_how_to_book_when_the_coach_has_no_booking_link(
    mailoutbox, run_worker
) -> None:  # noqa: ANN001
    selected(ProgramFactory(), days_ago=15, coach=CoachFactory(booking_url=""))

    run_nudges()
    run_worker()

    [to_participant] = [m for m in mailoutbox if "Book your first" in m.body]
    assert "Reply to your coach's last email" in to_participant.body


def test_behind_schedule_sends_no_email(mailoutbox, run_worker) -> None:  # noqa: ANN001
    program = ProgramFactory(ends_on=TODAY + timedelta(days=5))
    in_progress(program, last_session_days_ago=2)

    run_nudges()
    assert run_worker() == 0

    assert NudgeFlag.objects.get().kind == FlagKind.BEHIND_SCHEDULE
    assert mailoutbox == []


def test_reminders_switched_off_for_a_program_send_nothing(mailoutbox, run_worker) -> None:  # noqa: ANN001
    quiet = ProgramFactory(reminders_enabled=False)
    loud = ProgramFactory()
    invited(quiet, days_ago=10)
    loud_one = invited(loud, days_ago=10)

    output = run_nudges()
    run_worker()

    assert [m.to for m in mailoutbox] == [[loud_one.participant.email]]
    assert NudgeFlag.objects.filter(notified_at__isnull=True).count() == 1
    assert "Reminders: 1 email(s) sent, 0 failed" in output


def test_exactly_one_email_per_raised_flag_across_runs(mailoutbox, run_worker) -> None:  # noqa: ANN001
    program = ProgramFactory()
    invited(program, days_ago=10)
    selected(program, days_ago=20)

    run_nudges()
    run_worker()
    run_nudges(today=TODAY + timedelta(days=1))
    run_worker()
    run_nudges(today=TODAY + timedelta(days=2))
    run_worker()

    assert len(mailoutbox) == 3  # one participant; coach and participant


def _fail_for(monkeypatch, address: str) -> list[str]:  # noqa: ANN001
    """Make the mail backend raise for one address; return the addresses attempted."""
    attempted: list[str] = []
    real_send = EmailBackend.send_messages

    def send_messages(self, messages):  # noqa: ANN001, ANN202
        for message in messages:
            attempted.extend(message.to)
            if address in message.to:
                raise ConnectionRefusedError("smtp down for " + address)
        return real_send(self, messages)

    monkeypatch.setattr(EmailBackend, "send_messages", send_messages)
    return attempted


def test_failed_send_does_not_block_the_others_and_the_worker_retries_it(
    mailoutbox,  # noqa: ANN001
    caplog,  # noqa: ANN001
    run_worker,  # noqa: ANN001
) -> None:
    program = ProgramFactory()
    first = invited(program, days_ago=10)
    unlucky = selected(program, days_ago=20)
    unlucky.refresh_from_db()
    last = invited(program, days_ago=10)
    coach_email = unlucky.coach.user.email

    with pytest.MonkeyPatch.context() as outage:
        _fail_for(outage, coach_email)
        output = run_nudges()
        run_worker()

    delivered = sorted(m.to[0] for m in mailoutbox)
    assert delivered == sorted(
        [first.participant.email, unlucky.participant.email, last.participant.email]
    )
    assert "Reminders: 4 email(s) sent, 0 failed" in output  # all four are in the queue
    assert coach_email not in caplog.text
    flag = NudgeFlag.objects.get(engagement=unlucky)
    assert (flag.notified_at, flag.coach_notified_at, flag.participant_notified_at) == (
        NOW,
        NOW,
        NOW,
    )

    mailoutbox.clear()
    with time_machine.travel(NOW + timedelta(minutes=5), tick=False):
        assert run_worker() == 1  # the failed one, after its backoff
    assert [m.to for m in mailoutbox] == [[coach_email]]  # the participant is not emailed twice
    output = run_nudges(today=TODAY + timedelta(days=1))
    assert "Reminders: 0 email(s) sent, 0 failed" in output
    assert run_worker() == 0


@pytest.mark.django_db(transaction=True)
def test_emails_are_sent_only_after_the_flags_are_committed(
    monkeypatch, mailoutbox, run_worker
) -> None:  # noqa: ANN001
    invited(ProgramFactory(), days_ago=10)
    seen: list[tuple[bool, int]] = []
    real_send = EmailBackend.send_messages

    def send_messages(self, messages):  # noqa: ANN001, ANN202
        seen.append((connection.in_atomic_block, NudgeFlag.objects.count()))
        return real_send(self, messages)

    monkeypatch.setattr(EmailBackend, "send_messages", send_messages)

    run_nudges()
    assert seen == []  # the run only queues; the worker sends
    run_worker()

    assert seen == [(False, 1)]
    assert len(mailoutbox) == 1
