from __future__ import annotations

from typing import Any

import pytest

from engagements.models import Status
from scheduling.services import booking_endpoint_of
from tests.factories import CoachFactory, engagement_with_coach


@pytest.fixture
def coach_profile(db: None) -> Any:
    return CoachFactory(user__full_name="Carla Coach", time_zone="Europe/Paris")


@pytest.fixture
def endpoint(coach_profile: Any) -> Any:
    return booking_endpoint_of(coach_profile)


@pytest.fixture
def engagement(coach_profile: Any) -> Any:
    """Pia's engagement with Carla, in progress."""
    engagement = engagement_with_coach(
        coach=coach_profile,
        participant__full_name="Pia Person",
        participant__email="pia@client.example",
    )
    engagement.transition_to(Status.IN_PROGRESS)
    return engagement
