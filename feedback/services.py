"""Writes of feedback: a session's rating and the closing survey, each audited."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.audit import audit_record
from accounts.models import User
from config.errors import DomainError
from engagements.models import CoachingSession, Engagement, Outcome
from feedback.models import RATING_CHANGE_WINDOW, ClosingSurvey, SessionRating
from feedback.selectors import SurveyNotOpen, closing_survey_refusal


class SessionNotRateable(DomainError):
    code = "session_not_rateable"
    message = "Only sessions that took place can be rated."


class RatingLocked(DomainError):
    code = "rating_locked"
    message = (
        f"Ratings can be changed for {RATING_CHANGE_WINDOW.days} days; "
        "this one can no longer be changed."
    )


def session_rate(*, participant: User, session: CoachingSession, score: int) -> SessionRating:
    """Rate a held session of the participant's own engagement, or change the rating.

    The first rating opens RATING_CHANGE_WINDOW for changes; afterwards
    RatingLocked. Two first ratings at once: the unique session key lets one
    insert, the other becomes a change of it. Raises SessionNotRateable for a
    session that did not take place; on any error nothing is written.
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
        if timezone.now() > rating.changeable_until():
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
    """Record the closing survey of the participant's completed engagement, once.

    Raises SurveyNotOpen or SurveyAlreadyAnswered (closing_survey_refusal, asked
    under the engagement's row lock); on either, nothing is written.
    """
    with transaction.atomic():
        locked = Engagement.objects.select_for_update().get(pk=engagement.pk)
        if locked.participant_id != participant.pk:
            # Callers fetch through participant_engagement; this guards the service itself.
            raise SurveyNotOpen()
        refusal = closing_survey_refusal(engagement=locked)
        if refusal is not None:
            raise refusal
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
