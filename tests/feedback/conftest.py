from __future__ import annotations

import pytest

from coaches.models import CoachProfile
from engagements.models import CoachingSession, Engagement, Outcome, Status
from tests.factories import CoachFactory, SessionFactory, engagement_with_coach

NOTES_MARKER = "FEEDBACK-NOTES-MARKER"


@pytest.fixture
def coach_profile(db: None) -> CoachProfile:
    return CoachFactory(user__full_name="Carla Coach")


@pytest.fixture
def engagement(db: None, coach_profile: CoachProfile) -> Engagement:
    """An engagement in progress with a held session (1) and a no-show (2)."""
    engagement = engagement_with_coach(coach=coach_profile, participant__full_name="Pia Person")
    engagement.transition_to(Status.IN_PROGRESS)
    return engagement


@pytest.fixture
def held(engagement: Engagement, coach_profile: CoachProfile) -> CoachingSession:
    return SessionFactory(engagement=engagement, coach=coach_profile, number=1, notes=NOTES_MARKER)


@pytest.fixture
def no_show(engagement: Engagement, coach_profile: CoachProfile) -> CoachingSession:
    return SessionFactory(
        engagement=engagement,
        coach=coach_profile,
        number=2,
        outcome=Outcome.NO_SHOW,
        notes=NOTES_MARKER,
    )
