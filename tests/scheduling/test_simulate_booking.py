"""`manage.py simulate_booking`: the demo's booking, through the real receiver."""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from engagements.models import CoachingSession
from scheduling.models import ScheduledSession, SessionStatus

pytestmark = pytest.mark.django_db


def _run(*args: str) -> str:
    out = StringIO()
    call_command("simulate_booking", *args, stdout=out)
    return out.getvalue()


@pytest.mark.parametrize("provider", ["calendly", "calcom"])
def test_a_simulated_booking_shows_on_both_pages(
    client: Any, engagement: Any, provider: str
) -> None:
    output = _run("pia@client.example", "--provider", provider)
    assert "Recorded." in output and "Pia Person" in output
    (booking,) = ScheduledSession.objects.all()
    assert booking.engagement == engagement and booking.status == SessionStatus.BOOKED
    client.force_login(engagement.participant)
    assert "Your next session" in client.get("/").content.decode()
    client.force_login(engagement.coach.user)
    assert "Pia Person" in client.get("/coach/").content.decode().split("Upcoming sessions")[1]


def test_an_ended_simulated_booking_is_confirmed_with_one_click(
    client: Any, engagement: Any
) -> None:
    _run("PIA@client.example", "--ended", "--minutes", "45")
    (booking,) = ScheduledSession.objects.all()
    client.force_login(engagement.coach.user)
    assert "Did this session happen?" in client.get("/coach/").content.decode()
    client.post(f"/coach/bookings/{booking.public_id}/confirm/", {"outcome": "held"})
    (session,) = CoachingSession.objects.all()
    assert session.duration_minutes == 45


def test_an_unknown_participant_or_bad_length_is_refused(engagement: Any) -> None:
    with pytest.raises(CommandError, match="No active engagement"):
        _run("nobody@client.example")
    with pytest.raises(CommandError, match="--minutes"):
        _run("pia@client.example", "--minutes", "0")
    assert not ScheduledSession.objects.exists()
