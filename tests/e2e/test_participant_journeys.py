"""A participant from the invitation email to the booking link, in a real browser."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from coaches.models import CoachProfile
from engagements.models import Engagement, Status
from engagements.services import invitation_send
from tests import factories
from tests.e2e.browser import HREF_RE, Journey

pytestmark = [pytest.mark.postgres, pytest.mark.e2e]


def program_with_pool(n: int, **coach_kwargs: Any) -> tuple[Any, list[CoachProfile]]:
    program = factories.ProgramFactory(name="Northwind Leadership 2026")
    coaches = [
        factories.CoachFactory(user__full_name=f"Coach {name}", **coach_kwargs)
        for name in ["Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Frances"][:n]
    ]
    program.coaches.add(*coaches)
    return program, coaches


def card_names(journey: Journey) -> list[str]:
    return journey.page.locator("article.coach-card h3").all_inner_texts()


def invitation_link(outbox: list[Any], email: str) -> str:
    message = next(m for m in outbox if email in m.to and "invited" in m.subject)
    html = next(content for content, mimetype in message.alternatives if mimetype == "text/html")
    match = HREF_RE.search(html)
    assert match, "the invitation email has no link"
    return match.group(1)


def test_participant_signs_in_from_the_invitation_and_chooses_a_coach_by_keyboard_alone(
    journey: Journey,
) -> None:
    program, _ = program_with_pool(7)
    participant = factories.UserFactory(email="pat@example.com", full_name="Pat Doe")
    engagement = factories.EngagementFactory(participant=participant, program=program)
    invitation_send(engagement=engagement, actor=None)
    page, keyboard = journey.page, journey.page.keyboard

    # The link in the invitation email opens the sign-in page.
    journey.deliver()  # the worker sends the queued invitation
    link = invitation_link(journey.outbox, participant.email)
    assert link == f"{journey.base_url}/login/"
    page.goto(link)
    journey.check_page("sign-in")
    journey.tab_to(page.get_by_label("Email address"))
    keyboard.type(participant.email)
    keyboard.press("Enter")
    page.wait_for_url("**/login/code/")
    journey.check_page("enter-code")
    journey.tab_to(page.get_by_label("Sign-in code"))
    keyboard.type(journey.code_for(participant.email))
    keyboard.press("Enter")

    page.wait_for_url(f"{journey.base_url}/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Welcome, Pat Doe")
    journey.check_page("participant-home")
    journey.tab_to(page.get_by_role("link", name="Choose your coach"))
    keyboard.press("Enter")

    page.wait_for_url("**/coaches/")
    first_three = card_names(journey)
    assert len(first_three) == 3
    expect(page.get_by_role("heading", level=2, name="Coaches 1–3 of 7")).to_be_visible()
    journey.check_page("directory")
    journey.tab_to(page.get_by_role("link", name="Show me other coaches"))
    keyboard.press("Enter")

    page.wait_for_url(re.compile(r"/coaches/\?exclude="))
    next_three = card_names(journey)
    assert len(next_three) == 3 and not set(next_three) & set(first_three)
    expect(page.get_by_role("heading", level=2, name="Coaches 4–6 of 7")).to_be_visible()
    journey.check_page("directory-other-coaches")
    chosen = next_three[0]
    journey.tab_to(page.get_by_role("button", name=f"Choose {chosen}"))
    keyboard.press("Space")

    page.wait_for_url(f"{journey.base_url}/")
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Your coaching with {chosen}")
    expect(page.get_by_role("status")).to_contain_text(f"{chosen} is your coach.")
    coach = CoachProfile.objects.get(user__full_name=chosen)
    booking = page.get_by_role("link", name="Book your session")
    expect(booking).to_have_attribute("href", coach.booking_link_for(participant))
    journey.check_page("participant-home-with-coach")
    journey.tab_to(booking)
    engagement.refresh_from_db()
    assert (engagement.status, engagement.coach_id) == (Status.COACH_SELECTED, coach.pk)


def test_participant_who_loses_the_last_seat_sees_why_and_the_directory_again(
    journey: Journey,
) -> None:
    program, _ = program_with_pool(4, capacity=1)
    participant = factories.UserFactory(email="sam@example.com", full_name="Sam Roe")
    engagement = factories.EngagementFactory(participant=participant, program=program)
    page = journey.page

    journey.sign_in(participant.email)
    page.get_by_role("link", name="Choose your coach").click()
    page.wait_for_url("**/coaches/")
    wanted = card_names(journey)[0]
    journey.check_page("directory")

    # Someone else takes the coach's only seat while the page is open.
    coach = CoachProfile.objects.get(user__full_name=wanted)
    factories.engagement_with_coach(coach=coach, program=program)
    page.get_by_role("button", name=f"Choose {wanted}").click()

    expect(page.get_by_role("alert")).to_have_text(
        "This coach has just filled up. Please choose another coach."
    )
    expect(page.get_by_role("heading", level=1)).to_have_text("Choose your coach")
    others = card_names(journey)
    assert len(others) == 3 and wanted not in others
    journey.check_page("directory-coach-full")
    engagement.refresh_from_db()
    assert (engagement.status, engagement.coach_id) == (Status.INVITED, None)
    assert Engagement.objects.filter(coach=coach).count() == 1

    # The directory shown again works: choosing someone else succeeds.
    page.get_by_role("button", name=f"Choose {others[0]}").click()
    expect(page.get_by_role("link", name="Book your session")).to_be_visible()
