from __future__ import annotations

from typing import Any

import pytest

from engagements.models import Outcome, Status
from tests.factories import CoachFactory, SessionFactory, engagement_with_coach

NOTES_MARKER = "FEEDBACK-NOTES-MARKER"


@pytest.fixture
def coach_profile(db: None) -> Any:
    return CoachFactory(user__full_name="Carla Coach")


@pytest.fixture
def engagement(db: None, coach_profile: Any) -> Any:
    """An engagement in progress with a held session (1) and a no-show (2)."""
    engagement = engagement_with_coach(coach=coach_profile, participant__full_name="Pia Person")
    engagement.transition_to(Status.IN_PROGRESS)
    return engagement


@pytest.fixture
def held(engagement: Any, coach_profile: Any) -> Any:
    return SessionFactory(engagement=engagement, coach=coach_profile, number=1, notes=NOTES_MARKER)


@pytest.fixture
def no_show(engagement: Any, coach_profile: Any) -> Any:
    return SessionFactory(
        engagement=engagement,
        coach=coach_profile,
        number=2,
        outcome=Outcome.NO_SHOW,
        notes=NOTES_MARKER,
    )
