"""Answers given the way participants give them: through the feedback services."""

from __future__ import annotations

from coaches.models import CoachProfile
from engagements.models import Engagement, Program, Status
from feedback.models import ClosingSurvey, SessionRating
from feedback.services import closing_survey_submit, session_rate
from tests.factories import ProgramFactory, SessionFactory, engagement_with_coach


def rate(
    coach: CoachProfile, scores: list[int], *, program: Program | None = None
) -> list[SessionRating]:
    """Each score from a new participant of `coach` in `program`, who rates their session 1."""
    program = program or ProgramFactory()
    ratings = []
    for score in scores:
        engagement = engagement_with_coach(coach=coach, program=program)
        session = SessionFactory(engagement=engagement, coach=coach, number=1, notes="secret")
        ratings.append(
            session_rate(participant=engagement.participant, session=session, score=score)
        )
    return ratings


def change(rating: SessionRating, score: int) -> SessionRating:
    """The participant changes their rating (within the change window)."""
    session = rating.session
    return session_rate(participant=session.engagement.participant, session=session, score=score)


def survey(
    coach: CoachProfile, scores: list[int], *, program: Program | None = None
) -> list[ClosingSurvey]:
    """Each score from a new participant of `coach` whose engagement has completed."""
    program = program or ProgramFactory()
    surveys = []
    for score in scores:
        engagement: Engagement = engagement_with_coach(coach=coach, program=program)
        engagement.transition_to(Status.IN_PROGRESS)
        engagement.transition_to(Status.COMPLETED)
        surveys.append(
            closing_survey_submit(
                participant=engagement.participant,
                engagement=engagement,
                recommend_score=score,
                what_changed="",
            )
        )
    return surveys
