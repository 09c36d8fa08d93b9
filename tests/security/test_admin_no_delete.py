"""Issue 13: the admin cannot go around the services. Nothing on these models is deleted
by hand (sessions are voided, engagements cancelled, users deactivated; audit events and
flags are evidence), and voiding in the admin goes through session_void."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.contrib import admin
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.db.models import Model
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from accounts.audit import audit_record
from accounts.models import AuditEvent, User
from coaches.models import CoachProfile
from engagements import services
from engagements.models import CoachingSession, Engagement, Outcome, Status
from nudges.models import FlagKind, NudgeFlag
from tests.engagements.helpers import engagement_in
from tests.factories import ProgramFactory

pytestmark = pytest.mark.django_db

PROTECTED: list[type[Model]] = [CoachingSession, Engagement, AuditEvent, NudgeFlag, User]


def coach_of(engagement: Engagement) -> CoachProfile:
    """The engagement's coach (these tests only build engagements that have one)."""
    assert engagement.coach is not None
    return engagement.coach


def _log(engagement: Engagement, days_ago: int) -> CoachingSession:
    return services.session_log(
        engagement=engagement,
        coach=coach_of(engagement),
        held_on=timezone.localdate() - timedelta(days=days_ago),
        duration_minutes=60,
        outcome=Outcome.HELD,
    )


def _one_of_each(staff: User) -> dict[type[Model], Any]:
    engagement = engagement_in(Status.COACH_SELECTED)
    session = _log(engagement, 1)
    flag = NudgeFlag.objects.create(engagement=engagement, kind=FlagKind.NO_FIRST_SESSION)
    event = audit_record(action="test.event", actor=staff)
    return {
        CoachingSession: session,
        Engagement: engagement,
        AuditEvent: event,
        NudgeFlag: flag,
        User: engagement.participant,
    }


def _url(obj: Model, view: str, *args: object) -> str:
    meta = obj._meta
    return reverse(f"admin:{meta.app_label}_{meta.model_name}_{view}", args=args)


@pytest.mark.parametrize("model", PROTECTED, ids=lambda m: m._meta.label)
def test_no_admin_deletes_a_protected_record(
    model: type[Model], admin_client_verified: Any, staff: Any
) -> None:
    obj = _one_of_each(staff)[model]
    model_admin = admin.site.get_model_admin(model)
    request = RequestFactory().get("/admin/")
    request.user = staff

    assert model_admin.has_delete_permission(request) is False
    assert model_admin.has_delete_permission(request, obj) is False
    assert "delete_selected" not in model_admin.get_actions(request)

    page = admin_client_verified.post(_url(obj, "delete", obj.pk), {"post": "yes"})
    assert page.status_code == 403
    bulk = admin_client_verified.post(
        _url(obj, "changelist"),
        {"action": "delete_selected", ACTION_CHECKBOX_NAME: [obj.pk], "post": "yes"},
    )
    assert bulk.status_code in (200, 302, 400)
    assert model._default_manager.filter(pk=obj.pk).exists()
    change = admin_client_verified.get(_url(obj, "change", obj.pk))
    assert _url(obj, "delete", obj.pk) not in change.content.decode()


def test_the_session_admin_voids_through_the_service_with_a_reason(
    admin_client_verified: Any, staff: Any
) -> None:
    program = ProgramFactory(sessions_per_engagement=2)
    engagement = engagement_in(Status.COACH_SELECTED, program=program)
    first = _log(engagement, 5)
    last = _log(engagement, 2)
    assert Engagement.objects.get(pk=engagement.pk).status == Status.COMPLETED
    changelist = reverse("admin:engagements_coachingsession_changelist")
    selection = {"action": "void_sessions", ACTION_CHECKBOX_NAME: [last.pk]}

    asked = admin_client_verified.post(changelist, selection)
    assert asked.status_code == 200 and "Reason" in asked.content.decode()
    empty = admin_client_verified.post(changelist, {**selection, "apply": "yes", "reason": " "})
    assert empty.status_code == 400
    assert not CoachingSession.objects.get(pk=last.pk).is_voided

    done = admin_client_verified.post(
        changelist, {**selection, "apply": "yes", "reason": "Entered twice"}, follow=True
    )

    assert "Void: 1 done." in done.content.decode()
    stored = Engagement.objects.get(pk=engagement.pk)
    assert (stored.status, stored.sessions_logged) == (Status.IN_PROGRESS, 1)
    voided = CoachingSession.objects.get(pk=last.pk)
    assert (voided.voided_by, voided.void_reason) == (staff, "Entered twice")
    assert AuditEvent.objects.get(action="session.voided").actor == staff
    # The list shows it voided, with its reason; the other one as it was.
    listed = admin_client_verified.get(changelist).content.decode()
    assert "<del>2</del> (voided)" in listed and "Entered twice" in listed
    assert "<del>1</del>" not in listed

    # Voiding it again is refused and said so, nothing changes.
    again = admin_client_verified.post(
        changelist,
        {
            "action": "void_sessions",
            ACTION_CHECKBOX_NAME: [last.pk, first.pk],
            "apply": "yes",
            "reason": "x",
        },
        follow=True,
    )
    assert "Void: 1 done, 1 refused: This session is already voided." in again.content.decode()
    assert Engagement.objects.get(pk=engagement.pk).sessions_logged == 0


def test_staff_void_sessions_older_than_the_coachs_window(admin_client_verified: Any) -> None:
    engagement = engagement_in(Status.COACH_SELECTED)
    session = _log(engagement, 1)
    CoachingSession.objects.filter(pk=session.pk).update(
        created_at=timezone.now() - timedelta(days=60)
    )
    admin_client_verified.post(
        reverse("admin:engagements_coachingsession_changelist"),
        {
            "action": "void_sessions",
            ACTION_CHECKBOX_NAME: [session.pk],
            "apply": "yes",
            "reason": "Old mistake",
        },
    )
    assert CoachingSession.objects.get(pk=session.pk).is_voided
