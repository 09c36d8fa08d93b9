"""The staff program list's rows, written in one pass (reports/templatetags/report_tags.py),
read as the template they replace would show them."""

from __future__ import annotations

import re
from datetime import date

import pytest
from django.template import Context, Template
from django.test import Client

from accounts.models import Role
from engagements.models import Program
from reports.templatetags.report_tags import program_rows
from tests.factories import EngagementFactory, OrganizationFactory, ProgramFactory, UserFactory
from tests.signin import login_verified

pytestmark = pytest.mark.django_db

# The row as reports/programs.html wrote it, one filter and {% url %} per cell.
TEMPLATE_ROW = Template(
    """{% load humanize %}
    <tr>
      <th scope="row" class="card-title"><a href="{% url 'reports:staff_program_report' program.public_id %}">{{ program.name }}</a></th>
      <td data-label="Organization">{{ program.organization.name }}</td>
      <td data-label="Dates">{{ program.starts_on|date:"j M Y" }} to {{ program.ends_on|date:"j M Y" }}</td>
      <td class="num" data-label="Participants">{{ program.participants|intcomma }}</td>
      <td class="num" data-label="Average rating">{% if program.rating_avg is None %}–{% else %}{{ program.rating_avg|floatformat:1 }}{% endif %}</td>
      <td class="num" data-label="Would recommend">{% if program.survey_avg is None %}–{% else %}{{ program.survey_avg|floatformat:1 }}{% endif %}</td>
    </tr>"""  # noqa: E501
)


def _tight(html: str) -> str:
    return re.sub(r">\s+<", "><", html.strip())


@pytest.mark.parametrize(
    ("participants", "rating_avg", "survey_avg"),
    [(0, None, None), (1234, 4.25, 8.05), (7, 3.0, None)],
)
def test_a_row_reads_as_the_template_would_show_it(
    participants: int, rating_avg: float | None, survey_avg: float | None
) -> None:
    program = ProgramFactory(
        name="R&D <Leaders>",
        organization=OrganizationFactory(name="Acme & Co"),
        starts_on=date(2026, 3, 2),
        ends_on=date(2026, 11, 30),
    )
    program.participants = participants  # type: ignore[attr-defined]
    program.rating_avg = rating_avg  # type: ignore[attr-defined]
    program.survey_avg = survey_avg  # type: ignore[attr-defined]

    expected = TEMPLATE_ROW.render(Context({"program": program}))

    assert _tight(program_rows([program])) == _tight(expected)


def test_the_list_shows_every_program_or_says_there_is_none(client: Client) -> None:
    login_verified(client, UserFactory(role=Role.STAFF))
    assert "No programs yet." in client.get("/ops/programs/").content.decode()
    EngagementFactory(program=ProgramFactory(name="North"))
    body = client.get("/ops/programs/").content.decode()
    program = Program.objects.get()
    assert f'<a href="/ops/programs/{program.public_id}/report/">North</a>' in body
    assert '<td class="num" data-label="Participants">1</td>' in body
    assert "No programs yet." not in body
