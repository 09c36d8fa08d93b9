"""Staff import coaches in the admin, run the nudges and follow up, in a real browser."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone
from playwright.sync_api import expect

from accounts.models import AuditEvent
from coaches.models import CoachProfile
from tests import factories
from tests.e2e.browser import Journey

pytestmark = [pytest.mark.postgres, pytest.mark.e2e]

COACHES_CSV = """\
email,full_name,headline,bio,capacity,booking_url,time_zone,languages,specialties,accepting_new
ada@example.com,Ada Lovelace,Engines and leaders,Twenty years of coaching.,8,https://cal.example.com/ada,Europe/London,en;fr,Leadership,yes
grace@example.com,Grace Hopper,Ship it,Navy and code.,5,https://cal.example.com/grace,America/New_York,en,Career,yes
"""


def test_staff_import_coaches_run_nudges_and_see_the_flag_and_the_audit_trail(
    journey: Journey,
) -> None:
    staff = factories.UserFactory(role="staff", email="ops@example.com", full_name="Olu Ops")
    program = factories.ProgramFactory(name="Northwind Leadership 2026")
    factories.EngagementFactory(
        program=program,
        participant__full_name="Quinn Slow",
        invited_at=timezone.now() - timedelta(days=10),
    )
    page = journey.page

    journey.sign_in(staff.email)
    page.wait_for_url("**/ops/")
    expect(page.get_by_text("No nudge run yet, so nothing has been checked")).to_be_visible()
    journey.check_page("ops-dashboard-before")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Admin").click()
    page.wait_for_url("**/admin/")
    journey.check_page("admin-index", focus_style="admin")
    page.get_by_role("link", name="Coach profiles").click()
    journey.check_page("admin-coaches", focus_style="admin")
    page.get_by_role("link", name="Import").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Import")
    journey.check_page("admin-coach-import", focus_style="admin")

    # Step 1: the dry run shows what would be written, and writes nothing.
    page.get_by_label("File to import").set_input_files(
        {"name": "coaches.csv", "mimeType": "text/csv", "buffer": COACHES_CSV.encode()}
    )
    page.get_by_label("Program").select_option(label=f"{program}")
    page.get_by_role("button", name="Submit").click()
    expect(page.get_by_role("button", name="Confirm import")).to_be_visible()
    # The resource skips the per-row diff (skip_diff, for large files): a status per row.
    expect(page.locator("table.import-preview tbody tr")).to_have_text(["New", "New"])
    assert not CoachProfile.objects.exists()
    # django-import-export's preview table keeps every CSV column on one row
    # (864 px at 390); the admin's own list pages are checked on a phone.
    journey.check_page("admin-coach-import-preview", focus_style="admin", phone=False)

    # Step 2: confirm writes both coaches into the program's pool.
    page.get_by_role("button", name="Confirm import").click()
    expect(page.locator(".messagelist")).to_contain_text("2 new")
    journey.check_page("admin-coaches-imported", focus_style="admin")
    assert set(program.coaches.values_list("user__full_name", flat=True)) == {
        "Ada Lovelace",
        "Grace Hopper",
    }

    out = StringIO()
    call_command("run_nudges", "--force", stdout=out)
    assert "raised 1" in out.getvalue()

    page.goto("/ops/")
    summary = page.get_by_role("table").first
    expect(summary).to_contain_text("Northwind Leadership 2026")
    expect(summary).to_contain_text("No coach selected")
    flagged = page.get_by_role("row", name="Quinn Slow")
    expect(flagged).to_contain_text("No coach selected")
    expect(page.get_by_role("row", name="Ada Lovelace")).to_contain_text("0 / 8")
    expect(flagged).to_contain_text("stuck for 10 days")
    journey.check_page("ops-dashboard-flagged")

    # The flagged row opens the ops engagement page: its timeline and its actions.
    flagged.get_by_role("link", name="Quinn Slow").click()
    page.wait_for_url("**/ops/engagements/*/")
    timeline = page.locator(".timeline")
    expect(timeline).to_contain_text("Flag raised: No coach selected")
    expect(timeline).to_contain_text("Reminder sent to the participant")
    journey.check_page("ops-engagement")
    # The run reminded Quinn a moment ago: a second reminder now is refused, with why.
    page.get_by_role("button", name="Send a reminder now").click()
    expect(page.locator(".messages")).to_contain_text("reminded less than a day ago")
    page.get_by_label("Reason to cancel").fill("Left the company")
    page.get_by_role("button", name="Cancel the engagement").click()
    expect(page.locator(".messages")).to_contain_text("Engagement cancelled.")
    expect(timeline).to_contain_text("Invited → Cancelled")
    expect(timeline).to_contain_text("Reason: Left the company")
    journey.check_page("ops-engagement-cancelled")

    # The audit trail in the admin: the sign-in and the import, by this staff member.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Admin").click()
    page.get_by_role("link", name="Audit events").click()
    events = page.locator("#result_list")
    expect(events).to_contain_text("coaches.imported")
    expect(events).to_contain_text("signin.success")
    journey.check_page("admin-audit-events", focus_style="admin")
    imported = AuditEvent.objects.get(action="coaches.imported")
    assert imported.actor == staff
    page.get_by_role("row").filter(has_text="coaches.imported").get_by_role("link").first.click()
    expect(page.get_by_role("heading", level=2)).to_contain_text("coaches.imported")
    journey.check_page("admin-audit-event", focus_style="admin")
