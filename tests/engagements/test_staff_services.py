"""Staff transitions: release, hold, resume, cancel and early completion."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.db.models import Q

from accounts.models import AuditEvent, User
from coaches.models import CoachProfile
from engagements import services
from engagements.models import (
    ACTIVE_STATUSES,
    Engagement,
    EngagementCoach,
    InvalidTransition,
    Status,
)
from engagements.services import ReasonRequired
from tests.engagements.helpers import engagement_in
from tests.factories import CoachFactory

pytestmark = pytest.mark.django_db


def _active_count(coach: CoachProfile) -> int:
    return Engagement.objects.filter(Q(coach=coach), status__in=ACTIVE_STATUSES).count()


@pytest.mark.parametrize("status", [Status.COACH_SELECTED, Status.IN_PROGRESS, Status.ON_HOLD])
def test_releasing_the_coach_returns_to_invited_keeps_history_and_frees_the_seat(
    status: str, staff: User
) -> None:
    coach = CoachFactory()
    engagement = engagement_in(status, coach=coach)
    assert _active_count(coach) == 1

    services.engagement_release_coach(engagement=engagement, actor=staff, reason="Coach left")

    stored = Engagement.objects.get(pk=engagement.pk)
    assert (stored.status, stored.coach) == (Status.INVITED, None)
    assert stored.status_reason == "Coach left"
    history = EngagementCoach.objects.get(engagement=engagement)
    assert history.coach == coach and history.released_at is not None
    assert _active_count(coach) == 0
    event = AuditEvent.objects.get(action="engagement.coach_released")
    assert event.actor == staff
    assert event.before is not None and event.after is not None
    assert event.before["coach"] == str(coach.public_id) and event.after["coach"] is None


def test_a_released_engagement_can_choose_a_new_coach_and_both_stay_in_history(staff: User) -> None:
    engagement = engagement_in(Status.IN_PROGRESS)
    services.engagement_release_coach(engagement=engagement, actor=staff)
    stored = Engagement.objects.get(pk=engagement.pk)
    second = CoachFactory()
    stored.transition_to(Status.COACH_SELECTED, changes={"coach": second})
    EngagementCoach.objects.create(engagement=stored, coach=second)
    assert EngagementCoach.objects.filter(engagement=engagement).count() == 2
    assert EngagementCoach.objects.filter(engagement=engagement, released_at=None).get().coach == (
        second
    )


@pytest.mark.parametrize("status", [Status.INVITED, Status.COMPLETED, Status.CANCELLED])
def test_release_is_refused_without_an_active_coach(status: str, staff: User) -> None:
    engagement = engagement_in(status)
    with pytest.raises(InvalidTransition):
        services.engagement_release_coach(engagement=engagement, actor=staff)
    assert Engagement.objects.get(pk=engagement.pk).status == status


def test_put_on_hold_and_resume_to_in_progress_when_sessions_were_logged(staff: User) -> None:
    engagement = engagement_in(Status.IN_PROGRESS)
    Engagement.objects.filter(pk=engagement.pk).update(sessions_logged=2)
    services.engagement_put_on_hold(engagement=engagement, actor=staff, reason="Leave")
    assert Engagement.objects.get(pk=engagement.pk).status == Status.ON_HOLD

    services.engagement_resume(engagement=engagement, actor=staff)

    assert Engagement.objects.get(pk=engagement.pk).status == Status.IN_PROGRESS
    assert AuditEvent.objects.filter(action="engagement.resumed").count() == 1


def test_resume_goes_back_to_coach_selected_when_no_session_was_logged(staff: User) -> None:
    engagement = engagement_in(Status.COACH_SELECTED)
    services.engagement_put_on_hold(engagement=engagement, actor=staff)
    services.engagement_resume(engagement=engagement, actor=staff)
    assert Engagement.objects.get(pk=engagement.pk).status == Status.COACH_SELECTED


def test_resume_is_refused_unless_on_hold(staff: User) -> None:
    engagement = engagement_in(Status.IN_PROGRESS)
    with pytest.raises(InvalidTransition, match="Only an engagement on hold can be resumed"):
        services.engagement_resume(engagement=engagement, actor=staff)


@pytest.mark.parametrize(
    "service", [services.engagement_cancel, services.engagement_complete_early]
)
@pytest.mark.parametrize("reason", ["", "   "])
def test_cancel_and_early_completion_require_a_reason(
    service: Callable[..., Engagement], reason: str, staff: User
) -> None:
    engagement = engagement_in(Status.IN_PROGRESS)
    with pytest.raises(ReasonRequired) as caught:
        service(engagement=engagement, actor=staff, reason=reason)
    assert caught.value.code == "reason_required"
    assert Engagement.objects.get(pk=engagement.pk).status == Status.IN_PROGRESS


def test_cancel_keeps_the_reason_and_audits_it(staff: User) -> None:
    engagement = engagement_in(Status.ON_HOLD)
    services.engagement_cancel(engagement=engagement, actor=staff, reason=" Left the company ")
    stored = Engagement.objects.get(pk=engagement.pk)
    assert (stored.status, stored.status_reason) == (Status.CANCELLED, "Left the company")
    assert stored.cancelled_at is not None
    after = AuditEvent.objects.get(action="engagement.cancelled").after
    assert after is not None and after["status_reason"] == ("Left the company")


def test_complete_early_stamps_and_audits(staff: User) -> None:
    engagement = engagement_in(Status.IN_PROGRESS)
    services.engagement_complete_early(engagement=engagement, actor=staff, reason="Goals met")
    stored = Engagement.objects.get(pk=engagement.pk)
    assert stored.status == Status.COMPLETED and stored.completed_at is not None
    assert AuditEvent.objects.filter(action="engagement.completed_early", actor=staff).exists()


def test_complete_early_is_refused_without_a_coach(staff: User) -> None:
    engagement = engagement_in(Status.INVITED)
    with pytest.raises(InvalidTransition, match="without a coach cannot be completed"):
        services.engagement_complete_early(engagement=engagement, actor=staff, reason="x")


def test_a_service_given_a_stale_copy_acts_on_the_current_row(staff: User) -> None:
    engagement = engagement_in(Status.IN_PROGRESS)
    stale = Engagement.objects.get(pk=engagement.pk)
    services.engagement_put_on_hold(engagement=engagement, actor=staff)
    # The stale copy still says in_progress; the service re-reads under a lock.
    with pytest.raises(InvalidTransition, match="on hold cannot become on hold"):
        services.engagement_put_on_hold(engagement=stale, actor=staff)
