"""Who may see which report, and what each of them sees (never notes, never a rating's author)."""

from __future__ import annotations

import re
import uuid

import pytest
from django.test import Client

from accounts.models import Role
from engagements.models import Program
from tests.factories import CoachFactory, UserFactory
from tests.reports.conftest import NOTES_MARKER, SURVEY_TEXT, ReportData
from tests.signin import login_verified

pytestmark = pytest.mark.django_db


def staff_url(data: ReportData) -> str:
    return f"/ops/programs/{data.program.public_id}/report/"


def sponsor_url(program: Program) -> str:
    return f"/sponsor/programs/{program.public_id}/"


def assert_clean_page(body: str) -> None:
    """No notes, and nothing that the self-only CSP would block."""
    assert NOTES_MARKER not in body
    assert " style=" not in body
    assert "<script" not in body


def test_staff_report_shows_the_figures_coaches_free_text_and_export_links(
    client: Client, report_data: ReportData
) -> None:
    login_verified(client, report_data.staff)
    response = client.get(staff_url(report_data))
    body = response.content.decode()
    assert response.status_code == 200
    assert_clean_page(body)
    for text in (
        "Leaders 2026",
        "71%",  # 5 of 7 have had a coach
        "6.0",  # median days
        "7 of 20",  # sessions held of planned
        "20%",  # completion rate
        "3.6 / 5",
        "9.0 / 10",
        "Xavier Coach",
        "75%",
        "3.6 (5)",  # Xavier's average rating and count: averages per coach, no raters
        SURVEY_TEXT,
    ):
        assert text in body, text
    assert f"/ops/exports/engagements.csv?program={report_data.program.public_id}" in body
    assert f"/ops/exports/sessions.csv?program={report_data.program.public_id}" in body
    assert "<svg" in body and "Sessions held per week" in body


def test_report_chart_is_inline_svg_with_one_bar_per_week(
    client: Client, report_data: ReportData
) -> None:
    login_verified(client, report_data.staff)
    body = client.get(staff_url(report_data)).content.decode()
    svg = body[body.index("<svg") : body.index("</svg>")]
    assert svg.count('class="chart-bar"') == 7
    assert "Week of 16 Feb 2026: 3 held" in svg


def test_sponsor_sees_own_program_with_released_figures_only(
    client: Client, report_data: ReportData
) -> None:
    client.force_login(report_data.sponsor)
    response = client.get(sponsor_url(report_data.program))
    body = response.content.decode()
    assert response.status_code == 200
    assert_clean_page(body)
    # Five ratings are a group: released. One survey answer is not (it was "9.0 / 10").
    assert "3.6 / 5" in body and "from 5 ratings" in body
    assert "Not enough answers yet" in body and "9.0 / 10" not in body
    # No per-person list by default, no coach utilisation, no free text, no exports.
    for hidden in (
        "Cleo Progress",
        "Progress by participant",
        "Xavier Coach",
        "Utilisation",
        SURVEY_TEXT,
        "exports/",
    ):
        assert hidden not in body, hidden


def test_sponsor_sees_progress_by_participant_where_the_organization_shares_it(
    client: Client, report_data: ReportData
) -> None:
    organization = report_data.program.organization
    organization.sponsors_see_individual_progress = True
    organization.save()
    client.force_login(report_data.sponsor)
    body = client.get(sponsor_url(report_data.program)).content.decode()
    assert "Progress by participant" in body and "Cleo Progress" in body
    assert "7 participants." in body
    assert_clean_page(body)


def test_sponsor_page_never_shows_ratings_of_single_sessions(
    client: Client, report_data: ReportData
) -> None:
    client.force_login(report_data.sponsor)
    body = client.get(sponsor_url(report_data.program)).content.decode()
    # The only rating figures are the program average and the count.
    assert re.findall(r"\d(?:\.\d)? / 5", body) == ["3.6 / 5"]


def test_sponsor_of_another_organization_gets_404(client: Client, report_data: ReportData) -> None:
    client.force_login(report_data.other_sponsor)
    assert client.get(sponsor_url(report_data.program)).status_code == 404
    assert client.get(sponsor_url(report_data.other_program)).status_code == 200


def test_unknown_program_is_404_for_staff_and_sponsor(
    client: Client, report_data: ReportData
) -> None:
    login_verified(client, report_data.staff)
    assert client.get(f"/ops/programs/{uuid.uuid4()}/report/").status_code == 404
    client.force_login(report_data.sponsor)
    assert client.get(f"/sponsor/programs/{uuid.uuid4()}/").status_code == 404


@pytest.mark.parametrize("role", [Role.PARTICIPANT, Role.COACH, Role.STAFF])
def test_other_roles_get_404_on_sponsor_pages(
    client: Client, report_data: ReportData, role: str
) -> None:
    client.force_login(UserFactory(role=role))
    assert client.get(sponsor_url(report_data.program)).status_code == 404
    assert client.get("/sponsor/").status_code == 404


@pytest.mark.parametrize("role", [Role.PARTICIPANT, Role.COACH, Role.SPONSOR])
def test_other_roles_get_404_on_staff_report_and_list(
    client: Client, report_data: ReportData, role: str
) -> None:
    client.force_login(UserFactory(role=role))
    assert client.get(staff_url(report_data)).status_code == 404
    assert client.get("/ops/programs/").status_code == 404


def test_signed_out_visitors_are_sent_to_sign_in(client: Client, report_data: ReportData) -> None:
    response = client.get(sponsor_url(report_data.program))
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_sponsor_home_lists_only_own_programs_with_averages(
    client: Client, report_data: ReportData
) -> None:
    client.force_login(report_data.sponsor)
    body = client.get("/sponsor/").content.decode()
    assert "Leaders 2026" in body and "Contoso Coaching" not in body
    assert "7 participants" in body and "3.6 / 5 (from 5)" in body
    # One closing-survey answer is below the group size.
    assert "Would recommend coaching: not enough answers yet" in body and "9.0" not in body
    assert_clean_page(body)


def test_staff_program_list_shows_averages_per_program(
    client: Client, report_data: ReportData
) -> None:
    login_verified(client, report_data.staff)
    body = client.get("/ops/programs/").content.decode()
    assert "Leaders 2026" in body and "Contoso Coaching" in body
    assert "3.6" in body and "9.0" in body
    assert staff_url(report_data) in body
    assert_clean_page(body)


def test_report_pages_accept_only_get(client: Client, report_data: ReportData) -> None:
    login_verified(client, report_data.staff)
    assert client.post(staff_url(report_data)).status_code == 405


def test_coach_in_no_program_does_not_appear_in_utilisation(
    client: Client, report_data: ReportData
) -> None:
    CoachFactory(user__full_name="Nobody Elsewhere")
    login_verified(client, report_data.staff)
    assert "Nobody Elsewhere" not in client.get(staff_url(report_data)).content.decode()
