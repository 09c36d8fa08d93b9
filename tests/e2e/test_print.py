"""The program report printed by Chromium (Playwright's page.pdf, A4): pages that
flow, a running header, page numbers, black headers, no per-person list for sponsors."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from bench.print_reports import page_count
from engagements.models import Program, Status
from tests import factories
from tests.e2e.browser import Journey

pytestmark = [pytest.mark.postgres, pytest.mark.e2e]

# Computed print styles of the report: forced breaks, header colour, what is hidden.
PRINT_STYLES_JS = """
() => {
  const forced = [...document.querySelectorAll('main *')].filter(el =>
    ['page', 'left', 'right'].includes(getComputedStyle(el).breakBefore)
    || ['page', 'left', 'right'].includes(getComputedStyle(el).breakAfter));
  const progress = document.querySelector('[aria-labelledby="s-progress"]');
  return {
    forcedBreaks: forced.map(el => el.tagName + '.' + el.className),
    headerColours: [...new Set([...document.querySelectorAll('th')].map(
      th => getComputedStyle(th).color))],
    participantsShown: progress ? getComputedStyle(progress).display !== 'none' : null,
    siteHeaderShown: getComputedStyle(document.querySelector('.site-header')).display !== 'none',
  };
}
"""


def program_with_participants(n: int) -> Program:
    program = factories.ProgramFactory(name="Northwind Leadership 2026")
    coach = factories.CoachFactory(capacity=n)
    program.coaches.add(coach)
    for i in range(n):
        engagement = factories.engagement_with_coach(
            coach=coach, program=program, participant__full_name=f"Person {i:03d}"
        )
        if i % 2:
            engagement.transition_to(Status.IN_PROGRESS)
    return program


def test_staff_report_prints_on_two_pages_without_forced_breaks(journey: Journey) -> None:
    staff = factories.UserFactory(role="staff", email="ops@example.com")
    program = program_with_participants(12)
    page = journey.page
    journey.sign_in(staff.email)

    page.goto(f"/ops/programs/{program.public_id}/report/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Northwind Leadership 2026")
    page.emulate_media(media="print")
    styles = page.evaluate(PRINT_STYLES_JS)
    pdf = page.pdf(format="A4", prefer_css_page_size=True)

    assert styles["forcedBreaks"] == []
    assert styles["headerColours"] == ["rgb(0, 0, 0)"]
    assert styles["siteHeaderShown"] is False
    # Five sections used to start five pages; now they follow one another.
    assert page_count(pdf) <= 2


def test_sponsor_print_leaves_out_the_participant_list(journey: Journey) -> None:
    program = program_with_participants(60)
    # The list is on the page only where the organization shares individual progress.
    program.organization.sponsors_see_individual_progress = True
    program.organization.save()
    sponsor = factories.UserFactory(role="sponsor", email="hr@example.com")
    program.organization.sponsors.add(sponsor)
    page = journey.page
    journey.sign_in(sponsor.email)

    page.goto(f"/sponsor/programs/{program.public_id}/")
    expect(page.get_by_role("row", name="Person 049")).to_be_visible()  # on screen, page 1
    expect(page.get_by_role("row", name="Person 050")).to_have_count(0)  # on page 2
    page.emulate_media(media="print")
    styles = page.evaluate(PRINT_STYLES_JS)
    pdf = page.pdf(format="A4", prefer_css_page_size=True)

    assert styles["participantsShown"] is False
    assert styles["forcedBreaks"] == []
    assert page_count(pdf) <= 2  # 50 names would take two more pages
