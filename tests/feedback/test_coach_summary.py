"""Coaches see their own released averages and counts, never who rated which session.

Averages are released in batches (feedback.services.feedback_release): nothing
until the group size (MIN_GROUP_SIZE, 5 by default, or the organization's own)
of answers is in, then a change only once as many new answers have arrived.
"""

from __future__ import annotations

import dataclasses

import pytest
from django.template import Context, Template
from pytest_django import DjangoAssertNumQueries, Settings

from coaches.models import CoachProfile
from feedback.models import FeedbackKind, ReleasedFeedback
from feedback.selectors import FeedbackSummary, coach_feedback_summary
from tests.factories import CoachFactory, OrganizationFactory, ProgramFactory
from tests.feedback.helpers import change, rate, survey

pytestmark = pytest.mark.django_db


def render_panel(coach: CoachProfile) -> str:
    return Template("{% load feedback_tags %}{% coach_feedback_averages coach %}").render(
        Context({"coach": coach})
    )


def test_the_default_group_size_is_five(settings: Settings) -> None:
    assert settings.MIN_GROUP_SIZE == 5


def test_nothing_is_shown_until_a_group_of_five_has_answered() -> None:
    coach = CoachFactory()
    rate(coach, [5, 4, 3, 2])
    assert coach_feedback_summary(coach) == FeedbackSummary(
        rating_count=0, rating_avg=None, survey_count=0, survey_avg=None
    )
    rate(coach, [1])
    assert coach_feedback_summary(coach).rating_count == 5
    assert coach_feedback_summary(coach).rating_avg == pytest.approx(3.0)


def test_summary_counts_own_answers_only_in_one_query(
    django_assert_num_queries: DjangoAssertNumQueries,
) -> None:
    coach = CoachFactory()
    rate(coach, [5, 4, 4, 3, 4])
    survey(coach, [8, 9, 10, 7, 6])
    rate(CoachFactory(), [1, 1, 1, 1, 1])
    survey(CoachFactory(), [0, 0, 0, 0, 0])
    with django_assert_num_queries(1):
        summary = coach_feedback_summary(coach)
    assert dataclasses.asdict(summary) == {
        "rating_count": 5,
        "rating_avg": pytest.approx(4.0),
        "survey_count": 5,
        "survey_avg": pytest.approx(8.0),
    }


def test_the_average_changes_only_when_five_new_answers_are_in() -> None:
    coach = CoachFactory()
    rate(coach, [5, 5, 5, 5, 5])
    for n in range(4):
        rate(coach, [1])
        assert (coach_feedback_summary(coach).rating_count, n) == (5, n)
        assert coach_feedback_summary(coach).rating_avg == 5.0
    rate(coach, [1])
    assert coach_feedback_summary(coach).rating_count == 10
    assert coach_feedback_summary(coach).rating_avg == 3.0


def test_a_changed_rating_shows_only_with_the_next_batch() -> None:
    coach = CoachFactory()
    first, *_ = rate(coach, [1, 3, 3, 3, 3])
    assert coach_feedback_summary(coach).rating_avg == pytest.approx(2.6)
    change(first, 5)
    assert coach_feedback_summary(coach).rating_avg == pytest.approx(2.6)
    rate(coach, [3, 3, 3, 3, 3])
    assert coach_feedback_summary(coach).rating_avg == pytest.approx(3.2)  # 5 + 9 * 3, of 10


def test_an_organization_may_set_its_own_group_size() -> None:
    coach = CoachFactory()
    program = ProgramFactory(organization=OrganizationFactory(min_group_size=3))
    rate(coach, [4, 4], program=program)
    assert coach_feedback_summary(coach).rating_avg is None
    rate(coach, [1], program=program)
    assert coach_feedback_summary(coach).rating_avg == pytest.approx(3.0)


def test_a_coach_working_for_several_organizations_gets_the_largest_group_size() -> None:
    coach = CoachFactory()
    small = ProgramFactory(organization=OrganizationFactory(min_group_size=3))
    large = ProgramFactory(organization=OrganizationFactory(min_group_size=7))
    rate(coach, [4, 4], program=small)
    rate(coach, [2], program=large)
    # Three answers would do for the small organization; its neighbour asks for seven.
    assert coach_feedback_summary(coach).rating_avg is None
    rate(coach, [4, 4, 4], program=small)
    assert coach_feedback_summary(coach).rating_avg is None
    rate(coach, [4], program=small)
    assert coach_feedback_summary(coach).rating_count == 7


def test_the_site_setting_is_the_group_size_by_default(settings: Settings) -> None:
    settings.MIN_GROUP_SIZE = 3
    coach = CoachFactory()
    rate(coach, [2, 3, 4])
    assert coach_feedback_summary(coach).rating_avg == pytest.approx(3.0)


def test_released_figures_are_one_row_per_coach_and_kind() -> None:
    coach = CoachFactory()
    rate(coach, [4] * 12)
    rows = ReleasedFeedback.objects.filter(coach=coach)
    assert [(r.kind, r.answers, r.total) for r in rows] == [(FeedbackKind.SESSION_RATINGS, 10, 40)]


def test_summary_carries_no_rater_or_session_identity() -> None:
    assert {f.name for f in dataclasses.fields(FeedbackSummary)} == {
        "rating_count",
        "rating_avg",
        "survey_count",
        "survey_avg",
    }


def test_coach_panel_says_not_enough_answers_yet_below_the_group_size(
    django_assert_num_queries: DjangoAssertNumQueries,
) -> None:
    coach = CoachFactory()
    rate(coach, [5, 4, 3])
    with django_assert_num_queries(1):
        html = render_panel(coach)
    assert html.count("Not enough answers yet") == 2
    assert "/ 5" not in html and "3 ratings" not in html


def test_coach_panel_shows_released_averages_but_not_who_rated(
    django_assert_num_queries: DjangoAssertNumQueries,
) -> None:
    coach = CoachFactory()
    ratings = rate(coach, [5, 4, 3, 4, 4])
    name = ratings[0].session.engagement.participant.full_name
    with django_assert_num_queries(1):
        html = render_panel(coach)
    assert "4.0 / 5" in html and "from 5 ratings" in html
    assert "changes only when a batch of new ones has arrived" in html
    assert name not in html and "secret" not in html and " style=" not in html
