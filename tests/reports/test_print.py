"""The printed report: running header from the page's own nonce'd style, thousands
separators, one date style, and a sponsor print without the per-person list."""

from __future__ import annotations

import re

import pytest
from django.template import Context, Template
from django.test import Client

from config.print_tags import css_string
from engagements.models import Program
from tests.factories import EngagementFactory, ProgramFactory, UserFactory
from tests.reports.conftest import ReportData
from tests.signin import login_verified

pytestmark = pytest.mark.django_db

STYLE_RE = re.compile(r'<style nonce="([^"]+)">(.*?)</style>', re.S)


def staff_url(program: Program) -> str:
    return f"/ops/programs/{program.public_id}/report/"


def sponsor_url(program: Program) -> str:
    return f"/sponsor/programs/{program.public_id}/"


@pytest.mark.parametrize(
    ("value", "literal"),
    [
        ("Leaders 2026", '"Leaders 2026"'),
        ("Équipe · Ünïcode–ok", '"Équipe · Ünïcode–ok"'),
        ('Say "hi"', '"Say \\000022hi\\000022"'),
        ("back\\slash", '"back\\00005cslash"'),
        ("</style><script>", '"\\00003c/style\\00003e\\00003cscript\\00003e"'),
        ("two\nlines", '"two\\00000alines"'),
        ("R&D {x}", '"R\\000026D \\00007bx\\00007d"'),
    ],
)
def test_css_string_quotes_anything_as_one_css_string(value: str, literal: str) -> None:
    assert css_string(value) == literal


def test_css_string_works_in_a_template_unescaped_by_html() -> None:
    rendered = Template("{% load print_tags %}{{ name|css_string }}").render(
        Context({"name": "Q&A 'Leaders'"})
    )
    assert rendered == "\"Q\\000026A 'Leaders'\""


def test_the_report_names_its_program_in_the_printed_header(
    client: Client, report_data: ReportData
) -> None:
    program = report_data.program
    Program.objects.filter(pk=program.pk).update(name='R&D "Leaders" </style>')
    login_verified(client, report_data.staff)

    response = client.get(staff_url(program))

    body = response.content.decode()
    (nonce, style), *others = STYLE_RE.findall(body)
    assert not others
    assert (
        '@top-left { content: "R\\000026D \\000022Leaders\\000022 \\00003c/style\\00003e"; }'
        in (style)
    )
    assert '@top-right { content: "Northwind"; }' in style
    assert re.search(r'@bottom-left \{ content: "18 Mar 2026, 12:00 UTC"; \}', style)
    # The policy admits this style element, and only by its nonce.
    policy = response["Content-Security-Policy"]
    assert f"style-src 'self' 'nonce-{nonce}'" in policy
    assert "unsafe-inline" not in policy


def test_pages_without_a_printed_header_keep_the_self_only_style_policy(client: Client) -> None:
    response = client.get("/login/")
    assert "style-src 'self';" in response["Content-Security-Policy"] + ";"
    assert "<style" not in response.content.decode()


def test_the_sponsor_print_leaves_out_the_per_person_list(
    client: Client, report_data: ReportData
) -> None:
    # The list is on the page only where the organization shares individual progress.
    organization = report_data.program.organization
    organization.sponsors_see_individual_progress = True
    organization.save()
    client.force_login(report_data.sponsor)
    body = client.get(sponsor_url(report_data.program)).content.decode()

    assert '<section class="report-section no-print" aria-labelledby="s-progress">' in body
    assert "Cleo Progress" in body  # still on screen
    assert "left out of the printed report" in body


def test_the_staff_print_keeps_its_lists(client: Client, report_data: ReportData) -> None:
    login_verified(client, report_data.staff)
    body = client.get(staff_url(report_data.program)).content.decode()

    assert "left out of the printed report" not in body
    assert re.search(r'<section class="report-section[^"]*" aria-labelledby="s-coaches">', body)
    section = re.search(r"<section [^>]*s-coaches[^>]*>", body)
    assert section and "no-print" not in section.group(0)


def test_figures_have_thousands_separators(client: Client) -> None:
    program = ProgramFactory(name="Big Program", sessions_per_engagement=250)
    EngagementFactory.create_batch(5, program=program)
    login_verified(client, UserFactory(role="staff"))

    body = client.get(staff_url(program)).content.decode()

    assert "0 of 1,250" in body  # sessions held of planned
    assert "of 1250" not in body


def test_the_report_uses_one_date_style(client: Client, report_data: ReportData) -> None:
    login_verified(client, report_data.staff)
    body = client.get(staff_url(report_data.program)).content.decode()

    assert "2 Feb 2026 to 31 Jul 2026" in body
    axis = re.findall(r'fill="#4f5869">([^<]*[A-Za-z][^<]*)</text>', body)
    assert axis and axis[0] == "2 Feb"  # "j M", as every date in the report; not "02 Feb"
    assert all(re.fullmatch(r"[1-9]\d? [A-Z][a-z]{2}", label) for label in axis), axis
    assert "Week of 16 Feb 2026: 3 held" in body
    assert "report of 18 Mar 2026, 12:00 UTC" in body
