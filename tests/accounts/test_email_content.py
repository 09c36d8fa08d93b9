"""What every email looks like: subjects and text parts are plain text (never
HTML-escaped), HTML parts are always escaped; one layout, one sign-off and a footer
that fits the recipient's role; a head and a title; Message-IDs on our domain."""

from __future__ import annotations

import textwrap
from io import StringIO
from typing import Any

import pytest
import time_machine
from django.conf import settings
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django_tasks_db.models import DBTaskResult
from hypothesis import assume, given
from hypothesis import strategies as st

from accounts.emails import FOOTERS, TEXT_WIDTH, build_email, wrap_text
from accounts.models import Role
from engagements.services import invitation_send
from tests import factories
from tests.nudges.helpers import NOW, TODAY, invited, selected
from tests.signin import login_verified

pytestmark = pytest.mark.django_db

PROGRAM = 'R&D "Leaders" <b>2026</b>'
PARTICIPANT = "Siobhán O'Brien <script>alert(1)</script>"
COACH = "Zoë D'Arcy & Partners"
BOOKING = "https://cal.example.com/zoe?type=intro&duration=60"
ESCAPES = ("&amp;", "&quot;", "&#x27;", "&#39;", "&lt;", "&gt;")


def _flat(text: str) -> str:
    """The text with its line breaks (wrapping) read as spaces."""
    return " ".join(text.split())


def _html(message: Any) -> str:
    return next(content for content, mimetype in message.alternatives if mimetype == "text/html")


@pytest.fixture
def every_kind(client: Client, mailoutbox: list[Any], run_worker: Any) -> dict[str, Any]:
    """One email of every kind, to people and programs with hostile names, by subject."""
    program = factories.ProgramFactory(name=PROGRAM)
    engagement = factories.EngagementFactory(
        program=program, participant=factories.UserFactory(full_name=PARTICIPANT)
    )
    coach = factories.CoachFactory(user__full_name=COACH, booking_url=BOOKING)
    program.coaches.add(coach)
    invitation_send(engagement=engagement, actor=None)
    login_verified(client, engagement.participant)
    client.post(reverse("select_coach", args=[coach.public_id]))
    with time_machine.travel(NOW, tick=False):
        reminded = [
            invited(factories.ProgramFactory(name=PROGRAM), days_ago=10),
            selected(factories.ProgramFactory(name=PROGRAM), days_ago=20, coach=coach),
        ]
        for one in reminded:
            one.participant.full_name = PARTICIPANT
            one.participant.save()
        call_command("run_nudges", "--force", "--today", TODAY.isoformat(), stdout=StringIO())
    Client().post("/login/", {"email": engagement.participant.email})
    run_worker()
    assert len(mailoutbox) == 7
    return {
        "messages": list(mailoutbox),
        "engagement": engagement,
        "coach": coach,
        "reminded": reminded,
    }


def test_subjects_and_text_parts_are_never_html_escaped(every_kind: dict[str, Any]) -> None:
    for message in every_kind["messages"]:
        for escaped in ESCAPES:
            assert escaped not in message.subject, message.subject
            assert escaped not in message.body, message.subject
    by_subject = {m.subject: m for m in every_kind["messages"]}
    invitation = by_subject[f"You are invited to {PROGRAM} on Coachdesk"]
    assert f"take part in {PROGRAM}, a coaching program" in _flat(invitation.body)
    to_coach = by_subject[f"{PARTICIPANT} chose you as their coach"]
    assert f"{PARTICIPANT} in {PROGRAM} chose you" in _flat(to_coach.body)
    to_participant = by_subject[f"{COACH} is your coach: book your first session"]
    # The link works as it is, with the participant's name and email filled in
    # (CoachProfile.booking_link_for), url-encoded: one unbroken line.
    (link,) = [line.strip() for line in to_participant.body.splitlines() if BOOKING in line]
    assert link.startswith(f"{BOOKING}&name=") and " " not in link and "<" not in link
    reminder = by_subject[f"Choose your coach for {PROGRAM}"]
    assert f"Hello {PARTICIPANT}," in reminder.body
    to_coach = by_subject[f"Has a session with {PARTICIPANT} happened?"]
    assert f"No session with {PARTICIPANT} ({PROGRAM})" in _flat(to_coach.body) or (
        f"You were chosen by {PARTICIPANT} in {PROGRAM}" in _flat(to_coach.body)
    )
    to_participant = by_subject["Book your first coaching session"]
    # whole, on one line, with the participant's name and email
    assert any(word.startswith(f"{BOOKING}&name=") for word in to_participant.body.split())
    assert f"Hello {PARTICIPANT}," in by_subject["Your Coachdesk sign-in code"].body


def test_html_parts_stay_escaped(every_kind: dict[str, Any]) -> None:
    for message in every_kind["messages"]:
        html = _html(message)
        assert "<script>" not in html and "<b>2026</b>" not in html
    by_subject = {m.subject: _html(m) for m in every_kind["messages"]}
    to_participant = by_subject[f"{COACH} is your coach: book your first session"]
    assert (
        'href="https://cal.example.com/zoe?type=intro&amp;duration=60&amp;name=' in to_participant
    )
    assert "Zoë D&#x27;Arcy &amp; Partners" in to_participant
    to_coach = by_subject[f"{PARTICIPANT} chose you as their coach"]
    assert "Siobhán O&#x27;Brien &lt;script&gt;alert(1)&lt;/script&gt;" in to_coach
    assert "R&amp;D &quot;Leaders&quot; &lt;b&gt;2026&lt;/b&gt;" in to_coach


def test_every_email_has_one_layout_one_sign_off_and_the_footer_of_its_role(
    every_kind: dict[str, Any],
) -> None:
    coach_email = every_kind["coach"].user.email
    for message in every_kind["messages"]:
        role = Role.COACH if message.to == [coach_email] else Role.PARTICIPANT
        sign_off, footer = message.body.rsplit("\n-- \n", 1)
        assert sign_off.endswith("\n\nThe Coachdesk team\n")
        turn_off = ""
        if "List-Unsubscribe" in message.extra_headers:  # reminders say how to stop them
            url = message.extra_headers["List-Unsubscribe"].strip("<>")
            turn_off = f" Don't want these reminders? Turn them off: {url}"
        assert _flat(footer) == FOOTERS[role] + turn_off
        for line in message.body.splitlines():
            # Longer lines are a single word (a link) or indented on purpose.
            assert len(line) <= TEXT_WIDTH or " " not in line.strip() or line.startswith(" ")
        assert "\n\n\n" not in message.body
        html = _html(message)
        assert "<head>" in html and "<title>" in html
        assert html.count("The Coachdesk team") == 1
        assert FOOTERS[role].replace("'", "&#x27;") in html
        assert "take part in a coaching program" not in html or role == Role.PARTICIPANT


def test_the_html_title_is_the_escaped_subject(every_kind: dict[str, Any]) -> None:
    by_subject = {m.subject: _html(m) for m in every_kind["messages"]}
    html = by_subject[f"You are invited to {PROGRAM} on Coachdesk"]
    title = "You are invited to R&amp;D &quot;Leaders&quot; &lt;b&gt;2026&lt;/b&gt; on Coachdesk"
    assert f"<title>{title}</title>" in html


@pytest.mark.parametrize(
    ("role", "words"),
    [
        (Role.PARTICIPANT, "take part in a coaching program"),
        (Role.COACH, "you coach in a program"),
        (Role.SPONSOR, "your organization's coaching programs"),
        (Role.STAFF, "the Coachdesk ops team"),
    ],
)
def test_the_footer_says_why_this_person_gets_our_email(role: str, words: str) -> None:
    user = factories.UserFactory(role=role)

    message = build_email(
        template="login_code",
        recipient=user,
        context={"code": "123456", "minutes": 10, "user": user},
    )

    assert words in _flat(str(message.body))
    assert words.replace("'", "&#x27;") in _html(message)
    others = [footer for other, footer in FOOTERS.items() if other != role]
    assert not any(footer in _flat(str(message.body)) for footer in others)


def test_wrapping_keeps_links_codes_and_lists_whole() -> None:
    link = "https://coachdesk.example.com/" + "x" * 80
    text = wrap_text(
        "\n\nHello,\n\n\n\n"
        + "word " * 40
        + "\n\n    123456\n\n"
        + f"See {link} now.\n\n- "
        + "item " * 30
        + "\n"
    )
    lines = text.splitlines()
    assert lines[0] == "Hello," and lines[1] == ""
    assert all(len(line) <= TEXT_WIDTH for line in lines if link not in line)
    assert "    123456" in lines
    assert link in lines  # alone on its line, never broken
    item_lines = [line for line in lines if "item" in line]
    assert item_lines[0].startswith("- ") and all(x.startswith("  ") for x in item_lines[1:])
    assert "\n\n\n" not in text and text.endswith("item\n")


def test_message_ids_use_the_sending_domain_and_survive_the_queue(
    mailoutbox: list[Any], run_worker: Any
) -> None:
    assert settings.EMAIL_MESSAGE_ID_DOMAIN == "coachdesk.test"  # from DEFAULT_FROM_EMAIL
    engagement = factories.EngagementFactory()

    invitation_send(engagement=engagement, actor=None)
    run_worker()

    [message] = mailoutbox
    message_id = message.message()["Message-ID"]
    assert message_id.endswith("@coachdesk.test>")
    assert "localhost" not in message_id
    # Set when the message is rendered, so a retried send keeps its Message-ID.
    queued = DBTaskResult.objects.get().args_kwargs["kwargs"]["message"]
    assert queued["headers"]["Message-ID"] == message_id


@given(
    words=st.lists(
        st.text(alphabet=st.characters(blacklist_categories=["Z", "C"]), min_size=1, max_size=90),
        min_size=1,
        max_size=40,
    ),
    item=st.booleans(),
)
def test_wrapping_matches_textwrap_at_spaces_only(words: list[str], item: bool) -> None:
    """The fast wrapper breaks exactly where textwrap would, without breaking words."""
    line = ("- " if item else "") + " ".join(words)
    assume(line != "--" and (item or not line.startswith("- ")))

    expected = textwrap.wrap(
        line,
        TEXT_WIDTH,
        subsequent_indent="  " if item else "",
        break_long_words=False,
        break_on_hyphens=False,
    )

    assert wrap_text(line).splitlines() == expected
