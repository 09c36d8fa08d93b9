from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image
from pytest_django import Settings

from accounts.models import AuditEvent, Role, User
from coaches.models import CoachProfile
from tests import factories

pytestmark = pytest.mark.django_db
URL = "/coach/profile/"


def form_data(coach: CoachProfile, **overrides: object) -> dict[str, object]:
    data: dict[str, object] = {
        "headline": "New headline",
        "bio": "New bio",
        "time_zone": "America/New_York",
        "booking_url": "https://book.example.com/me",
        "specialties": [factories.SpecialtyFactory(name="Career").pk],
        "languages": [factories.LanguageFactory(code="fr", name="French").pk],
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def test_coach_edits_own_profile_but_not_capacity(client: Client, coach: CoachProfile) -> None:
    client.force_login(coach.user)
    assert client.get(URL).status_code == 200

    response = client.post(URL, form_data(coach, capacity=99))  # accepting_new unticked

    assert response.status_code == 302
    coach.refresh_from_db()
    assert coach.headline == "New headline" and coach.bio == "New bio"
    assert coach.time_zone == "America/New_York"
    assert coach.booking_url == "https://book.example.com/me"
    assert [s.name for s in coach.specialties.all()] == ["Career"]
    assert [lang.code for lang in coach.languages.all()] == ["fr"]
    assert coach.accepting_new is False
    assert coach.capacity == 10
    event = AuditEvent.objects.get(action="coach.profile_updated")
    assert event.after is not None and "headline" in event.after["changed"]


def test_coach_uploads_a_photo(
    client: Client, coach: CoachProfile, settings: Settings, tmp_path: Path
) -> None:
    settings.MEDIA_ROOT = tmp_path
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), "blue").save(buffer, "PNG")
    photo = SimpleUploadedFile("me.png", buffer.getvalue(), content_type="image/png")
    client.force_login(coach.user)

    response = client.post(URL, {**form_data(coach), "photo": photo})

    assert response.status_code == 302
    coach.refresh_from_db()
    assert (coach.photo.name or "").startswith("coaches/")


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("booking_url", "http://book.example.com/me", "must start with https://"),
        ("booking_url", "not a link", "Enter a valid URL"),
        ("time_zone", "Mars/Olympus", "Select a valid choice"),
    ],
)
def test_bad_values_are_explained_and_nothing_changes(
    client: Client, coach: CoachProfile, field: str, value: str, message: str
) -> None:
    before = (coach.headline, coach.booking_url, coach.time_zone)
    client.force_login(coach.user)

    response = client.post(URL, form_data(coach, **{field: value}))

    assert response.status_code == 200
    assert message in response.content.decode()
    coach.refresh_from_db()
    assert (coach.headline, coach.booking_url, coach.time_zone) == before


def test_a_file_that_is_not_an_image_is_refused(client: Client, coach: CoachProfile) -> None:
    client.force_login(coach.user)
    fake = SimpleUploadedFile("me.png", b"not an image", content_type="image/png")

    response = client.post(URL, {**form_data(coach), "photo": fake})

    assert response.status_code == 200
    assert "Upload a valid image" in response.content.decode()


def test_only_coaches_with_a_profile_reach_the_page(client: Client, participant: User) -> None:
    assert client.get(URL).status_code == 302
    client.force_login(participant)
    assert client.get(URL).status_code == 404
    client.force_login(factories.UserFactory(role=Role.COACH))
    assert client.get(URL).status_code == 404
