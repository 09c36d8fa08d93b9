from __future__ import annotations

from typing import Any

import pytest

from coaches.models import CoachProfile
from engagements.models import Engagement, Program
from tests import factories


def pool(program: Program, n: int, **coach_kwargs: Any) -> list[CoachProfile]:
    """n coaches in the program's pool."""
    coaches = factories.CoachFactory.create_batch(n, **coach_kwargs)
    program.coaches.add(*coaches)
    return coaches


def enrol(program: Program, **kwargs: Any) -> Engagement:
    """A participant invited to the program (engagement in `invited`)."""
    return factories.EngagementFactory(program=program, **kwargs)


@pytest.fixture
def enrolled(program: Program) -> Engagement:
    return enrol(program)
