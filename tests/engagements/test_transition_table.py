"""Every allowed transition works and every forbidden one is refused (the table, in full)."""

from __future__ import annotations

from itertools import product

import pytest

from accounts.models import AuditEvent
from engagements.models import TRANSITIONS, Engagement, InvalidTransition, StaleEngagement, Status
from tests.engagements.helpers import engagement_in
from tests.factories import CoachFactory

pytestmark = pytest.mark.django_db

PAIRS = list(product(Status.values, Status.values))
ALLOWED = [(a, b) for a, b in PAIRS if b in TRANSITIONS[a]]
FORBIDDEN = [(a, b) for a, b in PAIRS if b not in TRANSITIONS[a]]


def _changes_for(engagement: Engagement, to: str) -> dict:
    if to == Status.INVITED:
        return {"coach": None}
    if engagement.coach_id is None and to != Status.CANCELLED:
        return {"coach": CoachFactory()}
    return {}


def test_the_table_is_the_product_state_diagram() -> None:
    # docs/architecture.md, "Engagement states": the diagram plus staff moves: release
    # from any active state, hold from an active state, resume to in_progress or
    # coach_selected, cancel from anything not finished, complete early.
    expected = {
        ("completed", "in_progress"),
        ("completed", "coach_selected"),
        ("in_progress", "coach_selected"),
        ("invited", "coach_selected"),
        ("invited", "cancelled"),
        ("coach_selected", "invited"),
        ("coach_selected", "in_progress"),
        ("coach_selected", "on_hold"),
        ("coach_selected", "completed"),
        ("coach_selected", "cancelled"),
        ("in_progress", "invited"),
        ("in_progress", "on_hold"),
        ("in_progress", "completed"),
        ("in_progress", "cancelled"),
        ("on_hold", "invited"),
        ("on_hold", "coach_selected"),
        ("on_hold", "in_progress"),
        ("on_hold", "completed"),
        ("on_hold", "cancelled"),
    }
    assert set(ALLOWED) == expected
    assert len(FORBIDDEN) == 36 - len(expected)


@pytest.mark.parametrize(("source", "target"), ALLOWED)
def test_an_allowed_transition_writes_status_version_stamp_and_audit(
    source: str, target: str
) -> None:
    engagement = engagement_in(source)
    version = engagement.status_version
    events = AuditEvent.objects.count()

    engagement.transition_to(target, reason="why", changes=_changes_for(engagement, target))

    stored = Engagement.objects.get(pk=engagement.pk)
    assert stored.status == target
    assert stored.status_version == version + 1
    assert stored.status_reason == "why"
    assert AuditEvent.objects.count() == events + 1
    event = AuditEvent.objects.first()
    assert event is not None and event.before is not None and event.after is not None
    assert (event.before["status"], event.after["status"]) == (source, target)


@pytest.mark.parametrize(("source", "target"), FORBIDDEN)
def test_a_forbidden_transition_raises_and_changes_nothing(source: str, target: str) -> None:
    engagement = engagement_in(source)
    before = Engagement.objects.filter(pk=engagement.pk).values().get()
    events = AuditEvent.objects.count()

    with pytest.raises(InvalidTransition) as caught:
        engagement.transition_to(target, changes=_changes_for(engagement, target))

    assert caught.value.code == "invalid_transition"
    assert "cannot become" in caught.value.message
    assert Engagement.objects.filter(pk=engagement.pk).values().get() == before
    assert AuditEvent.objects.count() == events


def test_two_loads_two_saves_the_second_is_stale_and_overwrites_nothing() -> None:
    engagement = engagement_in(Status.IN_PROGRESS)
    first = Engagement.objects.get(pk=engagement.pk)
    second = Engagement.objects.get(pk=engagement.pk)
    first.transition_to(Status.ON_HOLD, reason="Parental leave")
    events = AuditEvent.objects.count()

    with pytest.raises(StaleEngagement) as caught:
        second.transition_to(Status.CANCELLED, reason="Left the company")

    assert caught.value.code == "stale_engagement"
    stored = Engagement.objects.get(pk=engagement.pk)
    assert (stored.status, stored.status_reason) == (Status.ON_HOLD, "Parental leave")
    assert stored.cancelled_at is None
    assert AuditEvent.objects.count() == events
