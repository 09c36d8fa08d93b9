"""Build engagements in any status the way the code gets them there."""

from __future__ import annotations

from typing import Any

from coaches.models import CoachProfile
from engagements.models import Engagement, EngagementCoach, Status
from tests.factories import CoachFactory, EngagementFactory

# The shortest path from invited to each status, through transition_to.
PATHS: dict[str, list[str]] = {
    Status.INVITED: [],
    Status.COACH_SELECTED: [Status.COACH_SELECTED],
    Status.IN_PROGRESS: [Status.COACH_SELECTED, Status.IN_PROGRESS],
    Status.ON_HOLD: [Status.COACH_SELECTED, Status.IN_PROGRESS, Status.ON_HOLD],
    Status.COMPLETED: [Status.COACH_SELECTED, Status.IN_PROGRESS, Status.COMPLETED],
    Status.CANCELLED: [Status.COACH_SELECTED, Status.IN_PROGRESS, Status.CANCELLED],
}


def engagement_in(status: str, *, coach: CoachProfile | None = None, **kwargs: Any) -> Engagement:
    """An engagement walked to `status`; with a coach-history row once a coach is chosen."""
    engagement = EngagementFactory(**kwargs)
    for step in PATHS[status]:
        changes = {}
        if step == Status.COACH_SELECTED:
            coach = coach or CoachFactory()
            changes = {"coach": coach}
            EngagementCoach.objects.create(engagement=engagement, coach=coach)
        engagement.transition_to(step, changes=changes)
    return engagement
