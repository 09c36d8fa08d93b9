"""Reads of feedback, scoped to the person asking (a foreign id is a 404 by construction)."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import (
    Avg,
    BooleanField,
    Count,
    DateTimeField,
    ExpressionWrapper,
    F,
    Q,
    QuerySet,
)
from django.shortcuts import get_object_or_404
from django.utils import timezone

from accounts.models import User
from coaches.models import CoachProfile
from config.errors import DomainError
from engagements.models import CoachingSession, Engagement, Outcome, Status
from feedback.models import (
    MIN_RATINGS_FOR_AVERAGE,
    RATING_CHANGE_WINDOW,
    ClosingSurvey,
    SessionRating,
)


class SurveyNotOpen(DomainError):
    code = "survey_not_open"
    message = "The closing survey opens when your coaching engagement is completed."


class SurveyAlreadyAnswered(DomainError):
    code = "survey_already_answered"
    message = "You have already answered the closing survey. Thank you!"


def participant_session(*, participant: User, public_id: object) -> CoachingSession:
    """A session of one of the participant's own engagements, else 404."""
    return get_object_or_404(
        CoachingSession.objects.select_related("engagement"),
        public_id=public_id,
        engagement__participant=participant,
    )


def participant_engagement(*, participant: User, public_id: object) -> Engagement:
    """One of the participant's own engagements, else 404."""
    return get_object_or_404(
        Engagement.objects.select_related("program"), public_id=public_id, participant=participant
    )


def rateable_sessions(*, engagement: Engagement) -> QuerySet[CoachingSession]:
    """The engagement's held sessions for the rating panel, in one query.

    Each carries rating_score (None when unrated), rating_changeable_until and
    rating_locked (the change window is over).
    """
    return (
        engagement.sessions.filter(outcome=Outcome.HELD)
        .annotate(
            rating_score=F("rating__score"),
            rating_changeable_until=ExpressionWrapper(
                F("rating__created_at") + RATING_CHANGE_WINDOW, output_field=DateTimeField()
            ),
            rating_locked=ExpressionWrapper(
                Q(rating__created_at__lt=timezone.now() - RATING_CHANGE_WINDOW),
                output_field=BooleanField(),
            ),
        )
        .only("public_id", "number", "held_on", "outcome")
        .order_by("number")
    )


def closing_survey_refusal(*, engagement: Engagement) -> DomainError | None:
    """Why the engagement's closing survey cannot be answered now; None when it can.

    The one statement of the survey's preconditions, used by the page, the
    service (on the locked engagement) and the participant's prompt: it opens
    when the engagement is completed and is answered once. At most one query.
    """
    if engagement.status != Status.COMPLETED:
        return SurveyNotOpen()
    if ClosingSurvey.objects.filter(engagement=engagement).exists():
        return SurveyAlreadyAnswered()
    return None


def closing_survey_due(*, engagement: Engagement) -> bool:
    """True when the participant may answer the engagement's closing survey now."""
    return closing_survey_refusal(engagement=engagement) is None


@dataclass(frozen=True)
class FeedbackSummary:
    rating_count: int
    rating_avg: float | None
    survey_count: int
    survey_avg: float | None


def coach_feedback_summary(coach: CoachProfile) -> FeedbackSummary:
    """The coach's own averages and counts, never who gave which rating (two queries).

    An average is withheld (None) until MIN_RATINGS_FOR_AVERAGE answers are in.
    """
    ratings = SessionRating.objects.filter(session__coach=coach).aggregate(
        n=Count("pk"), avg=Avg("score")
    )
    surveys = ClosingSurvey.objects.filter(engagement__coach=coach).aggregate(
        n=Count("pk"), avg=Avg("recommend_score")
    )
    return FeedbackSummary(
        rating_count=ratings["n"],
        rating_avg=_shown(ratings["avg"], ratings["n"]),
        survey_count=surveys["n"],
        survey_avg=_shown(surveys["avg"], surveys["n"]),
    )


def _shown(avg: float | None, n: int) -> float | None:
    return float(avg) if avg is not None and n >= MIN_RATINGS_FOR_AVERAGE else None
