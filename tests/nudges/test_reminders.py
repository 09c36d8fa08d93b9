"""Reminder emails: who gets what, once per flag, one digest per person per run,
after commit, through the worker (which retries a failed send)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from datetime import timedelta

import pytest
import time_machine
from django.core.mail import EmailMessage, EmailMultiAlternatives
from django.core.mail.backends.locmem import EmailBackend
from django.db import connection
from pytest_django import DjangoAssertNumQueries, Settings

from accounts.models import User
from engagements.models import Engagement, Program
from nudges import reminders
from nudges.models import FlagKind, NudgeFlag
from nudges.rules import Recipient
from tests.factories import CoachFactory, ProgramFactory
from tests.mail import html_part
from tests.nudges.helpers import NOW, TODAY, in_progress, invited, run_nudges, selected
from tests.nudges.test_run_nudges import expected_run_queries

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def frozen_time() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


def test_no_coach_selected_emails_the_participant_a_sign_in_link(
    mailoutbox: list[EmailMultiAlternatives], settings: Settings, run_worker: Callable[[], int]
) -> None:
    settings.SITE_URL = "https://coachdesk.example.com"
    engagement = invited(ProgramFactory(name="Leaders 2026"), days_ago=8)

    run_nudges()
    run_worker()

    [message] = mailoutbox
    assert message.to == [engagement.participant.email]
    assert message.subject == "Choose your coach for Leaders 2026"
    assert "https://coachdesk.example.com/login/" in message.body
    assert "https://coachdesk.example.com/login/" in html_part(message)
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
    make: Callable[[Program], Engagement],
    kind: FlagKind,
    mailoutbox: list[EmailMultiAlternatives],
    settings: Settings,
    run_worker: Callable[[], int],
) -> None:
    settings.SITE_URL = "https://coachdesk.example.com"
    engagement = make(ProgramFactory())
    engagement.refresh_from_db()
    coach = engagement.coach
    assert coach is not None

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
    assert coach.booking_url in str(to_participant.body)
    flag = NudgeFlag.objects.get(kind=kind)
    assert (flag.notified_at, flag.coach_notified_at, flag.participant_notified_at) == (
        NOW,
        NOW,
        NOW,
    )


def test_participant_is_told_how_to_book_when_the_coach_has_no_booking_link(
    mailoutbox: list[EmailMultiAlternatives], run_worker: Callable[[], int]
) -> None:
    selected(ProgramFactory(), days_ago=15, coach=CoachFactory(booking_url=""))

    run_nudges()
    run_worker()

    [to_participant] = [m for m in mailoutbox if "Book your first" in m.body]
    assert "Reply to your coach's last email" in to_participant.body


def test_behind_schedule_sends_no_email(
    mailoutbox: list[EmailMultiAlternatives], run_worker: Callable[[], int]
) -> None:
    program = ProgramFactory(ends_on=TODAY + timedelta(days=5))
    in_progress(program, last_session_days_ago=2)

    run_nudges()
    assert run_worker() == 0

    assert NudgeFlag.objects.get().kind == FlagKind.BEHIND_SCHEDULE
    assert mailoutbox == []


def test_reminders_switched_off_for_a_program_send_nothing(
    mailoutbox: list[EmailMultiAlternatives], run_worker: Callable[[], int]
) -> None:
    quiet = ProgramFactory(reminders_enabled=False)
    loud = ProgramFactory()
    invited(quiet, days_ago=10)
    loud_one = invited(loud, days_ago=10)

    output = run_nudges()
    run_worker()

    assert [m.to for m in mailoutbox] == [[loud_one.participant.email]]
    assert NudgeFlag.objects.filter(notified_at__isnull=True).count() == 1
    assert "Reminders: 1 email(s) sent, 0 failed" in output


def test_exactly_one_email_per_raised_flag_across_runs(
    mailoutbox: list[EmailMultiAlternatives], run_worker: Callable[[], int]
) -> None:
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


def _fail_for(monkeypatch: pytest.MonkeyPatch, address: str) -> list[str]:
    """Make the mail backend raise for one address; return the addresses attempted."""
    attempted: list[str] = []
    real_send = EmailBackend.send_messages

    def send_messages(self: EmailBackend, messages: Sequence[EmailMessage]) -> int:
        for message in messages:
            attempted.extend(message.to)
            if address in message.to:
                raise ConnectionRefusedError("smtp down for " + address)
        return real_send(self, messages)

    monkeypatch.setattr(EmailBackend, "send_messages", send_messages)
    return attempted


def test_failed_send_does_not_block_the_others_and_the_worker_retries_it(
    mailoutbox: list[EmailMultiAlternatives],
    caplog: pytest.LogCaptureFixture,
    run_worker: Callable[[], int],
) -> None:
    program = ProgramFactory()
    first = invited(program, days_ago=10)
    unlucky = selected(program, days_ago=20)
    unlucky.refresh_from_db()
    last = invited(program, days_ago=10)
    assert unlucky.coach is not None
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
    monkeypatch: pytest.MonkeyPatch,
    mailoutbox: list[EmailMultiAlternatives],
    run_worker: Callable[[], int],
) -> None:
    invited(ProgramFactory(), days_ago=10)
    seen: list[tuple[bool, int]] = []
    real_send = EmailBackend.send_messages

    def send_messages(self: EmailBackend, messages: Sequence[EmailMessage]) -> int:
        seen.append((connection.in_atomic_block, NudgeFlag.objects.count()))
        return real_send(self, messages)

    monkeypatch.setattr(EmailBackend, "send_messages", send_messages)

    run_nudges()
    assert seen == []  # the run only queues; the worker sends
    run_worker()

    assert seen == [(False, 1)]
    assert len(mailoutbox) == 1


def _links(message: EmailMessage) -> list[str]:
    return [line.strip() for line in str(message.body).splitlines() if line.startswith("    http")]


def test_a_coach_with_three_stuck_engagements_gets_one_digest_listing_each(
    mailoutbox: list[EmailMultiAlternatives],
    settings: Settings,
    run_worker: Callable[[], int],
    django_assert_num_queries: DjangoAssertNumQueries,
) -> None:
    settings.SITE_URL = "https://coachdesk.example.com"
    coach = CoachFactory(user__full_name="Zoe Coach")
    first, second = ProgramFactory(name="A Leaders"), ProgramFactory(name="B Builders")
    stuck = [
        selected(first, days_ago=20, coach=coach),
        selected(second, days_ago=15, coach=coach),
        in_progress(first, last_session_days_ago=40, coach=coach),
    ]

    with django_assert_num_queries(expected_run_queries(programs=2)):
        output = run_nudges()
    run_worker()

    to_coach = [m for m in mailoutbox if m.to == [coach.user.email]]
    assert len(to_coach) == 1
    [digest] = to_coach
    assert digest.subject == "Have your sessions with 3 participants happened?"
    assert sorted(_links(digest)) == sorted(
        f"https://coachdesk.example.com/coach/engagements/{e.public_id}/" for e in stuck
    )
    html = html_part(digest)
    for engagement in stuck:
        person, program = engagement.participant.full_name, engagement.program.name
        assert f"{person} ({program})" in " ".join(digest.body.split())
        link = f"https://coachdesk.example.com/coach/engagements/{engagement.public_id}/"
        assert f'href="{link}"' in html
    # Each participant gets their own, and the summary counts emails, not flags.
    assert len(mailoutbox) == 4
    assert "Reminders: 4 email(s) sent, 0 failed" in output
    assert set(
        NudgeFlag.objects.values_list("notified_at", "coach_notified_at", "participant_notified_at")
    ) == {(NOW, NOW, NOW)}


def test_a_participant_in_two_programs_gets_one_digest(
    mailoutbox: list[EmailMultiAlternatives], run_worker: Callable[[], int]
) -> None:
    person = invited(ProgramFactory(name="A Leaders"), days_ago=10).participant
    other = selected(ProgramFactory(name="B Builders"), days_ago=20)
    Engagement.objects.filter(pk=other.pk).update(participant=person)

    run_nudges()
    run_worker()

    [digest] = [m for m in mailoutbox if m.to == [person.email]]
    assert digest.subject == "Your next steps in 2 coaching programs"
    assert "Sign in and choose your coach" in digest.body
    assert "Book your first session now" in digest.body
    assert digest.body.index("A Leaders\n") < digest.body.index("B Builders\n")


def test_a_digest_that_fails_is_retried_next_run_and_nobody_gets_a_reminder_twice(
    monkeypatch: pytest.MonkeyPatch,
    mailoutbox: list[EmailMultiAlternatives],
    run_worker: Callable[[], int],
    caplog: pytest.LogCaptureFixture,
) -> None:
    coach = CoachFactory()
    program = ProgramFactory()
    stuck = [selected(program, days_ago=20, coach=coach) for _ in range(3)]
    real_digest = reminders._digest

    def broken_for_the_coach(
        person: User, recipient: Recipient, flags: list[NudgeFlag]
    ) -> EmailMultiAlternatives:
        if person == coach.user:
            raise RuntimeError("template broke")
        return real_digest(person, recipient, flags)

    with monkeypatch.context() as broken:
        broken.setattr(reminders, "_digest", broken_for_the_coach)
        output = run_nudges()
    run_worker()

    assert "Reminders: 3 email(s) sent, 1 failed" in output
    assert coach.user.email not in caplog.text
    assert sorted(m.to[0] for m in mailoutbox) == sorted(e.participant.email for e in stuck)
    assert set(
        NudgeFlag.objects.values_list("notified_at", "coach_notified_at", "participant_notified_at")
    ) == {(None, None, NOW)}

    mailoutbox.clear()
    output = run_nudges(today=TODAY + timedelta(days=1))
    run_worker()

    assert "Reminders: 1 email(s) sent, 0 failed" in output
    [digest] = mailoutbox
    assert digest.to == [coach.user.email] and len(_links(digest)) == 3
    assert NudgeFlag.objects.filter(notified_at__isnull=True).count() == 0
    mailoutbox.clear()
    run_nudges(today=TODAY + timedelta(days=2))
    assert run_worker() == 0


def test_a_later_flag_gets_a_digest_of_its_own_not_a_repeat(
    mailoutbox: list[EmailMultiAlternatives], run_worker: Callable[[], int]
) -> None:
    coach = CoachFactory()
    program = ProgramFactory()
    early = [selected(program, days_ago=20, coach=coach) for _ in range(2)]
    late = selected(program, days_ago=14, coach=coach)  # flagged from tomorrow

    run_nudges()
    run_worker()
    [first] = [m for m in mailoutbox if m.to == [coach.user.email]]
    assert len(_links(first)) == 2 and all(str(e.public_id) in first.body for e in early)

    mailoutbox.clear()
    run_nudges(today=TODAY + timedelta(days=1))
    run_worker()
    [second] = [m for m in mailoutbox if m.to == [coach.user.email]]
    assert second.subject == f"Has a session with {late.participant.full_name} happened?"
    assert [str(late.public_id) in link for link in _links(second)] == [True]


def test_digests_are_whole_whatever_the_batch_size(
    monkeypatch: pytest.MonkeyPatch,
    mailoutbox: list[EmailMultiAlternatives],
    run_worker: Callable[[], int],
) -> None:
    monkeypatch.setattr(reminders, "RECORD_BATCH", 2)
    coaches = [CoachFactory(), CoachFactory()]
    program = ProgramFactory()
    for coach in coaches:
        for _ in range(3):
            selected(program, days_ago=20, coach=coach)

    output = run_nudges()
    run_worker()

    assert "Reminders: 8 email(s) sent, 0 failed" in output  # 2 coaches, 6 participants
    for coach in coaches:
        [digest] = [m for m in mailoutbox if m.to == [coach.user.email]]
        assert len(_links(digest)) == 3
    assert set(
        NudgeFlag.objects.values_list("notified_at", "coach_notified_at", "participant_notified_at")
    ) == {(NOW, NOW, NOW)}


def test_a_person_who_turned_reminders_off_gets_none_and_is_reminded_once_back_on(
    mailoutbox: list[EmailMultiAlternatives],
    run_worker: Callable[[], int],
) -> None:
    coach = CoachFactory(user__reminders_enabled=False)
    program = ProgramFactory()
    stuck = [selected(program, days_ago=20, coach=coach) for _ in range(2)]
    other_coach_one = selected(program, days_ago=20)
    other_coach_one.refresh_from_db()

    dry_run = run_nudges("--dry-run")
    output = run_nudges()
    run_worker()

    # Both participants and the other coach and their participant; not the coach.
    assert "would send 4 reminder email(s)" in dry_run
    assert "Reminders: 4 email(s) sent, 0 failed" in output
    assert coach.user.email not in [m.to[0] for m in mailoutbox]
    mine = NudgeFlag.objects.filter(engagement__in=stuck)
    # Still owed to the coach, so not "notified".
    assert set(mine.values_list("participant_notified_at", "coach_notified_at", "notified_at")) == {
        (NOW, None, None)
    }
    assert NudgeFlag.objects.get(engagement=other_coach_one).notified_at == NOW

    mailoutbox.clear()
    run_nudges(today=TODAY + timedelta(days=1))
    assert run_worker() == 0  # nothing new, and nothing to the coach while off

    User.objects.filter(pk=coach.user.pk).update(reminders_enabled=True)
    output = run_nudges(today=TODAY + timedelta(days=2))
    run_worker()

    [digest] = mailoutbox  # the participants are not emailed again
    assert digest.to == [coach.user.email] and len(_links(digest)) == 2
    assert set(mine.values_list("coach_notified_at", "notified_at")) == {(NOW, NOW)}
