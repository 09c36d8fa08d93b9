"""Reads of feedback, scoped to the person asking (a foreign id is a 404 by construction)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import (
    BooleanField,
    DateTimeField,
    ExpressionWrapper,
    F,
    FloatField,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce
from django.shortcuts import get_object_or_404
from django.utils import timezone

from accounts.models import User
from coaches.models import CoachProfile
from config.errors import DomainError
from engagements.models import CoachingSession, Engagement, Program, Status, held
from feedback.models import (
    RATING_CHANGE_WINDOW,
    ClosingSurvey,
    FeedbackKind,
    ReleasedFeedback,
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
        engagement.sessions.filter(held())
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
    """A coach's released figures: counts and averages of the last released batch."""

    rating_count: int
    rating_avg: float | None
    survey_count: int
    survey_avg: float | None


def coach_feedback_summary(coach: CoachProfile) -> FeedbackSummary:
    """The coach's own released averages and counts, never who gave which rating (one query).

    Released figures only (ReleasedFeedback): an average is None until a
    first batch of at least the group size is in, and changes only with the
    next batch, so no single answer can be read back from two visits.
    """
    released = {r.kind: r for r in ReleasedFeedback.objects.filter(coach=coach)}
    ratings = released.get(FeedbackKind.SESSION_RATINGS) or ReleasedFeedback()
    surveys = released.get(FeedbackKind.CLOSING_SURVEYS) or ReleasedFeedback()
    return FeedbackSummary(
        rating_count=ratings.answers,
        rating_avg=ratings.average,
        survey_count=surveys.answers,
        survey_avg=surveys.average,
    )


def with_released_feedback(programs: QuerySet[Program]) -> QuerySet[Program]:
    """Annotate each program with the figures last released to its sponsors (no extra query).

    rating_count, rating_avg, survey_count, survey_avg: the released batch's
    counts and averages; the averages are None until a first batch is in.
    """

    def released(kind: str, field: str, output: IntegerField | FloatField) -> Subquery:
        rows = ReleasedFeedback.objects.filter(program=OuterRef("pk"), kind=kind, answers__gt=0)
        return Subquery(
            rows.annotate(
                mean=ExpressionWrapper(F("total") * 1.0 / F("answers"), FloatField())
            ).values(field)[:1],
            output_field=output,
        )

    counts: dict[str, Any] = {}
    for prefix, kind in (
        ("rating", FeedbackKind.SESSION_RATINGS),
        ("survey", FeedbackKind.CLOSING_SURVEYS),
    ):
        counts[f"{prefix}_count"] = Coalesce(
            released(kind, "answers", IntegerField()), Value(0), output_field=IntegerField()
        )
        counts[f"{prefix}_avg"] = released(kind, "mean", FloatField())
    return programs.annotate(**counts)
