from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from django.core.mail import EmailMultiAlternatives
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from pytest_django import DjangoAssertNumQueries, DjangoCaptureOnCommitCallbacks

from accounts.models import AuditEvent, User
from coaches.models import CoachProfile
from engagements.models import Engagement, EngagementCoach, Program, Status
from engagements.services import (
    AlreadyHasCoach,
    CoachFull,
    CoachNotAvailable,
    NotEnrolled,
    engagement_select_coach,
)
from tests import factories
from tests.coaches.conftest import enrol, pool
from tests.mail import html_part

pytestmark = pytest.mark.django_db


def select_url(coach: CoachProfile) -> str:
    return reverse("select_coach", args=[coach.public_id])


def test_selecting_assigns_the_coach_records_history_and_audit_and_emails_both(
    client: Client,
    program: Program,
    django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks,
    mailoutbox: list[EmailMultiAlternatives],
    run_worker: Callable[[], int],
) -> None:
    engagement = enrol(program)
    (coach,) = pool(program, 1)
    client.force_login(engagement.participant)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(select_url(coach))

    assert response.status_code == 302 and response["Location"] == "/"
    engagement.refresh_from_db()
    assert engagement.status == Status.COACH_SELECTED
    assert engagement.coach == coach and engagement.coach_selected_at is not None
    history = EngagementCoach.objects.get(engagement=engagement)
    assert history.coach == coach and history.released_at is None
    event = AuditEvent.objects.get(action="engagement.coach_selected")
    assert event.actor == engagement.participant
    assert event.after is not None and event.after["coach"] == str(coach.public_id)
    assert run_worker() == 2
    to_participant, to_coach = mailoutbox
    assert to_participant.to == [engagement.participant.email]
    assert coach.booking_url in to_participant.body
    assert coach.booking_url in html_part(to_participant)
    assert to_coach.to == [coach.user.email]
    assert engagement.participant.full_name in to_coach.subject


def test_a_full_coach_is_refused_with_409_and_the_directory_shown_again(
    client: Client,
    program: Program,
    mailoutbox: list[EmailMultiAlternatives],
    run_worker: Callable[[], int],
) -> None:
    engagement = enrol(program)
    full, other = pool(program, 2, capacity=1)
    factories.engagement_with_coach(coach=full)  # in another program: capacity is global
    client.force_login(engagement.participant)

    response = client.post(select_url(full))

    assert response.status_code == 409
    body = response.content.decode()
    assert CoachFull.message in body
    assert f'id="coach-{other.public_id}"' in body
    engagement.refresh_from_db()
    assert engagement.status == Status.INVITED and engagement.coach is None
    assert not EngagementCoach.objects.filter(engagement=engagement).exists()
    assert run_worker() == 0
    assert mailoutbox == []


@pytest.mark.parametrize("problem", ["not_accepting", "inactive"])
def test_an_unavailable_coach_is_refused_with_409(
    client: Client, program: Program, problem: str
) -> None:
    engagement = enrol(program)
    (coach,) = pool(program, 1)
    if problem == "inactive":
        User.objects.filter(pk=coach.user_id).update(is_active=False)
    else:
        CoachProfile.objects.filter(pk=coach.pk).update(accepting_new=False)
    client.force_login(engagement.participant)

    response = client.post(select_url(coach))

    assert response.status_code == 409
    assert CoachNotAvailable.message in response.content.decode()
    assert Engagement.objects.get(pk=engagement.pk).coach is None


def test_a_coach_outside_the_participants_program_is_404(client: Client, program: Program) -> None:
    engagement = enrol(program)
    pool(program, 1)
    other_program_coach = factories.CoachFactory()
    factories.ProgramFactory().coaches.add(other_program_coach)
    client.force_login(engagement.participant)

    assert client.post(select_url(other_program_coach)).status_code == 404
    assert client.post("/coaches/00000000-0000-0000-0000-000000000000/select/").status_code == 404
    assert Engagement.objects.get(pk=engagement.pk).status == Status.INVITED


def test_the_service_refuses_a_coach_outside_the_pool(program: Program) -> None:
    engagement = enrol(program)
    with pytest.raises(CoachNotAvailable) as raised:
        engagement_select_coach(participant=engagement.participant, coach=factories.CoachFactory())
    assert raised.value.code == "coach_not_available"
    assert Engagement.objects.get(pk=engagement.pk).coach is None


def test_a_participant_cannot_select_twice(client: Client, program: Program) -> None:
    engagement = enrol(program)
    first, second = pool(program, 2)
    client.force_login(engagement.participant)
    client.post(select_url(first))

    response = client.post(select_url(second))

    assert response.status_code == 409
    assert AlreadyHasCoach.message in response.content.decode()
    engagement.refresh_from_db()
    assert engagement.coach == first
    assert EngagementCoach.objects.filter(engagement=engagement).count() == 1


def test_selecting_changes_only_the_signed_in_participants_engagement(
    client: Client, program: Program
) -> None:
    mine, theirs = enrol(program), enrol(program)
    (coach,) = pool(program, 1)
    client.force_login(mine.participant)

    client.post(select_url(coach))

    assert Engagement.objects.get(pk=mine.pk).coach == coach
    assert Engagement.objects.get(pk=theirs.pk).status == Status.INVITED


def test_a_participant_whose_program_has_ended_cannot_select(client: Client) -> None:
    today = timezone.localdate()
    ended = factories.ProgramFactory(
        starts_on=today - timedelta(days=200), ends_on=today - timedelta(days=1)
    )
    engagement = enrol(ended)
    (coach,) = pool(ended, 1)
    client.force_login(engagement.participant)

    assert client.post(select_url(coach)).status_code == 404
    with pytest.raises(NotEnrolled):
        engagement_select_coach(participant=engagement.participant, coach=coach)


def test_select_uses_the_most_recent_running_engagement(client: Client, program: Program) -> None:
    older = enrol(program, invited_at=timezone.now() - timedelta(days=30))
    newer_program = factories.ProgramFactory()
    newer = enrol(newer_program, participant=older.participant)
    (coach,) = pool(newer_program, 1)
    client.force_login(older.participant)

    assert client.post(select_url(coach)).status_code == 302

    assert Engagement.objects.get(pk=newer.pk).coach == coach
    assert Engagement.objects.get(pk=older.pk).coach is None


def test_select_needs_post_and_a_participant(client: Client, program: Program, staff: User) -> None:
    engagement = enrol(program)
    (coach,) = pool(program, 1)
    assert client.post(select_url(coach)).status_code == 302  # to sign-in
    client.force_login(coach.user)
    assert client.post(select_url(coach)).status_code == 404
    client.force_login(engagement.participant)
    assert client.get(select_url(coach)).status_code == 405
    assert Engagement.objects.get(pk=engagement.pk).status == Status.INVITED


def test_a_coach_of_an_older_running_program_only_is_404(client: Client, program: Program) -> None:
    older = enrol(program, invited_at=timezone.now() - timedelta(days=30))
    enrol(factories.ProgramFactory(), participant=older.participant)
    (coach,) = pool(program, 1)
    client.force_login(older.participant)

    assert client.post(select_url(coach)).status_code == 404
    assert Engagement.objects.get(pk=older.pk).coach is None


def test_selecting_a_coach_takes_thirteen_queries(
    client: Client, program: Program, django_assert_num_queries: DjangoAssertNumQueries
) -> None:
    engagement = enrol(program)
    (coach,) = pool(program, 1)
    client.force_login(engagement.participant)
    client.get("/")

    # The session and user come from the cache. The coach in the pool of the current program; in a
    # savepoint: lock the coach, lock the engagement, the coach's load; the
    # transition's savepoint, update, audit row and release; the history row,
    # the two emails' task rows, the release.
    # It was 20 when the view and the service each read the engagement, 15 while the
    # session and the user were read from the database.
    with django_assert_num_queries(13):
        assert client.post(select_url(coach)).status_code == 302
