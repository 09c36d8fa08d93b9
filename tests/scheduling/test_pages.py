"""What people see of bookings: the participant's next session and its .ics, the coach's
upcoming sessions, staff's unmatched bookings with assign and dismiss."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from icalendar import Calendar

from accounts.models import AuditEvent
from engagements.models import Organization, Status
from scheduling.models import ScheduledSession, SessionStatus, UnmatchedReason
from scheduling.services import unmatched_bookings_changed
from tests.factories import CoachFactory, UserFactory, engagement_with_coach

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
START = datetime(2026, 12, 10, 9, 0, tzinfo=UTC)


def booking(
    engagement: Any, *, start: datetime = START, n: int = 0, **fields: Any
) -> ScheduledSession:
    coach = fields.pop("coach", None) or engagement.coach
    return ScheduledSession.objects.create(
        coach=coach,
        engagement=engagement,
        provider="calcom",
        provider_booking_id=f"uid-{n}-{start.isoformat()}",
        attendee_email="pia@client.example",
        starts_at=start,
        ends_at=start + timedelta(minutes=45),
        **fields,
    )


@pytest.fixture
def tokyo(engagement: Any) -> Any:
    Organization.objects.filter(pk=engagement.program.organization_id).update(
        time_zone="Asia/Tokyo"
    )
    engagement.program.organization.refresh_from_db()
    return engagement


@time_machine.travel(NOW, tick=False)
def test_the_participant_sees_the_next_session_on_the_organizations_clock(
    client: Any, tokyo: Any
) -> None:
    booking(tokyo, start=START + timedelta(days=3), n=2)
    booking(tokyo, n=1)
    booking(tokyo, start=START - timedelta(days=1), status=SessionStatus.CANCELLED, n=3)
    client.force_login(tokyo.participant)
    page = client.get("/").content.decode()
    assert "Your next session" in page
    assert "Thursday 10 December 2026, 18:00" in page  # 09:00 UTC in Tokyo
    assert "to 18:45" in page and "(Asia/Tokyo)" in page


@time_machine.travel(NOW, tick=False)
def test_no_next_session_panel_without_a_booking(client: Any, engagement: Any) -> None:
    client.force_login(engagement.participant)
    assert "Your next session" not in client.get("/").content.decode()


@time_machine.travel(NOW, tick=False)
def test_the_ics_file_parses_back_with_the_right_times_and_time_zone(
    client: Any, tokyo: Any
) -> None:
    session = booking(tokyo)
    client.force_login(tokyo.participant)
    response = client.get(f"/sessions/{session.public_id}/calendar.ics")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    calendar = Calendar.from_ical(response.content)
    (event,) = calendar.walk("VEVENT")
    start, end = event.decoded("dtstart"), event.decoded("dtend")
    assert start == START and end == START + timedelta(minutes=45)
    assert str(start.tzinfo) == "Asia/Tokyo" and start.hour == 18
    assert [tz["TZID"] for tz in calendar.walk("VTIMEZONE")] == ["Asia/Tokyo"]
    assert "Carla Coach" in str(event["summary"])
    assert str(session.public_id) in str(event["uid"])


@time_machine.travel(NOW, tick=False)
def test_another_participant_or_a_cancelled_booking_gets_a_404(
    client: Any, engagement: Any
) -> None:
    session = booking(engagement)
    client.force_login(UserFactory())
    assert client.get(f"/sessions/{session.public_id}/calendar.ics").status_code == 404
    ScheduledSession.objects.filter(pk=session.pk).update(status=SessionStatus.CANCELLED)
    client.force_login(engagement.participant)
    assert client.get(f"/sessions/{session.public_id}/calendar.ics").status_code == 404


@time_machine.travel(NOW, tick=False)
def test_the_coach_sees_upcoming_sessions_across_engagements_on_their_clock(
    client: Any, coach_profile: Any, engagement: Any
) -> None:
    other = engagement_with_coach(coach=coach_profile, participant__full_name="Omar Other")
    booking(engagement, n=1)
    booking(other, start=START + timedelta(days=1), n=2)
    booking(engagement, start=NOW - timedelta(days=1), n=3)  # over: not upcoming
    client.force_login(coach_profile.user)
    page = client.get("/coach/").content.decode()
    section = page.split("Upcoming sessions")[1]
    assert "Thu 10 Dec, 10:00" in section  # 09:00 UTC in Paris
    assert section.index("Pia Person") < section.index("Omar Other")
    assert "Europe/Paris" in section


@time_machine.travel(NOW, tick=False)
def test_the_coach_workspace_costs_the_same_queries_for_1_or_15_bookings(
    client: Any, coach_profile: Any, engagement: Any, django_assert_max_num_queries: Any
) -> None:
    client.force_login(coach_profile.user)
    booking(engagement, n=0)
    booking(engagement, start=NOW - timedelta(days=1), n=100)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as one:
        client.get("/coach/")
    for n in range(1, 15):
        other = engagement_with_coach(coach=coach_profile)
        booking(other, start=START + timedelta(hours=n), n=n)
        booking(other, start=NOW - timedelta(hours=n), n=200 + n)
    with django_assert_max_num_queries(len(one)):
        page = client.get("/coach/").content.decode()
    assert page.count('name="outcome" value="held"') == 15


@time_machine.travel(NOW, tick=False)
def test_the_participant_home_costs_a_fixed_number_of_queries(
    client: Any, engagement: Any, django_assert_max_num_queries: Any
) -> None:
    client.force_login(engagement.participant)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as none:
        client.get("/")
    for n in range(10):
        booking(engagement, start=START + timedelta(days=n), n=n)
    with django_assert_max_num_queries(len(none) + 1):
        client.get("/")


# --- Staff ---------------------------------------------------------------


def _unmatched(coach: Any, n: int = 0, **fields: Any) -> ScheduledSession:
    return ScheduledSession.objects.create(
        coach=coach,
        provider="calendly",
        provider_booking_id=f"inv-{n}",
        attendee_email=f"someone{n}@else.example",
        attendee_name="Sam Someone",
        starts_at=START,
        ends_at=START + timedelta(hours=1),
        unmatched_reason=UnmatchedReason.NO_ENGAGEMENT,
        **fields,
    )


def test_staff_see_unmatched_bookings_with_the_reason(
    admin_client_verified: Any, coach_profile: Any, engagement: Any
) -> None:
    _unmatched(coach_profile)
    page = admin_client_verified.get("/ops/").content.decode()
    assert "Unmatched bookings (1)" in page
    assert "No active engagement of this coach has a participant with this email address" in page
    assert "Pia Person" in page  # the coach's engagement offered in the menu


def test_staff_assign_a_booking_to_an_engagement_of_its_coach(
    admin_client_verified: Any, coach_profile: Any, engagement: Any
) -> None:
    unmatched = _unmatched(coach_profile)
    response = admin_client_verified.post(
        f"/ops/bookings/{unmatched.public_id}/assign/", {"engagement": str(engagement.public_id)}
    )
    assert response.status_code == 302
    unmatched.refresh_from_db()
    assert unmatched.engagement == engagement and unmatched.unmatched_reason == ""
    assert AuditEvent.objects.filter(action="scheduling.booking_assigned").count() == 1
    assert "Unmatched bookings (0)" in admin_client_verified.get("/ops/").content.decode()


def test_staff_cannot_assign_to_another_coachs_or_a_closed_engagement(
    admin_client_verified: Any, coach_profile: Any, engagement: Any
) -> None:
    unmatched = _unmatched(coach_profile)
    foreign = engagement_with_coach(coach=CoachFactory())
    closed = engagement_with_coach(coach=coach_profile)
    closed.transition_to(Status.CANCELLED, reason="left")
    for target in (foreign, closed):
        admin_client_verified.post(
            f"/ops/bookings/{unmatched.public_id}/assign/", {"engagement": str(target.public_id)}
        )
        unmatched.refresh_from_db()
        assert unmatched.engagement is None
    for bad in ["", "not-a-uuid", "00000000-0000-0000-0000-000000000000"]:
        response = admin_client_verified.post(
            f"/ops/bookings/{unmatched.public_id}/assign/", {"engagement": bad}
        )
        assert response.status_code == 400
    unmatched.refresh_from_db()
    assert unmatched.engagement is None


def test_staff_dismiss_a_booking_and_it_stays_recorded(
    admin_client_verified: Any, coach_profile: Any
) -> None:
    unmatched = _unmatched(coach_profile)
    assert (
        admin_client_verified.post(f"/ops/bookings/{unmatched.public_id}/dismiss/").status_code
        == 302
    )
    unmatched.refresh_from_db()
    assert unmatched.dismissed_at is not None
    assert "Unmatched bookings (0)" in admin_client_verified.get("/ops/").content.decode()
    # Dismissed twice, or assigned after: refused, nothing changes.
    admin_client_verified.post(f"/ops/bookings/{unmatched.public_id}/dismiss/")
    assert AuditEvent.objects.filter(action="scheduling.booking_dismissed").count() == 1


@pytest.mark.parametrize("role", ["participant", "coach", "sponsor"])
def test_only_staff_assign_or_dismiss(client: Any, coach_profile: Any, role: str) -> None:
    unmatched = _unmatched(coach_profile)
    client.force_login(UserFactory(role=role))
    assert client.post(f"/ops/bookings/{unmatched.public_id}/dismiss/").status_code == 404
    unmatched.refresh_from_db()
    assert unmatched.dismissed_at is None


def test_the_ops_dashboard_costs_the_same_queries_for_1_or_20_unmatched(
    admin_client_verified: Any,
    coach_profile: Any,
    django_assert_max_num_queries: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    _unmatched(coach_profile)
    with CaptureQueriesContext(connection) as one:
        admin_client_verified.get("/ops/")
    for n in range(1, 20):
        coach = CoachFactory()
        engagement_with_coach(coach=coach)
        _unmatched(coach, n=n)
    with django_capture_on_commit_callbacks(execute=True):
        unmatched_bookings_changed()  # as booking_receive does; the rows were written past it
    with django_assert_max_num_queries(len(one)):
        page = admin_client_verified.get("/ops/").content.decode()
    assert "Unmatched bookings (20)" in page


@time_machine.travel(NOW, tick=False)
def test_staff_see_the_engagements_booked_sessions_on_its_ops_page(
    admin_client_verified: Any, tokyo: Any
) -> None:
    booking(tokyo, n=1)
    booking(tokyo, start=START + timedelta(days=1), n=2, status=SessionStatus.CANCELLED)
    booking(tokyo, start=NOW - timedelta(days=2), n=3)  # over: not listed
    page = admin_client_verified.get(f"/ops/engagements/{tokyo.public_id}/").content.decode()
    section = page.split("Booked sessions")[1].split("Timeline")[0]
    assert "Thu 10 Dec 2026, 18:00" in section and "Cancelled" in section
    assert "Asia/Tokyo" in section
    assert "Mon 30 Nov" not in section
