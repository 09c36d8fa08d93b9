"""Writes of feedback: a session's rating and the closing survey, each audited."""

from __future__ import annotations

import operator
from collections.abc import Iterable
from dataclasses import dataclass
from functools import reduce

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count, Max, Q, Sum
from django.utils import timezone

from accounts.audit import audit_record
from accounts.models import User
from config.errors import DomainError
from engagements.models import (
    CoachingSession,
    Engagement,
    Outcome,
    group_size_of,
    program_rows_changed,
    session_counted,
)
from feedback.models import (
    RATING_CHANGE_WINDOW,
    ClosingSurvey,
    FeedbackKind,
    ReleasedFeedback,
    SessionRating,
)
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
    if session.outcome != Outcome.HELD or session.is_voided:
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
                _release_for_session(session)
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
        # A change is not a new answer: it shows at the next release, in its batch.
        _release_for_session(session)
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
        feedback_release(
            kind=FeedbackKind.CLOSING_SURVEYS,
            coach_id=locked.coach_id,
            program_id=locked.program_id,
        )
        return survey


def _release_for_session(session: CoachingSession) -> None:
    feedback_release(
        kind=FeedbackKind.SESSION_RATINGS,
        coach_id=session.coach_id,
        program_id=session.engagement.program_id,
    )


@dataclass(frozen=True)
class _Answers:
    """Where one kind of feedback keeps its answers, and how they lead to a coach and a program."""

    model: type[SessionRating] | type[ClosingSurvey]
    score: str
    engagement: str  # path from an answer to its engagement
    coach: str  # path from an answer to the coach it is about
    counted: Q  # the answers that count: not those of a voided session


_ANSWERS: dict[str, _Answers] = {
    FeedbackKind.SESSION_RATINGS: _Answers(
        SessionRating,
        "score",
        "session__engagement",
        "session__coach",
        session_counted("session__"),
    ),
    FeedbackKind.CLOSING_SURVEYS: _Answers(
        ClosingSurvey, "recommend_score", "engagement", "engagement__coach", Q()
    ),
}


def feedback_release(*, kind: str, coach_id: int | None, program_id: int) -> list[ReleasedFeedback]:
    """Release the coach's and the program's figures of `kind` where enough new answers are in.

    Called after every answer and every change, in the same transaction. A
    figure is replaced (count and sum of every answer, changes included) only
    when at least the group size of new answers has arrived since its last
    release: the organization's (Organization.group_size); for a coach, the
    largest among the organizations whose participants answered. So the
    difference of two releases never isolates one answer. The ratings of a
    voided session stop counting at the next release (they leave the live
    count, so that release also needs a full batch of new answers). The rows are locked
    (in pk order) before the answers are counted: a concurrent answer has
    either committed and is counted, or waits and counts this one.
    Returns the rows released now.
    """
    answers = _ANSWERS[kind]
    subjects = (
        {"program": program_id} if coach_id is None else {"coach": coach_id, "program": program_id}
    )
    paths = {"coach": f"{answers.coach}_id", "program": f"{answers.engagement}__program_id"}
    size = group_size_of(f"{answers.engagement}__program__organization")
    with transaction.atomic():
        # Staff's live figures of the program change with every answer (reports/selectors.py).
        program_rows_changed(program_id)
        ReleasedFeedback.objects.bulk_create(
            [ReleasedFeedback(kind=kind, **{f"{name}_id": pk}) for name, pk in subjects.items()],
            ignore_conflicts=True,
        )
        rows = list(
            ReleasedFeedback.objects.select_for_update()
            .filter(_any(Q(**{f"{name}_id": pk}) for name, pk in subjects.items()), kind=kind)
            .order_by("pk")
        )
        released = []
        for row in rows:
            name = "coach" if row.coach_id is not None else "program"
            # One aggregate per subject, each along its own index (a session's coach,
            # an engagement's program); an OR of the two across the join would scan.
            live = answers.model.objects.filter(
                answers.counted, **{paths[name]: subjects[name]}
            ).aggregate(count=Count("pk"), total=Sum(answers.score), size=Max(size))
            if live["count"] - row.answers >= (live["size"] or settings.MIN_GROUP_SIZE):
                row.answers, row.total = live["count"], live["total"]
                row.released_at = timezone.now()
                row.save(update_fields=["answers", "total", "released_at"])
                released.append(row)
        return released


def _any(conditions: Iterable[Q]) -> Q:
    return reduce(operator.or_, conditions, Q())
