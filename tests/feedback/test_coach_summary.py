"""Coaches see their own averages and counts, never who rated which session."""

from __future__ import annotations

import dataclasses

import pytest
from django.template import Context, Template

from engagements.models import Status
from feedback.models import MIN_RATINGS_FOR_AVERAGE, ClosingSurvey, SessionRating
from feedback.selectors import FeedbackSummary, coach_feedback_summary
from tests.factories import CoachFactory, SessionFactory, engagement_with_coach

pytestmark = pytest.mark.django_db


def rated_sessions(coach, scores, name) -> None:  # noqa: ANN001
    engagement = engagement_with_coach(coach=coach, participant__full_name=name)
    for n, score in enumerate(scores, start=1):
        session = SessionFactory(engagement=engagement, coach=coach, number=n, notes="secret")
        SessionRating.objects.create(session=session, score=score)
    return engagement


def test_summary_averages_own_ratings_only(django_assert_num_queries) -> None:  # noqa: ANN001
    coach = CoachFactory()
    rated_sessions(coach, [5, 4], "Rita Rater")
    done = rated_sessions(coach, [3], "Ned Other")
    done.transition_to(Status.COMPLETED)
    ClosingSurvey.objects.create(engagement=done, recommend_score=8)
    rated_sessions(CoachFactory(), [1, 1, 1], "Someone Else")
    with django_assert_num_queries(2):
        summary = coach_feedback_summary(coach)
    assert summary == FeedbackSummary(
        rating_count=3, rating_avg=pytest.approx(4.0), survey_count=1, survey_avg=None
    )


def test_average_is_withheld_until_enough_answers() -> None:
    coach = CoachFactory()
    rated_sessions(coach, [2] * (MIN_RATINGS_FOR_AVERAGE - 1), "Only One")
    summary = coach_feedback_summary(coach)
    assert (summary.rating_count, summary.rating_avg) == (MIN_RATINGS_FOR_AVERAGE - 1, None)


def test_summary_carries_no_rater_or_session_identity() -> None:
    assert {f.name for f in dataclasses.fields(FeedbackSummary)} == {
        "rating_count",
        "rating_avg",
        "survey_count",
        "survey_avg",
    }


def test_coach_partial_shows_averages_but_not_who_rated(django_assert_num_queries) -> None:  # noqa: ANN001
    coach = CoachFactory()
    rated_sessions(coach, [5, 4, 3], "Rita Rater")
    template = Template("{% load feedback_tags %}{% coach_feedback_averages coach %}")
    with django_assert_num_queries(2):
        html = template.render(Context({"coach": coach}))
    assert "4.0 / 5" in html and "3 ratings" in html
    assert "Averages appear once three answers are in" in html  # MIN_RATINGS_FOR_AVERAGE
    assert "Rita Rater" not in html and "secret" not in html and " style=" not in html
