"""Participant feedback: session ratings and the closing survey.

The rules (docs/architecture.md, "Rules and where they live"): a participant
rates a held session of their own engagement 1-5, once, and may change that
rating for RATING_CHANGE_WINDOW after the first one. When the engagement
completes, they may answer the closing survey once. Coaches see their own
averages and counts, never who rated what; sponsors see their programs'
averages. Both see released figures only (ReleasedFeedback).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import models
from django.db.models import Q
from django.utils import timezone

from coaches.models import CoachProfile
from engagements.models import CoachingSession, Engagement, Program

RATING_CHANGE_WINDOW = timedelta(days=7)


class SessionRating(models.Model):
    """A participant's 1-5 rating of one held session."""

    session = models.OneToOneField(CoachingSession, on_delete=models.CASCADE, related_name="rating")
    score = models.PositiveSmallIntegerField()
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        # The table kept its name when the model moved here from engagements.
        db_table = "engagements_sessionrating"
        constraints = [
            models.CheckConstraint(
                condition=Q(score__gte=1, score__lte=5), name="rating_score_1_to_5"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.score}/5 for {self.session}"

    def changeable_until(self) -> datetime:
        """The end of the window in which the participant may still change the rating."""
        return self.created_at + RATING_CHANGE_WINDOW


class ClosingSurvey(models.Model):
    """The participant's end-of-engagement survey."""

    engagement = models.OneToOneField(
        Engagement, on_delete=models.CASCADE, related_name="closing_survey"
    )
    recommend_score = models.PositiveSmallIntegerField()
    what_changed = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        # The table kept its name when the model moved here from engagements.
        db_table = "engagements_closingsurvey"
        constraints = [
            models.CheckConstraint(
                condition=Q(recommend_score__gte=0, recommend_score__lte=10),
                name="survey_recommend_0_to_10",
            ),
        ]

    def __str__(self) -> str:
        return f"Closing survey for {self.engagement}"


class FeedbackKind(models.TextChoices):
    SESSION_RATINGS = "session_ratings", "Session ratings"
    CLOSING_SURVEYS = "closing_surveys", "Closing surveys"


class ReleasedFeedback(models.Model):
    """The figures of one kind of feedback last released to a coach or to a program's sponsors.

    Coaches and sponsors never see live averages, which change with every
    answer, so that the difference of two readings gives that answer away
    (issue 13: a coach recovered ratings 4 and 3, and saw a 1 changed to a 5).
    They see the count and sum stored here, replaced only when at least the
    group size of new answers has come in since (feedback/services.py,
    feedback_release); a changed rating shows at the next release, inside a
    batch. Zero answers: nothing released yet.
    """

    kind = models.CharField(max_length=16, choices=FeedbackKind.choices)
    coach = models.ForeignKey(
        CoachProfile, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    program = models.ForeignKey(
        Program, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    answers = models.PositiveIntegerField(default=0)
    total = models.PositiveIntegerField(default=0)
    released_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(coach__isnull=False, program__isnull=True)
                | Q(coach__isnull=True, program__isnull=False),
                name="released_feedback_coach_or_program",
            ),
            models.CheckConstraint(
                condition=Q(kind__in=FeedbackKind.values), name="released_feedback_kind_valid"
            ),
            models.UniqueConstraint(
                fields=["coach", "kind"],
                condition=Q(coach__isnull=False),
                name="released_feedback_one_per_coach_and_kind",
            ),
            models.UniqueConstraint(
                fields=["program", "kind"],
                condition=Q(program__isnull=False),
                name="released_feedback_one_per_program_and_kind",
            ),
        ]

    def __str__(self) -> str:
        subject = f"coach #{self.coach_id}" if self.coach_id else f"program #{self.program_id}"
        return f"{self.get_kind_display()} released to {subject}: {self.answers}"

    @property
    def average(self) -> float | None:
        """The released average; None until a first batch has been released."""
        return self.total / self.answers if self.answers else None
