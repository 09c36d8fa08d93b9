"""Participant feedback: session ratings and the closing survey.

The rules (docs/architecture.md, "Rules and where they live"): a participant
rates a held session of their own engagement 1-5, once, and may change that
rating for RATING_CHANGE_WINDOW after the first one. When the engagement
completes, they may answer the closing survey once. Coaches see their own
averages and counts, never who rated what, and only once
MIN_RATINGS_FOR_AVERAGE answers are in.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import models
from django.db.models import Q
from django.utils import timezone

from engagements.models import CoachingSession, Engagement

RATING_CHANGE_WINDOW = timedelta(days=7)
# Coaches see an average only once this many ratings are in, so a single
# rating cannot be read back from it.
MIN_RATINGS_FOR_AVERAGE = 3


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
