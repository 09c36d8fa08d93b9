"""The pages the other journeys do not visit, each checked at 1280 px and on a phone.

Sponsor and staff reports (with a 4,000-character answer that once made the
report 37,933 px wide), a participant at the end of coaching, the coach's
profile, and the branded error pages.
"""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from engagements.models import Engagement, Outcome, Status
from tests import factories
from tests.e2e.browser import Journey

pytestmark = [pytest.mark.postgres, pytest.mark.e2e]

LONG_ANSWER = "x" * 4000


def completed_engagement(**kwargs: Any) -> Engagement:
    """An engagement whose six sessions are logged (one of them a no-show)."""
    engagement = factories.engagement_with_coach(**kwargs)
    engagement.transition_to(Status.IN_PROGRESS)
    for number in range(1, 7):
        outcome = Outcome.NO_SHOW if number == 3 else Outcome.HELD
        factories.SessionFactory(
            engagement=engagement, coach=engagement.coach, number=number, outcome=outcome
        )
    engagement.transition_to(Status.COMPLETED)
    return engagement


def answer_closing_survey(engagement: Engagement, *, score: int, text: str) -> None:
    # Through the relation, not the model's module: the feedback models are moving apps.
    survey_model = Engagement._meta.get_field("closing_survey").related_model
    survey_model._default_manager.create(
        engagement=engagement, recommend_score=score, what_changed=text
    )


def test_sponsor_reads_the_program_report(journey: Journey) -> None:
    # An organization that shares individual progress: the list, its search and its
    # pages are checked too.
    organization = factories.OrganizationFactory(sponsors_see_individual_progress=True)
    program = factories.ProgramFactory(name="Northwind Leadership 2026", organization=organization)
    sponsor = factories.UserFactory(role="sponsor", email="hr@example.com", full_name="Hana HR")
    program.organization.sponsors.add(sponsor)
    factories.engagement_with_coach(program=program, participant__full_name="Robin Participant")
    for n in range(55):  # a second page
        factories.EngagementFactory(program=program, participant__full_name=f"Person {n:02d}")
    page = journey.page

    journey.sign_in(sponsor.email)
    page.wait_for_url("**/sponsor/")
    journey.check_page("sponsor-home")

    page.get_by_role("link", name="Open the report").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Northwind Leadership 2026")
    expect(page.get_by_text("Page 1 of 2")).to_be_visible()
    journey.check_page("sponsor-report")
    page.get_by_label("Search by name").fill("robin")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("row", name="Robin Participant")).to_contain_text("Coach selected")
    journey.check_page("sponsor-report-search")


def test_staff_open_a_report_whose_survey_answer_is_one_4000_character_word(
    journey: Journey,
) -> None:
    staff = factories.UserFactory(role="staff", email="ops@example.com", full_name="Olu Ops")
    program = factories.ProgramFactory(name="Northwind Leadership 2026")
    engagement = completed_engagement(program=program)
    answer_closing_survey(engagement, score=9, text=LONG_ANSWER)
    page = journey.page

    journey.sign_in(staff.email)
    page.goto("/ops/programs/")
    journey.check_page("staff-programs")

    page.get_by_role("link", name="Northwind Leadership 2026").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Northwind Leadership 2026")
    expect(page.locator(".survey-texts")).to_contain_text(LONG_ANSWER)
    journey.check_page("staff-report")  # no sideways scroll at 1280 px or at 390 px


def test_participant_at_the_end_of_coaching_sees_history_rating_and_survey(
    journey: Journey,
) -> None:
    participant = factories.UserFactory(email="pat@example.com", full_name="Pat Doe")
    coach = factories.CoachFactory(user__full_name="Ada Coach")
    completed_engagement(participant=participant, coach=coach)
    page = journey.page

    journey.sign_in(participant.email)
    expect(page.get_by_role("heading", level=1)).to_have_text("Your coaching with Ada Coach")
    expect(page.get_by_role("link", name="Answer the closing survey")).to_be_visible()
    expect(page.locator(".rate-session").first).to_be_visible()
    journey.check_page("participant-home-completed")

    page.get_by_role("link", name="Answer the closing survey").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Closing survey")
    journey.check_page("closing-survey")

    # The 0-10 scale is large buttons that are real radios: Tab in, arrows to choose.
    zero = page.get_by_role("radio", name="0", exact=True)
    box = page.locator("label.scale-button").first.bounding_box()
    assert box is not None and box["width"] >= 44 and box["height"] >= 44
    journey.tab_to(zero)
    for _ in range(8):
        page.keyboard.press("ArrowRight")
    expect(page.get_by_role("radio", name="8", exact=True)).to_be_checked()
    page.get_by_label("What changed for you?").fill("I speak up in meetings.")
    page.get_by_role("button", name="Send").click()
    expect(page.get_by_role("status")).to_contain_text("Thank you for telling us")


def test_coach_edits_the_profile_page(journey: Journey) -> None:
    coach = factories.CoachFactory(user__email="casey@example.com", user__full_name="Casey Coach")
    page = journey.page

    journey.sign_in(coach.user.email)
    page.get_by_role("link", name="My profile").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your coach profile")
    journey.check_page("coach-profile")


def test_error_pages_are_branded_and_lead_back_home(journey: Journey) -> None:
    page = journey.page

    response = page.goto("/no-such-page/")
    assert response is not None and response.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("We cannot find that page")
    journey.check_page("not-found")

    # A link to a POST-only address: once an empty 405 ("This page isn't working").
    response = page.goto("/logout/")
    assert response is not None and response.status == 405
    expect(page.get_by_role("heading", level=1)).to_have_text("This page cannot be used that way")
    journey.check_page("method-not-allowed")

    page.get_by_role("link", name="Go to the home page").click()
    page.wait_for_url(f"{journey.base_url}/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Your coaching program, in one place")
