"""Participant feedback: session ratings, the closing survey, and what coaches see of them.

Rules (PRODUCT.md, "Feedback"): a participant rates a held session of their
own engagement 1-5, once, and may change that rating for 7 days after the
first one. When the engagement completes, they may answer the closing survey
once. Coaches see their own averages and counts, never who rated what.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django import forms
from django.db import IntegrityError, transaction
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

from accounts.audit import audit_record
from accounts.models import User
from coaches.models import CoachProfile
from config.errors import DomainError
from engagements.models import (
    ClosingSurvey,
    CoachingSession,
    Engagement,
    Outcome,
    SessionRating,
    Status,
)

RATING_CHANGE_WINDOW = timedelta(days=7)
# Coaches see an average only once this many ratings are in, so a single
# rating cannot be read back from it.
MIN_RATINGS_FOR_AVERAGE = 3


class SessionNotRateable(DomainError):
    code = "session_not_rateable"
    message = "Only sessions that took place can be rated."


class RatingLocked(DomainError):
    code = "rating_locked"
    message = "Ratings can be changed for 7 days; this one can no longer be changed."


class SurveyNotOpen(DomainError):
    code = "survey_not_open"
    message = "The closing survey opens when your coaching engagement is completed."


class SurveyAlreadyAnswered(DomainError):
    code = "survey_already_answered"
    message = "You have already answered the closing survey. Thank you!"


# --- selectors --------------------------------------------------------------------


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
    """The engagement's held sessions for the rating partial, in one query.

    Each carries rating_score (None when unrated), rating_changeable_until and
    rating_locked (the 7 days are over).
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


def closing_survey_due(*, engagement: Engagement) -> bool:
    """True when the engagement is completed and its closing survey not yet answered."""
    return (
        engagement.status == Status.COMPLETED
        and not ClosingSurvey.objects.filter(engagement=engagement).exists()
    )


def rating_changeable_until(rating: SessionRating) -> datetime:
    return rating.created_at + RATING_CHANGE_WINDOW


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


# --- services ----------------------------------------------------------------------


def session_rate(*, participant: User, session: CoachingSession, score: int) -> SessionRating:
    """Rate a held session of the participant's own engagement, or change the rating.

    The first rating opens a 7-day window for changes; afterwards RatingLocked.
    Two first ratings at once: the unique session key lets one insert, the
    other becomes a change of it. Raises SessionNotRateable for a session
    that did not take place; on any error nothing is written.
    """
    if session.engagement.participant_id != participant.pk:
        # Callers fetch through participant_session; this guards the service itself.
        raise SessionNotRateable("You can only rate your own sessions.")
    if session.outcome != Outcome.HELD:
        raise SessionNotRateable()
    with transaction.atomic():
        rating = SessionRating.objects.select_for_update().filter(session=session).first()
        if rating is None:
            try:
                with transaction.atomic():
                    rating = SessionRating.objects.create(session=session, score=score)
            except IntegrityError:
                rating = SessionRating.objects.select_for_update().get(session=session)
            else:
                audit_record(
                    action="feedback.session_rated",
                    obj=session,
                    actor=participant,
                    after={"score": score},
                )
                return rating
        if timezone.now() > rating_changeable_until(rating):
            raise RatingLocked()
        before = rating.score
        rating.score = score
        rating.save(update_fields=["score", "updated_at"])
        audit_record(
            action="feedback.session_rating_changed",
            obj=session,
            actor=participant,
            before={"score": before},
            after={"score": score},
        )
        return rating


def closing_survey_submit(
    *, participant: User, engagement: Engagement, recommend_score: int, what_changed: str
) -> ClosingSurvey:
    """Record the closing survey of a completed engagement, once."""
    with transaction.atomic():
        locked = Engagement.objects.select_for_update().get(pk=engagement.pk)
        if locked.participant_id != participant.pk or locked.status != Status.COMPLETED:
            raise SurveyNotOpen()
        if ClosingSurvey.objects.filter(engagement=locked).exists():
            raise SurveyAlreadyAnswered()
        survey = ClosingSurvey.objects.create(
            engagement=locked, recommend_score=recommend_score, what_changed=what_changed
        )
        # The free text stays out of the audit trail; only the fact and the score.
        audit_record(
            action="feedback.closing_survey",
            obj=locked,
            actor=participant,
            after={"recommend_score": recommend_score},
        )
        return survey


# --- forms -------------------------------------------------------------------------


class SessionRatingForm(forms.Form):
    score = forms.TypedChoiceField(
        choices=[(n, str(n)) for n in range(1, 6)],
        coerce=int,
        error_messages={
            "required": "Choose a rating from 1 to 5.",
            "invalid_choice": "Choose a rating from 1 to 5.",
        },
    )


class ClosingSurveyForm(forms.Form):
    recommend_score = forms.TypedChoiceField(
        label="How likely are you to recommend coaching to a colleague?",
        help_text="0 means not at all likely, 10 extremely likely.",
        choices=[(n, str(n)) for n in range(0, 11)],
        coerce=int,
        widget=forms.RadioSelect,
        error_messages={
            "required": "Choose a number from 0 to 10.",
            "invalid_choice": "Choose a number from 0 to 10.",
        },
    )
    what_changed = forms.CharField(
        label="What changed for you?",
        help_text="Optional. Read by the program team only, never by your coach or employer.",
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 5}),
        error_messages={"max_length": "Please keep it under %(limit_value)d characters."},
    )
