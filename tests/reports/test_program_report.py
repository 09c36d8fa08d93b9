"""Each figure of the program report against the hand-built data set (tests/reports/conftest.py)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from django.template import Context, Template

from engagements.models import Program, Status
from nudges.models import FlagKind
from reports.selectors import CoachLine, participant_progress, program_report
from tests.factories import EngagementFactory, ProgramFactory, engagement_with_coach
from tests.reports.conftest import ReportData

pytestmark = pytest.mark.django_db


def test_counts_participants_by_status(report_data: ReportData) -> None:
    report = program_report(program=report_data.program)
    assert {value: n for value, _, n in report.by_status} == {
        Status.INVITED: 1,
        Status.COACH_SELECTED: 1,
        Status.IN_PROGRESS: 1,
        Status.ON_HOLD: 1,
        Status.COMPLETED: 1,
        Status.CANCELLED: 2,
    }
    assert report.total == 7


def test_share_matched_counts_everyone_who_has_had_a_coach(report_data: ReportData) -> None:
    report = program_report(program=report_data.program)
    # B, C, D, F and G (cancelled after choosing) have had a coach; A and E not.
    assert report.matched == 5
    assert report.share_matched == pytest.approx(5 / 7)


def test_a_released_coach_still_counts_as_matched(program: Program) -> None:
    engagement = engagement_with_coach(program=program)
    engagement.transition_to(Status.INVITED, changes={"coach": None})
    assert program_report(program=program).matched == 1


def test_median_days_from_invitation_to_coach_choice(report_data: ReportData) -> None:
    # Waits of 2, 4, 6, 8 and 10 days.
    assert program_report(program=report_data.program).median_days_to_selection == (
        pytest.approx(6.0)
    )


def test_median_of_an_even_count_is_the_mean_of_the_middle_two(
    program: Program, now: datetime
) -> None:
    for wait in (1, 2, 4, 9):
        engagement = engagement_with_coach(program=program)
        type(engagement).objects.filter(pk=engagement.pk).update(
            invited_at=now - timedelta(days=20), coach_selected_at=now - timedelta(days=20 - wait)
        )
    assert program_report(program=program).median_days_to_selection == pytest.approx(3.0)


def test_median_is_empty_when_nobody_has_chosen(program: Program) -> None:
    EngagementFactory(program=program)
    report = program_report(program=program)
    assert report.median_days_to_selection is None
    assert report.share_matched == 0


def test_an_empty_program_has_no_ratios(program: Program) -> None:
    report = program_report(program=program)
    assert (report.total, report.share_matched, report.completion_rate) == (0, None, None)
    assert report.sessions_share is None


def test_sessions_held_of_planned_leave_out_cancelled_engagements(report_data: ReportData) -> None:
    report = program_report(program=report_data.program)
    # Held: C 2 (its no-show does not count), D 4, F 1; G is cancelled.
    assert report.sessions_held == 7
    # 5 engagements not cancelled x 4 sessions each.
    assert report.sessions_planned == 20
    assert report.sessions_share_pct == pytest.approx(35.0)


def test_completion_rate_is_completed_of_not_cancelled(report_data: ReportData) -> None:
    report = program_report(program=report_data.program)
    assert (report.completed, report.not_cancelled) == (1, 5)
    assert report.completion_rate_pct == pytest.approx(20.0)


def test_open_flags_by_kind_leave_out_resolved_flags(report_data: ReportData) -> None:
    report = program_report(program=report_data.program)
    assert {kind: n for kind, _, n in report.open_flags} == {
        FlagKind.NO_COACH_SELECTED: 1,
        FlagKind.NO_FIRST_SESSION: 1,
        FlagKind.STALLED: 1,  # C's; F's is resolved, H's is another program's
        FlagKind.BEHIND_SCHEDULE: 0,
        FlagKind.UNCONFIRMED_SESSION: 0,
    }
    assert report.open_flags_total == 3


def test_average_session_rating_and_closing_score(report_data: ReportData) -> None:
    report = program_report(program=report_data.program)
    assert report.rating_avg == pytest.approx((5 + 4 + 4 + 3 + 2) / 5)
    assert report.rating_count == 5
    assert report.survey_avg == pytest.approx(9.0)
    assert report.survey_count == 1


def test_sessions_held_per_week_fill_in_empty_weeks(report_data: ReportData) -> None:
    report = program_report(program=report_data.program)
    assert [(w.week, w.held) for w in report.weeks] == [
        (date(2026, 2, 2), 0),
        (date(2026, 2, 9), 2),  # D1, F1
        (date(2026, 2, 16), 3),  # C1, D2, G1 (a session that was held)
        (date(2026, 2, 23), 0),  # C2 was a no-show
        (date(2026, 3, 2), 2),
        (date(2026, 3, 9), 1),
        (date(2026, 3, 16), 0),  # this week, up to today
    ]


def test_coach_utilisation_counts_active_engagements_in_every_program(
    report_data: ReportData,
) -> None:
    report = program_report(program=report_data.program, with_staff_detail=True)
    lines = {line.name: line for line in report.coaches}
    assert set(lines) == {"Xavier Coach", "Yvonne Coach", "Zoe Coach"}
    x, y, z = lines["Xavier Coach"], lines["Yvonne Coach"], lines["Zoe Coach"]
    assert (x.active, x.capacity, x.in_program) == (3, 4, 4)  # B, C, F active; D completed
    assert x.utilisation_pct == pytest.approx(75.0)
    assert (x.rating_avg, x.rating_count) == (pytest.approx(3.6), 5)
    assert (y.active, y.capacity, y.in_program) == (1, 2, 1)  # H elsewhere; G cancelled
    assert (y.rating_avg, y.rating_count) == (None, 0)
    assert (z.active, z.in_program, z.utilisation_pct) == (0, 0, 0)


def test_staff_detail_lists_closing_survey_texts(report_data: ReportData) -> None:
    report = program_report(program=report_data.program, with_staff_detail=True)
    assert [(score, text) for _, score, text in report.survey_texts] == [
        (9, "I delegate the weekly report now and sleep better.")
    ]
    assert program_report(program=report_data.program).survey_texts == []


def test_participant_progress_shows_held_sessions(report_data: ReportData) -> None:
    progress = participant_progress(program=report_data.program)
    assert (progress.number, progress.matching, progress.pages) == (1, 7, 1)
    assert [(p.name, p.status, p.sessions_held) for p in progress.lines] == [
        ("Ana Invited", Status.INVITED, 0),
        ("Ben Selected", Status.COACH_SELECTED, 0),
        ("Cleo Progress", Status.IN_PROGRESS, 2),
        ("Dan Done", Status.COMPLETED, 4),
        ("Eve Cancelled", Status.CANCELLED, 0),
        ("Fay Hold", Status.ON_HOLD, 1),
        ("Gus Gone", Status.CANCELLED, 1),
    ]


def test_chart_shows_at_most_a_year_of_weeks(now: datetime) -> None:
    program = ProgramFactory(starts_on=date(2023, 1, 2), ends_on=date(2027, 1, 1))
    weeks = program_report(program=program).weeks
    assert len(weeks) == 52
    assert weeks[-1].week == date(2026, 3, 16)


@pytest.mark.parametrize(
    ("active", "capacity", "rating_avg", "rating_count"),
    [(3, 4, 4.25, 12), (1, 8, 2.5, 1), (0, 0, None, 0), (1234, 2000, 3.05, 98765), (5, 3, 4.95, 2)],
)
def test_coach_cells_read_as_the_template_filters_would_show_them(
    active: int, capacity: int, rating_avg: float | None, rating_count: int
) -> None:
    line = CoachLine(
        name="X",
        capacity=capacity,
        active=active,
        in_program=active,
        rating_avg=rating_avg,
        rating_count=rating_count,
    )
    filters = Template(
        "{% load humanize %}{{ c.active|intcomma }} / {{ c.capacity|intcomma }}|"
        "{% if c.utilisation_pct is None %}–{% else %}{{ c.utilisation_pct|floatformat:0 }}%"
        "{% endif %}|{{ c.in_program|intcomma }}|{% if c.rating_avg is None %}–{% else %}"
        "{{ c.rating_avg|floatformat:1 }} ({{ c.rating_count|intcomma }}){% endif %}"
    ).render(Context({"c": line}))
    cells = [line.load_text, line.utilisation_text, line.in_program_text, line.rating_text]
    assert "|".join(cells) == filters
