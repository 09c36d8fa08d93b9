"""Writes about coaches that span several models: choosing a coach."""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.emails import send_email
from accounts.models import User
from coaches.models import CoachProfile
from config.errors import DomainError
from engagements.models import ACTIVE_STATUSES, Engagement, EngagementCoach, Status


class NotEnrolled(DomainError):
    code = "not_enrolled"
    message = "You are not enrolled in a running coaching program, so you cannot choose a coach."


class AlreadyHasCoach(DomainError):
    code = "already_has_coach"
    message = "You have already chosen your coach; a coach is chosen only once."


class CoachNotAvailable(DomainError):
    code = "coach_not_available"
    message = "This coach is not available in your program any more. Please choose another."


class CoachFull(DomainError):
    code = "coach_full"
    message = "This coach has just filled up. Please choose another coach."


def engagement_select_coach(*, participant: User, coach: CoachProfile) -> Engagement:
    """Assign `coach` to the participant's current engagement, within capacity.

    Locks the coach row, then the engagement (always in that order, so two
    selections cannot deadlock), re-checks every rule under the locks, moves the
    engagement to coach_selected through its transition method and records the
    assignment in the coach history. Emails both sides after commit.
    Raises NotEnrolled, AlreadyHasCoach, CoachNotAvailable or CoachFull; on any
    of them nothing is written.
    """
    with transaction.atomic():
        coach = (
            CoachProfile.objects.select_for_update(of=("self",))
            .select_related("user")
            .get(pk=coach.pk)
        )
        engagement = (
            Engagement.objects.select_for_update(of=("self",))
            .select_related("program")
            .filter(participant=participant, program__ends_on__gte=timezone.localdate())
            .order_by("-invited_at", "-pk")
            .first()
        )
        if engagement is None:
            raise NotEnrolled()
        if engagement.coach_id is not None or engagement.status != Status.INVITED:
            raise AlreadyHasCoach()
        in_pool = engagement.program.coaches.filter(pk=coach.pk).exists()
        if not (in_pool and coach.user.is_active and coach.accepting_new):
            raise CoachNotAvailable()
        active = Engagement.objects.filter(coach=coach, status__in=ACTIVE_STATUSES).count()
        if active >= coach.capacity:
            raise CoachFull()
        engagement.transition_to(
            Status.COACH_SELECTED,
            actor=participant,
            changes={"coach": coach},
        )
        EngagementCoach.objects.create(engagement=engagement, coach=coach)
        _email_selection(engagement=engagement, coach=coach, participant=participant)
    return engagement


def _email_selection(*, engagement: Engagement, coach: CoachProfile, participant: User) -> None:
    context = {
        "participant_name": participant.full_name,
        "coach_name": coach.user.full_name,
        "program_name": engagement.program.name,
        "booking_url": coach.booking_url,
        "home_url": f"{settings.SITE_URL}/",
        "coach_url": f"{settings.SITE_URL}/coach/",
    }
    send_email(template="coach_selected_participant", recipient=participant, context=context)
    send_email(template="coach_selected_coach", recipient=coach.user, context=context)
