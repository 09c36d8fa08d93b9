"""Rows of the staff pages written in one pass (reports/templatetags/report_tags.py): the
program list's, the report's coaches and survey texts, read as the templates they replace
would show them."""

from __future__ import annotations

import re
from datetime import date

import pytest
from django.template import Context, Template
from django.test import Client

from accounts.models import Role
from engagements.models import Program
from reports.selectors import CoachLine
from reports.templatetags.report_tags import coach_rows, program_rows, survey_text_items
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


def test_coach_rows_and_survey_texts_read_as_the_template_would_show_them() -> None:
    coaches = [
        CoachLine(
            name="Ann <b>", capacity=4, active=3, in_program=2, rating_avg=4.25, rating_count=8
        ),
        CoachLine(
            name="Bo & Co", capacity=0, active=0, in_program=0, rating_avg=None, rating_count=0
        ),
    ]
    texts = [(date(2026, 3, 9), 9, "Line one\nLine <two> & more"), (date(2026, 1, 2), 0, "x")]
    old = Template(
        """{% for coach in coaches %}
        <tr>
          <th scope="row" class="card-title">{{ coach.name }}</th>
          <td class="num" data-label="Active / capacity">{{ coach.load_text }}</td>
          <td class="num" data-label="Utilisation">{{ coach.utilisation_text }}</td>
          <td class="num" data-label="In this program">{{ coach.in_program_text }}</td>
          <td class="num" data-label="Average rating">{{ coach.rating_text }}</td>
        </tr>{% endfor %}|{% for answered_on, score, text in texts %}
      <li class="card"><p>{{ text|linebreaksbr }}</p><p class="muted">{{ answered_on|date:"j M Y" }} · would recommend {{ score }}/10</p></li>
      {% endfor %}"""  # noqa: E501
    ).render(Context({"coaches": coaches, "texts": texts}))

    new = f"{coach_rows(coaches)}|{survey_text_items(texts)}"

    assert [_tight(part) for part in new.split("|")] == [_tight(part) for part in old.split("|")]
    assert "Line one<br>Line &lt;two&gt; &amp; more" in new
