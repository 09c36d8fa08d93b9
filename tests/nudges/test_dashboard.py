"""The ops dashboard at /ops/: staff only, flags, flagged engagements, capacity, last run."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import timedelta
from io import StringIO
from typing import Any

import pytest
import time_machine
from django.core.mail import EmailMultiAlternatives
from django.core.management import call_command
from django.template import Context, Template
from django.test import Client
from django.urls import reverse
from pytest_django import DjangoAssertNumQueries

from accounts.models import User
from nudges.models import FlagKind, NudgeFlag
from nudges.templatetags.ops_tags import coach_capacity_rows, flagged_rows
from tests.factories import CoachFactory, ProgramFactory, UserFactory, engagement_with_coach
from tests.nudges.helpers import NOW, TODAY, invited, run_nudges, selected
from tests.signin import OTP_DEVICE_QUERY, login_verified

pytestmark = pytest.mark.django_db
URL = "/ops/"


@pytest.fixture(autouse=True)
def frozen_time() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


def test_anonymous_visitor_is_sent_to_sign_in(client: Client) -> None:
    response = client.get(URL)

    assert response.status_code == 302
    assert response["Location"].startswith("/login/?next=/ops/")


@pytest.mark.parametrize("role", ["participant", "coach", "sponsor"])
def test_other_roles_get_a_404(client: Client, role: str) -> None:
    client.force_login(UserFactory(role=role))

    assert client.get(URL).status_code == 404


def test_staff_can_only_read_the_dashboard(client: Client, staff: User) -> None:
    login_verified(client, staff)

    assert client.post(URL).status_code == 405
    assert client.get(URL).status_code == 200


def test_other_roles_get_a_404_before_the_method_is_checked(client: Client) -> None:
    client.force_login(UserFactory(role="coach"))

    assert client.post(URL).status_code == 404


def test_staff_see_open_flags_by_program_and_kind_with_counts(client: Client, staff: User) -> None:
    leaders = ProgramFactory(name="Leaders 2026")
    for _ in range(3):
        invited(leaders, days_ago=10)
    selected(leaders, days_ago=20)
    run_nudges()
    login_verified(client, staff)

    response = client.get(URL)

    assert response.status_code == 200
    summary = {
        (row["program__name"], row["kind"]): row["count"] for row in response.context["summary"]
    }
    assert summary == {
        ("Leaders 2026", FlagKind.NO_COACH_SELECTED): 3,
        ("Leaders 2026", FlagKind.NO_FIRST_SESSION): 1,
    }
    assert b"No coach selected" in response.content


def test_flagged_engagements_link_to_their_ops_pages(client: Client, staff: User) -> None:
    engagement = invited(ProgramFactory(), days_ago=10)
    run_nudges()
    login_verified(client, staff)

    response = client.get(URL)

    ops_url = reverse("nudges:ops_engagement", kwargs={"public_id": engagement.public_id})
    assert f'href="{ops_url}"'.encode() in response.content
    assert engagement.participant.full_name.encode() in response.content


def test_resolved_flags_are_not_listed(client: Client, staff: User) -> None:
    engagement = invited(ProgramFactory(), days_ago=10)
    NudgeFlag.objects.create(engagement=engagement, kind=FlagKind.STALLED, resolved_at=NOW)
    login_verified(client, staff)

    response = client.get(URL)

    assert response.context["page"].paginator.count == 0
    assert response.context["summary"] == []


def test_flagged_engagements_are_paginated_by_50(client: Client, staff: User) -> None:
    program = ProgramFactory()
    for _ in range(51):
        invited(program, days_ago=10)
    run_nudges()
    login_verified(client, staff)

    first = client.get(URL)
    second = client.get(URL, {"page": 2})
    nonsense = client.get(URL, {"page": "x"})

    assert len(first.context["page"].object_list) == 50
    assert len(second.context["page"].object_list) == 1
    assert nonsense.context["page"].number == 1


def test_flagged_engagements_come_oldest_flag_first(client: Client, staff: User) -> None:
    program = ProgramFactory()
    recent = invited(program, days_ago=9)
    oldest = invited(program, days_ago=12)
    run_nudges()
    NudgeFlag.objects.filter(engagement=oldest).update(raised_at=NOW.replace(year=2025))
    login_verified(client, staff)

    response = client.get(URL)

    assert [r.engagement.pk for r in response.context["page"].object_list] == [
        oldest.pk,
        recent.pk,
    ]
    assert [s.flag.kind for s in response.context["page"].object_list[0].stuck] == [
        FlagKind.NO_COACH_SELECTED
    ]


def test_coach_capacity_is_paginated_by_50_full_coaches_first(client: Client, staff: User) -> None:
    full = CoachFactory(capacity=1, user__full_name="Zed Full")
    engagement_with_coach(coach=full, program=ProgramFactory())
    for n in range(50):
        CoachFactory(user__full_name=f"Coach {n:02}")
    login_verified(client, staff)

    first = client.get(URL)
    second = client.get(URL, {"coaches_page": 2})

    assert len(first.context["coaches"].object_list) == 50
    assert first.context["coaches"][0].user.full_name == "Zed Full"
    assert [c.user.full_name for c in second.context["coaches"]] == ["Coach 49"]
    assert b"Page 1 of 2 (51 coaches, full ones first)" in first.content


def test_the_coaches_order_follows_a_change_of_load_once_it_commits(
    client: Client, staff: User, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    """The order by load is cached; a selection or a capacity change moves it on commit."""
    program = ProgramFactory()
    CoachFactory(capacity=1, user__full_name="Ada")
    zed = CoachFactory(capacity=1, user__full_name="Zed")
    login_verified(client, staff)

    def order() -> list[str]:
        return [c.user.full_name for c in client.get(URL).context["coaches"]]

    assert order() == ["Ada", "Zed"]
    with django_capture_on_commit_callbacks(execute=False) as pending:
        engagement_with_coach(coach=zed, program=program)
    assert order() == ["Ada", "Zed"]  # not committed yet: the cached order stands
    for callback in pending:
        callback()
    assert order() == ["Zed", "Ada"]  # Zed is full now
    with django_capture_on_commit_callbacks(execute=True):
        zed.capacity = 2
        zed.save()
    assert order() == ["Ada", "Zed"]


def test_capacity_per_coach_highlights_full_coaches(client: Client, staff: User) -> None:
    full = CoachFactory(capacity=2, user__full_name="Ada Full")
    roomy = CoachFactory(capacity=5, user__full_name="Bea Roomy")
    program = ProgramFactory()
    for coach in (full, full, roomy):
        engagement_with_coach(coach=coach, program=program)
    done = engagement_with_coach(coach=roomy, program=program)
    done.transition_to("completed")
    login_verified(client, staff)

    response = client.get(URL)

    coaches = response.context["coaches"]
    rows = {c.user.full_name: (c.active_count, c.capacity, c.is_full) for c in coaches}
    assert rows == {"Ada Full": (2, 2, True), "Bea Roomy": (1, 5, False)}
    assert b'2 / 2 <span class="badge badge-danger">Full</span>' in response.content


def test_shows_the_last_run_and_its_counts(client: Client, staff: User) -> None:
    invited(ProgramFactory(), days_ago=10)
    run_nudges()
    run_nudges(force=False)  # skipped: not the run ops want to see
    login_verified(client, staff)

    response = client.get(URL)

    assert response.context["last_run"].outcome == "succeeded"
    assert b"1 raised, 0 resolved, 1 open, 1 email sent" in response.content


def _populate(n_flagged: int, n_coaches: int) -> None:
    program = ProgramFactory()
    coaches = [CoachFactory() for _ in range(n_coaches)]
    for i in range(n_flagged):
        selected(program, days_ago=20, coach=coaches[i % n_coaches])
    run_nudges()


@pytest.mark.parametrize(("flagged", "coaches"), [(2, 1), (70, 12)])
def test_dashboard_query_count_is_fixed(
    client: Client,
    staff: User,
    django_assert_num_queries: DjangoAssertNumQueries,
    flagged: int,
    coaches: int,
) -> None:
    _populate(flagged, coaches)
    login_verified(client, staff)

    # The user (its session comes from the cache), the last run, flag summary, flagged
    # count, flagged page ids, their engagements, their open flags, the coaches in
    # order of load, a page of coaches with their load, the unmatched bookings' count
    # (scheduling's panel; none here), and the filter's programs (coaches are searched
    # by name, not listed).
    with django_assert_num_queries(11 + OTP_DEVICE_QUERY):
        response = client.get(URL)
    assert response.status_code == 200
    # The flag summary, the flagged count and the page's ids are cached until the next
    # run, the coaches' order until a load changes, the unmatched bookings until one is
    # received, assigned or dismissed; the user's and the OTP device's rows for a minute.
    with django_assert_num_queries(5):
        again = client.get(URL)
    assert again.context["summary"] == response.context["summary"]
    assert again.context["page"].paginator.count == flagged

    # Filtered: the count is the filter's own (never cached), and days stuck reads
    # the programs' behind-schedule dates.
    with django_assert_num_queries(8):
        response = client.get(URL, {"days": "3", "kind": "no_first_session"})

    assert response.status_code == 200
    assert response.context["page"].paginator.count == flagged


def test_the_cached_flag_figures_change_with_the_next_run(client: Client, staff: User) -> None:
    program = ProgramFactory(name="Leaders 2026")
    invited(program, days_ago=10)
    run_nudges()
    login_verified(client, staff)
    assert client.get(URL).context["page"].paginator.count == 1
    for _ in range(2):
        selected(program, days_ago=20)
    assert client.get(URL).context["page"].paginator.count == 1  # no run yet

    run_nudges()  # at the same instant: the later run still counts as the last one

    response = client.get(URL)
    assert response.context["page"].paginator.count == 3
    assert {row["kind"]: row["count"] for row in response.context["summary"]} == {
        FlagKind.NO_COACH_SELECTED: 1,
        FlagKind.NO_FIRST_SESSION: 2,
    }


def test_run_on_the_demo_data_raises_flags_that_show_on_the_dashboard(
    client: Client, mailoutbox: list[EmailMultiAlternatives], run_worker: Callable[[], int]
) -> None:
    call_command("seed_demo", stdout=StringIO())
    out = StringIO()

    call_command("run_nudges", stdout=out)
    run_worker()

    assert "Northwind Leadership Coaching 2026" in out.getvalue()
    kinds = set(NudgeFlag.objects.values_list("kind", flat=True))
    assert {FlagKind.NO_COACH_SELECTED, FlagKind.NO_FIRST_SESSION, FlagKind.STALLED} <= kinds
    assert mailoutbox
    login_verified(client, User.objects.get(email="ops@coachdesk.example"))
    response = client.get(URL)
    assert response.status_code == 200
    assert response.context["page"].paginator.count == (
        NudgeFlag.objects.values("engagement").distinct().count()
    )
    assert b"Stalled" in response.content


def test_the_summary_says_how_long_the_longest_stuck_has_been_stuck_not_the_flags_age(
    client: Client, staff: User
) -> None:
    program = ProgramFactory(name="Leaders 2026")
    invited(program, days_ago=10)
    invited(program, days_ago=8)
    run_nudges()  # the flags are raised now: 0 minutes old
    login_verified(client, staff)

    response = client.get(URL)

    (row,) = response.context["summary"]
    assert (row["kind"], row["count"], row["longest_stuck"]) == (FlagKind.NO_COACH_SELECTED, 2, 10)
    assert "Longest stuck" in response.content.decode()
    assert "<tr><td>Leaders 2026</td><td>No coach selected</td><td>2</td><td>10 days</td></tr>" in (
        response.content.decode()
    )
    assert "minutes ago" not in response.content.decode()


def test_the_cached_summary_counts_the_days_to_today(client: Client, staff: User) -> None:
    program = ProgramFactory(name="Leaders 2026")
    invited(program, days_ago=10)
    run_nudges()
    login_verified(client, staff)
    assert [row["longest_stuck"] for row in client.get(URL).context["summary"]] == [10]
    with time_machine.travel(NOW + timedelta(days=1), tick=False):
        login_verified(client, staff)  # a staff session idles out after 30 minutes
        assert [row["longest_stuck"] for row in client.get(URL).context["summary"]] == [11]


def test_summary_rows_are_escaped_and_say_day_for_one(client: Client, staff: User) -> None:
    # Ends in 20 days: within its 21 behind-schedule days since yesterday.
    program = ProgramFactory(name="R&D <Lab>", ends_on=TODAY + timedelta(days=20))
    invited(program, days_ago=1)
    run_nudges()
    login_verified(client, staff)

    body = client.get(URL).content.decode()

    assert (
        "<tr><td>R&amp;D &lt;Lab&gt;</td><td>Behind schedule</td><td>1</td><td>1 day</td></tr>"
        in (body)
    )


def test_a_flagged_row_links_its_page_and_says_what_it_is_missing(
    client: Client, staff: User
) -> None:
    waiting = invited(ProgramFactory(sessions_per_engagement=4), days_ago=8)
    coached = selected(ProgramFactory(), days_ago=15, coach=CoachFactory(user__full_name="Cy"))
    run_nudges()
    login_verified(client, staff)

    body = client.get(URL).content.decode()

    assert f'<a href="/ops/engagements/{waiting.public_id}/">' in body
    assert f'<a href="/ops/engagements/{coached.public_id}/">' in body
    assert '<td data-label="Coach"><span class="muted">none yet</span></td>' in body
    assert '<td data-label="Coach">Cy</td>' in body
    assert '<td data-label="Sessions">0 of 4</td>' in body
    assert "No coach selected: stuck for 8 days" in body
    assert "No first session: stuck for 15 days" in body


def test_the_program_filter_lists_every_program_and_keeps_the_choice(
    client: Client, staff: User
) -> None:
    north = ProgramFactory(name="North <&> Co")
    south = ProgramFactory(name="South")
    login_verified(client, staff)

    body = client.get(URL, {"program": str(south.public_id)}).content.decode()

    assert (
        '<select name="program" id="id_program"><option value="">All programs</option>'
        f'<option value="{north.public_id}">North &lt;&amp;&gt; Co</option>'
        f'<option value="{south.public_id}" selected>South</option></select>'
    ) in body
    bad = client.get(URL, {"program": "nonsense"}).content.decode()
    assert 'aria-describedby="id_program_error" aria-invalid="true" id="id_program">' in bad


@pytest.mark.parametrize("value", [None, "", "stalled", "nonsense"])
def test_the_flag_filter_reads_as_djangos_select_wrote_it(value: str | None) -> None:
    """PlainSelect writes the kind filter in one pass; Django's Select template wrote it
    with line breaks between the options, and nothing else differs."""
    from django import forms as django_forms
    from django.test.html import parse_html

    from nudges.forms import FlagFilterForm, PlainSelect

    def kind(widget: type[django_forms.Select]) -> str:
        form = FlagFilterForm(None if value is None else {"kind": value})
        form.fields["kind"].widget = widget(choices=[("", "All flags"), *FlagKind.choices])
        form.is_valid()
        return str(form["kind"])

    # The same HTML (assertHTMLEqual's reading: attribute order and blank lines aside).
    assert parse_html(kind(PlainSelect)) == parse_html(kind(django_forms.Select))
    assert ("aria-invalid" in kind(PlainSelect)) == (value == "nonsense")


def test_the_program_filter_costs_one_plain_query(
    client: Client, staff: User, django_assert_num_queries: DjangoAssertNumQueries
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    ProgramFactory(name="North")
    login_verified(client, staff)
    with CaptureQueriesContext(connection) as queries:
        client.get(URL)
    programs = [q["sql"] for q in queries if 'FROM "engagements_program" ORDER BY' in q["sql"]]
    assert len(programs) == 1 and not programs[0].startswith("DECLARE")


OLD_ROWS = Template(
    """{% for row in rows %}{% with engagement=row.engagement %}
      <tr>
        <td class="card-actions"><input type="checkbox" name="engagement" value="{{ engagement.public_id }}" id="pick-{{ engagement.public_id }}" aria-label="Select {{ engagement.participant.full_name }}"></td>
        <td class="card-title"><a href="{% url 'nudges:ops_engagement' public_id=engagement.public_id %}">{{ engagement.participant.full_name }}</a></td>
        <td data-label="Program">{{ engagement.program.name }}</td>
        <td data-label="Coach">{% if engagement.coach %}{{ engagement.coach.user.full_name }}{% else %}<span class="muted">none yet</span>{% endif %}</td>
        <td data-label="Status">{{ engagement.get_status_display }}</td>
        <td data-label="Sessions">{{ engagement.sessions_logged }} of {{ engagement.program.sessions_per_engagement }}</td>
        <td data-label="Stuck">{% for open in row.stuck %}<span class="badge badge-warn">{{ open.flag.get_kind_display }}{% if open.days is not None %}: stuck for {{ open.days }} day{{ open.days|pluralize }}{% endif %}</span> {% endfor %}</td>
      </tr>
    {% endwith %}{% endfor %}|{% for coach in coaches %}
      <tr>
        <td>{{ coach.user.full_name }}</td>
        <td>{{ coach.active_count }} / {{ coach.capacity }}{% if coach.is_full %} <span class="badge badge-danger">Full</span>{% endif %}</td>
        <td>{% if coach.accepting_new %}Yes{% else %}<span class="muted">No (paused)</span>{% endif %}</td>
      </tr>
    {% endfor %}"""  # noqa: E501
)


def test_flagged_and_coach_rows_read_as_the_template_would_show_them(
    client: Client, staff: User
) -> None:
    program = ProgramFactory(name="R&D <Lab>")
    named = invited(program, days_ago=9)
    User.objects.filter(pk=named.participant_id).update(full_name='Ann "<b>" & Co')
    paused = CoachFactory(capacity=1, accepting_new=False, user__full_name="Cy <i>")
    selected(program, days_ago=20, coach=paused)
    CoachFactory(user__full_name="Di")
    run_nudges()
    login_verified(client, staff)

    response = client.get(URL)
    body = response.content.decode()
    rows, coaches = response.context["page"].object_list, response.context["coaches"]
    old = OLD_ROWS.render(Context({"rows": rows, "coaches": coaches}))

    def tight(html: str) -> str:
        return re.sub(r">\s+<", "><", html.strip())

    new = f"{flagged_rows(rows)}|{coach_capacity_rows(coaches)}"
    assert [tight(part) for part in new.split("|")] == [tight(part) for part in old.split("|")]
    assert "Ann &quot;&lt;b&gt;&quot; &amp; Co" in body
    assert '<span class="muted">No (paused)</span>' in body
