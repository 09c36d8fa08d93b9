"""A coach logs sessions and corrects the last one, in a real browser."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from engagements.models import CoachingSession, Status
from tests import factories
from tests.e2e.browser import Journey

pytestmark = [pytest.mark.postgres, pytest.mark.e2e]


def log_session(
    journey: Journey, *, duration: str, outcome: str, notes: str, days_ago: int = 0
) -> None:
    page = journey.page
    form = page.locator("form", has=page.get_by_role("button", name="Log session"))
    held_on = timezone.localdate() - timedelta(days=days_ago)
    form.get_by_label("Date").fill(held_on.isoformat())
    form.get_by_label("Duration (minutes)").fill(duration)
    form.get_by_label("Outcome").select_option(label=outcome)
    form.get_by_label("Private notes").fill(notes)
    form.get_by_role("button", name="Log session").click()


def session_row(journey: Journey, number: int) -> Any:
    page = journey.page
    return page.get_by_role("row").filter(
        has=page.get_by_role("cell", name=str(number), exact=True)
    )


def test_coach_logs_two_sessions_corrects_the_last_and_sees_the_engagement_in_progress(
    journey: Journey,
) -> None:
    coach = factories.CoachFactory(user__email="casey@example.com", user__full_name="Casey Coach")
    program = factories.ProgramFactory(name="Northwind Leadership 2026")
    participant = factories.UserFactory(full_name="Robin Participant")
    engagement = factories.engagement_with_coach(
        coach=coach, program=program, participant=participant
    )
    page = journey.page
    status = page.locator(".facts dd").nth(1)

    journey.sign_in(coach.user.email)
    page.wait_for_url("**/coach/")
    row = page.get_by_role("row", name="Robin Participant")
    expect(row).to_contain_text("Coach selected")
    journey.check_page("coach-workspace")

    page.get_by_role("link", name="Robin Participant").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Robin Participant")
    expect(status).to_have_text("Coach selected")
    journey.check_page("engagement")

    log_session(journey, duration="60", outcome="Held", notes="Goals for the quarter.", days_ago=7)
    expect(page.get_by_role("status")).to_have_text("Session 1 logged.")
    expect(status).to_have_text("In progress")
    journey.check_page("engagement-one-session")

    log_session(journey, duration="50", outcome="Held", notes="Feedback conversation.")
    expect(page.get_by_role("status")).to_have_text("Session 2 logged.")
    journey.check_page("engagement-two-sessions")

    # Only the most recent session offers a correction.
    corrections = page.get_by_role("link", name="Correct")
    expect(corrections).to_have_count(1)
    expect(session_row(journey, 2).get_by_role("link", name="Correct")).to_be_visible()
    corrections.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Correct session 2")
    expect(page.get_by_label("Duration (minutes)")).to_have_value("50")
    journey.check_page("correct-session")
    page.get_by_label("Duration (minutes)").fill("45")
    page.get_by_label("Outcome").select_option(label="No-show")
    page.get_by_role("button", name="Save correction").click()

    expect(page.get_by_role("status")).to_have_text("Session 2 corrected.")
    second = session_row(journey, 2)
    expect(second).to_contain_text("45 min")
    expect(second).to_contain_text("No-show")
    expect(status).to_have_text("In progress")
    journey.check_page("engagement-corrected")

    # The same date again: a warning first, then the confirmed second session; then
    # the coach voids it, with a reason.
    log_session(journey, duration="30", outcome="Held", notes="Entered twice.")
    expect(page.get_by_text("A session on this date is already logged")).to_be_visible()
    journey.check_page("same-date-warning")
    page.get_by_label("Yes, log a second session on this date").check()
    page.get_by_role("button", name="Log session").click()
    expect(page.get_by_role("status")).to_have_text("Session 3 logged.")
    page.get_by_role("link", name="Void session 3").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Void session 3")
    journey.check_page("void-session")
    page.get_by_label("Why is this session void?").fill("Logged twice by mistake.")
    page.get_by_role("button", name="Void session 3").click()
    expect(page.get_by_role("status")).to_have_text("Session 3 voided.")
    expect(page.locator("tr.voided")).to_contain_text("Logged twice by mistake.")
    expect(status).to_have_text("In progress")
    journey.check_page("engagement-voided")

    page.get_by_role("link", name="Your engagements").first.click()
    expect(page.get_by_role("row", name="Robin Participant")).to_contain_text("In progress")
    expect(page.get_by_role("row", name="Robin Participant")).to_contain_text("2 of 6")
    journey.check_page("coach-workspace-after")

    engagement.refresh_from_db()
    assert engagement.status == Status.IN_PROGRESS and engagement.sessions_logged == 2
    sessions = CoachingSession.objects.filter(engagement=engagement).order_by("number")
    assert [(s.number, s.duration_minutes, s.outcome, s.is_voided) for s in sessions] == [
        (1, 60, "held", False),
        (2, 45, "no_show", False),
        (3, 30, "held", True),
    ]
