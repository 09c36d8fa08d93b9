from __future__ import annotations

import pytest

from accounts.models import AuditEvent, User
from engagements.models import Engagement, InvalidTransition, StaleEngagement, Status
from tests.factories import CoachFactory, EngagementFactory

pytestmark = pytest.mark.django_db


def test_selecting_a_coach_bumps_the_version_stamps_and_audits(staff: User) -> None:
    engagement = EngagementFactory()
    coach = CoachFactory()
    engagement.transition_to(Status.COACH_SELECTED, actor=staff, changes={"coach": coach})

    stored = Engagement.objects.get(pk=engagement.pk)
    assert stored.status == Status.COACH_SELECTED
    assert stored.coach == coach
    assert stored.status_version == 1
    assert stored.coach_selected_at is not None
    event = AuditEvent.objects.get(action="engagement.coach_selected")
    assert event.actor == staff
    assert event.object_id == str(engagement.public_id)
    assert event.before is not None and event.after is not None
    assert event.before["status"] == "invited"
    assert event.after["status"] == "coach_selected"
    assert event.after["coach"] == str(coach.public_id)


def test_a_forbidden_transition_raises_and_writes_nothing() -> None:
    engagement = EngagementFactory()
    with pytest.raises(InvalidTransition, match="cannot become completed"):
        engagement.transition_to(Status.COMPLETED)
    stored = Engagement.objects.get(pk=engagement.pk)
    assert (stored.status, stored.status_version) == (Status.INVITED, 0)
    assert not AuditEvent.objects.exists()


def test_a_stale_copy_cannot_overwrite_a_newer_status() -> None:
    engagement = EngagementFactory()
    first = Engagement.objects.get(pk=engagement.pk)
    second = Engagement.objects.get(pk=engagement.pk)
    first.transition_to(Status.CANCELLED, reason="Left the company")
    with pytest.raises(StaleEngagement):
        second.transition_to(Status.COACH_SELECTED, changes={"coach": CoachFactory()})
    stored = Engagement.objects.get(pk=engagement.pk)
    assert stored.status == Status.CANCELLED
    assert stored.coach is None
    assert AuditEvent.objects.count() == 1
