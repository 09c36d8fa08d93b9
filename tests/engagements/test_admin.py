"""Staff transitions in the admin, notes kept out of it, and the read-only audit trail."""

from __future__ import annotations

import pytest
from django.contrib.admin import site
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.db import transaction
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import timezone

from accounts.models import AuditEvent, User
from engagements import services
from engagements.admin import STAFF_TRANSITIONS
from engagements.models import (
    CoachingSession,
    Engagement,
    EngagementCoach,
    InvalidTransition,
    Status,
)
from tests.engagements.helpers import engagement_in
from tests.responses import ClientResponse
from tests.signin import login_verified

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/engagements/engagement/"


@pytest.fixture
def staff_client(client: Client, staff: User) -> Client:
    login_verified(client, staff)
    return client


def _status(engagement: Engagement) -> str:
    return Engagement.objects.get(pk=engagement.pk).status


def _messages(response: ClientResponse) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def _act(
    client: Client, action: str, engagements: list[Engagement], **extra: str
) -> ClientResponse:
    data = {"action": action, ACTION_CHECKBOX_NAME: [e.pk for e in engagements], **extra}
    return client.post(CHANGELIST, data, follow=True)


def test_release_action_reports_done_and_refused_with_the_reason(
    staff_client: Client, staff: User
) -> None:
    a = engagement_in(Status.IN_PROGRESS)
    b = engagement_in(Status.ON_HOLD)
    done = engagement_in(Status.COMPLETED)

    response = _act(staff_client, "release_coach", [a, b, done])

    assert _messages(response) == [
        "Release coach: 2 done, 1 refused: "
        "An engagement that is completed cannot become invited. (×1)"
    ]
    assert (_status(a), _status(b), _status(done)) == (
        Status.INVITED,
        Status.INVITED,
        Status.COMPLETED,
    )
    assert EngagementCoach.objects.filter(released_at__isnull=False).count() == 2
    assert AuditEvent.objects.filter(action="engagement.coach_released", actor=staff).count() == 2


def test_hold_and_resume_actions(staff_client: Client) -> None:
    started = engagement_in(Status.IN_PROGRESS)
    Engagement.objects.filter(pk=started.pk).update(sessions_logged=1)
    fresh = engagement_in(Status.COACH_SELECTED)

    response = _act(staff_client, "put_on_hold", [started, fresh])
    assert _messages(response) == ["Put on hold: 2 done."]

    response = _act(staff_client, "resume", [started, fresh])
    assert _messages(response) == ["Resume: 2 done."]
    assert (_status(started), _status(fresh)) == (Status.IN_PROGRESS, Status.COACH_SELECTED)


@pytest.mark.parametrize(
    ("action", "status"), [("cancel", Status.CANCELLED), ("complete_early", Status.COMPLETED)]
)
def test_reasoned_actions_ask_for_a_reason_first(
    staff_client: Client, action: str, status: str
) -> None:
    engagements = [engagement_in(Status.IN_PROGRESS) for _ in range(2)]

    page = _act(staff_client, action, engagements)
    body = page.content.decode()
    assert page.status_code == 200
    assert 'name="reason"' in body and "for 2 engagements" in body
    assert f'<li aria-current="page">{page.context["title"]}</li>' in body  # breadcrumbs
    assert all(_status(e) == Status.IN_PROGRESS for e in engagements)

    refused = _act(staff_client, action, engagements, apply="yes", reason="  ")
    assert refused.status_code == 400
    assert "Give a reason" in refused.content.decode()
    assert all(_status(e) == Status.IN_PROGRESS for e in engagements)

    done = _act(staff_client, action, engagements, apply="yes", reason="Left the company")
    assert done.redirect_chain[-1][0] == CHANGELIST
    assert _messages(done)[0].endswith("2 done.")
    for engagement in engagements:
        stored = Engagement.objects.get(pk=engagement.pk)
        assert (stored.status, stored.status_reason) == (status, "Left the company")


def test_change_page_offers_only_the_transitions_allowed_now(staff_client: Client) -> None:
    engagement = engagement_in(Status.ON_HOLD)
    url = reverse("admin:engagements_engagement_change", args=[engagement.pk])
    body = staff_client.get(url).content.decode()
    for label in ["Release coach", "Resume", "Cancel", "Mark completed early"]:
        assert f">{label}</a>" in body
    assert ">Put on hold</a>" not in body

    completed = engagement_in(Status.COMPLETED)
    url = reverse("admin:engagements_engagement_change", args=[completed.pk])
    body = staff_client.get(url).content.decode()
    assert "/transition/" not in body


@pytest.mark.parametrize("status", list(Status))
def test_change_page_offers_a_transition_exactly_when_its_service_accepts_it(
    staff_client: Client, staff: User, status: str
) -> None:
    engagement = engagement_in(status)
    url = reverse("admin:engagements_engagement_change", args=[engagement.pk])
    body = staff_client.get(url).content.decode()
    offered = {t.label for t in STAFF_TRANSITIONS.values() if f">{t.label}</a>" in body}

    accepted = set()
    for transition in STAFF_TRANSITIONS.values():
        try:
            with transaction.atomic():
                transition.service(engagement=engagement, actor=staff, reason="Checking")
                accepted.add(transition.label)
                raise _Undo
        except (_Undo, InvalidTransition):
            pass

    assert offered == accepted


class _Undo(Exception):
    """Rolls a trial transition back."""


def test_change_page_transition_with_and_without_a_reason(
    staff_client: Client, staff: User
) -> None:
    engagement = engagement_in(Status.IN_PROGRESS)
    cancel = reverse("admin:engagements_engagement_transition", args=[engagement.pk, "cancel"])
    hold = reverse("admin:engagements_engagement_transition", args=[engagement.pk, "hold"])
    change = reverse("admin:engagements_engagement_change", args=[engagement.pk])

    assert staff_client.get(cancel).status_code == 200
    refused = staff_client.post(cancel, {"reason": ""})
    assert refused.status_code == 400
    assert "Give a reason" in refused.content.decode()
    assert _status(engagement) == Status.IN_PROGRESS

    response = staff_client.post(hold, {}, follow=True)
    assert response.redirect_chain[-1][0] == change
    assert _messages(response) == ["Put on hold: 1 done."]
    assert _status(engagement) == Status.ON_HOLD

    again = staff_client.post(hold, {}, follow=True)
    assert _messages(again) == [
        "Put on hold: 0 done, 1 refused: An engagement that is on hold cannot become on hold. (×1)"
    ]


def test_the_cancel_confirmation_names_its_button_and_offers_a_way_back(
    staff_client: Client,
) -> None:
    engagement = engagement_in(Status.IN_PROGRESS)
    cancel = reverse("admin:engagements_engagement_transition", args=[engagement.pk, "cancel"])
    change = reverse("admin:engagements_engagement_change", args=[engagement.pk])

    body = staff_client.get(cancel).content.decode()

    assert '<input type="submit" value="Cancel engagement">' in body
    assert f'<a class="cancel-link" href="{change}">Go back</a>' in body
    assert 'value="Cancel"' not in body
    assert staff_client.get(change).status_code == 200  # the link leads somewhere real
    assert _status(engagement) == Status.IN_PROGRESS


def test_the_bulk_cancel_confirmation_goes_back_to_the_list(staff_client: Client) -> None:
    engagements = [engagement_in(Status.IN_PROGRESS) for _ in range(2)]

    body = _act(staff_client, "cancel", engagements).content.decode()

    assert '<input type="submit" value="Cancel engagements">' in body
    assert f'<a class="cancel-link" href="{CHANGELIST}">Go back</a>' in body
    assert all(_status(e) == Status.IN_PROGRESS for e in engagements)


def test_other_confirmations_keep_their_action_label(staff_client: Client) -> None:
    engagement = engagement_in(Status.IN_PROGRESS)
    complete = reverse("admin:engagements_engagement_transition", args=[engagement.pk, "complete"])

    body = staff_client.get(complete).content.decode()

    assert '<input type="submit" value="Mark completed early">' in body
    assert ">Go back</a>" in body


def test_an_unknown_transition_or_engagement_is_a_404(staff_client: Client) -> None:
    engagement = engagement_in(Status.IN_PROGRESS)
    bad = reverse("admin:engagements_engagement_transition", args=[engagement.pk, "delete"])
    missing = reverse("admin:engagements_engagement_transition", args=[999999, "hold"])
    assert staff_client.get(bad).status_code == 404
    assert staff_client.post(missing).status_code == 404
    assert _status(engagement) == Status.IN_PROGRESS


def test_non_staff_cannot_reach_the_transition_view(client: Client) -> None:
    engagement = engagement_in(Status.IN_PROGRESS)
    assert engagement.coach is not None
    client.force_login(engagement.coach.user)
    url = reverse("admin:engagements_engagement_transition", args=[engagement.pk, "hold"])
    response = client.post(url)
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    assert _status(engagement) == Status.IN_PROGRESS


# --- Notes stay out of the admin ---------------------------------------------


def test_session_notes_never_appear_in_the_admin(staff_client: Client) -> None:
    engagement = engagement_in(Status.IN_PROGRESS)
    assert engagement.coach is not None
    session = services.session_log(
        engagement=engagement,
        coach=engagement.coach,
        held_on=timezone.localdate(),
        duration_minutes=60,
        outcome="held",
        notes="Confidential: burnout",
    )
    pages = [
        "/admin/engagements/coachingsession/",
        reverse("admin:engagements_coachingsession_change", args=[session.pk]),
        reverse("admin:engagements_engagement_change", args=[engagement.pk]),
        "/admin/accounts/auditevent/",
        "/admin/accounts/auditevent/?q=session",
    ]
    for url in pages:
        response = staff_client.get(url)
        assert response.status_code == 200, url
        assert "Confidential" not in response.content.decode(), url
    for event in AuditEvent.objects.all():
        change = reverse("admin:accounts_auditevent_change", args=[event.pk])
        assert "Confidential" not in staff_client.get(change).content.decode()


def test_the_session_admin_has_no_notes_field() -> None:
    model_admin = site._registry[CoachingSession]
    request = RequestFactory().get("/")
    assert "notes" not in model_admin.get_fields(request)
    assert not model_admin.has_add_permission(request)


# --- The audit trail is read-only, even for staff ---------------------------------


def test_audit_events_cannot_be_added_changed_or_deleted_by_staff(
    staff_client: Client, staff: User
) -> None:
    event = AuditEvent.objects.create(action="engagement.on_hold", object_id="abc")
    change = reverse("admin:accounts_auditevent_change", args=[event.pk])
    delete = reverse("admin:accounts_auditevent_delete", args=[event.pk])

    assert staff_client.get("/admin/accounts/auditevent/add/").status_code == 403
    assert staff_client.post("/admin/accounts/auditevent/add/", {"action": "x"}).status_code == 403
    view = staff_client.get(change)
    assert view.status_code == 200 and 'name="_save"' not in view.content.decode()
    assert staff_client.post(change, {"action": "forged"}).status_code == 403
    assert staff_client.post(delete, {"post": "yes"}).status_code == 403
    bulk = staff_client.post(
        "/admin/accounts/auditevent/",
        {"action": "delete_selected", ACTION_CHECKBOX_NAME: [event.pk], "post": "yes"},
    )
    assert bulk.status_code in (200, 302)
    event.refresh_from_db()
    assert event.action == "engagement.on_hold"
    assert AuditEvent.objects.count() == 1


def test_audit_events_are_searchable_by_actor_action_and_object(
    staff_client: Client, staff: User
) -> None:
    engagement = engagement_in(Status.IN_PROGRESS)
    services.engagement_put_on_hold(engagement=engagement, actor=staff)
    on_hold = AuditEvent.objects.get(action="engagement.on_hold")

    def found(q: str) -> set[int]:
        response = staff_client.get("/admin/accounts/auditevent/", {"q": q})
        return {e.pk for e in response.context["cl"].result_list}

    assert found("engagement.on_hold") == {on_hold.pk}
    assert on_hold.pk in found(str(engagement.public_id))
    assert found(staff.full_name) == {on_hold.pk}


# --- The engagement's page is for reading: wording, fields, no Save or Delete ----------


def test_engagement_change_page_is_read_only_and_links_the_ops_page(staff_client: Client) -> None:
    engagement = engagement_in(Status.COACH_SELECTED)
    change = reverse("admin:engagements_engagement_change", args=[engagement.pk])
    delete = reverse("admin:engagements_engagement_delete", args=[engagement.pk])

    body = staff_client.get(change).content.decode()

    ops_url = reverse("nudges:ops_engagement", kwargs={"public_id": engagement.public_id})
    assert f'href="{ops_url}"' in body
    assert "Coach history" in body
    assert "coachs" not in body.lower()
    assert "Status version" not in body and "status_version" not in body
    assert 'name="_save"' not in body and 'name="_continue"' not in body
    assert delete not in body
    assert staff_client.post(change, {"status_reason": "forged"}).status_code == 403
    assert staff_client.post(delete, {"post": "yes"}).status_code == 403
    assert Engagement.objects.get(pk=engagement.pk).status_reason == ""


def test_engagements_cannot_be_bulk_deleted(staff_client: Client) -> None:
    engagement = engagement_in(Status.INVITED)

    staff_client.post(
        CHANGELIST,
        {"action": "delete_selected", ACTION_CHECKBOX_NAME: [engagement.pk], "post": "yes"},
    )

    assert Engagement.objects.filter(pk=engagement.pk).exists()
