"""The coach's webhook addresses and secret, their rotation, and the filled-in booking link."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest

from accounts.models import AuditEvent
from scheduling.models import BookingEndpoint
from tests.factories import CoachFactory, UserFactory
from tests.scheduling.payloads import calcom, deliver

pytestmark = pytest.mark.django_db

PROFILE = "/coach/profile/"
ROTATE = "/coach/profile/bookings/rotate/"


def test_the_profile_shows_both_webhook_addresses_and_the_secret(
    client: Any, coach_profile: Any, settings: Any
) -> None:
    client.force_login(coach_profile.user)
    page = client.get(PROFILE).content.decode()
    endpoint = BookingEndpoint.objects.get(coach=coach_profile)
    assert f"{settings.SITE_URL}/hooks/calendly/{endpoint.token}/" in page
    assert f"{settings.SITE_URL}/hooks/calcom/{endpoint.token}/" in page
    assert endpoint.signing_secret in page
    assert 'action="/coach/profile/bookings/rotate/"' in page


def test_each_coach_has_a_token_and_secret_of_their_own(client: Any) -> None:
    first, second = CoachFactory(), CoachFactory()
    for coach in (first, second):
        client.force_login(coach.user)
        client.get(PROFILE)
    a, b = BookingEndpoint.objects.order_by("pk")
    assert a.token != b.token and a.signing_secret != b.signing_secret
    assert len(a.token) >= 32 and len(a.signing_secret) == 64


def test_rotating_replaces_the_token_and_secret_and_the_old_address_stops(
    client: Any, endpoint: Any, engagement: Any
) -> None:
    old_token, old_secret = endpoint.token, endpoint.signing_secret
    client.force_login(endpoint.coach.user)
    response = client.post(ROTATE)
    assert response.status_code == 302 and response["Location"] == PROFILE
    endpoint.refresh_from_db()
    assert endpoint.token != old_token and endpoint.signing_secret != old_secret
    assert AuditEvent.objects.filter(action="scheduling.endpoint_rotated").count() == 1

    from datetime import UTC, datetime

    booking = calcom(
        "BOOKING_CREATED",
        uid="u1",
        start=datetime(2026, 12, 10, 9, tzinfo=UTC),
        email="pia@client.example",
    )
    assert deliver(client, "calcom", endpoint, booking, token=old_token).status_code == 404
    assert deliver(client, "calcom", endpoint, booking, secret=old_secret).status_code == 401
    assert deliver(client, "calcom", endpoint, booking).status_code == 200


def test_rotating_is_post_only(client: Any, coach_profile: Any) -> None:
    client.force_login(coach_profile.user)
    assert client.get(ROTATE).status_code == 405
    assert not BookingEndpoint.objects.exists()


@pytest.mark.parametrize("role", ["participant", "sponsor"])
def test_only_coaches_rotate(client: Any, role: str) -> None:
    client.force_login(UserFactory(role=role))
    assert client.post(ROTATE).status_code == 404


def test_signed_out_people_are_sent_to_sign_in(client: Any) -> None:
    assert client.post(ROTATE).status_code == 302


@pytest.mark.parametrize(
    ("booking_url", "kept"),
    [
        ("https://calendly.com/carla/60min", []),
        (
            "https://cal.com/carla/60?month=2026-12&layout=week",
            [("month", "2026-12"), ("layout", "week")],
        ),
        (
            "https://calendly.com/carla?name=Someone+Else&hide_gdpr_banner=1",
            [("hide_gdpr_banner", "1")],
        ),
    ],
)
def test_the_booking_link_carries_the_participants_name_and_email(
    booking_url: str, kept: Any
) -> None:
    coach = CoachFactory(booking_url=booking_url)
    person = UserFactory(full_name="Zoë O'Brien & Co", email="zoe+coaching@client.example")
    link = coach.booking_link_for(person)
    parts = urlsplit(link)
    assert link.startswith(booking_url.split("?")[0] + "?")
    assert parse_qsl(parts.query) == [
        *kept,
        ("name", "Zoë O'Brien & Co"),
        ("email", "zoe+coaching@client.example"),
    ]
    assert "+coaching" not in parts.query  # the plus is encoded, not read as a space


def test_a_coach_without_a_booking_link_gives_none() -> None:
    assert CoachFactory(booking_url="").booking_link_for(UserFactory()) == ""


def test_the_participant_home_links_to_the_filled_in_booking_page(
    client: Any, engagement: Any
) -> None:
    client.force_login(engagement.participant)
    page = client.get("/").content.decode()
    assert "email=pia%40client.example" in page
    assert "name=Pia+Person" in page
