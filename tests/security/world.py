"""A small world in which every id in a URL belongs to the first participant, coach
and sponsor, and the "other" ones own a parallel program of their own."""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.core.files.base import ContentFile
from django.db import connection
from django.db.models import Model
from django.test import Client
from django.utils import timezone
from PIL import Image

from accounts.models import Role, User
from coaches.models import CoachProfile
from coaches.photos import photo_reencode
from engagements.models import CoachingSession, Engagement, Organization, Outcome, Program
from engagements.services import session_log
from tests import factories
from tests.signin import login_verified

ROLES = (
    "anonymous",
    "participant",
    "other_participant",
    "coach",
    "other_coach",
    "sponsor",
    "other_sponsor",
    "staff",
)
DOMAIN_APPS = ("accounts", "coaches", "engagements", "feedback", "nudges")


@dataclass
class World:
    organization: Organization
    program: Program
    participant: User
    coach: CoachProfile
    sponsor: User
    engagement: Engagement
    session: CoachingSession
    other_organization: Organization
    other_program: Program
    other_participant: User
    other_coach: CoachProfile
    other_sponsor: User
    other_engagement: Engagement
    other_session: CoachingSession
    staff: User

    def user(self, role: str) -> User | None:
        if role == "anonymous":
            return None
        person = getattr(self, role)
        return person.user if isinstance(person, CoachProfile) else person

    def client(self, role: str) -> Client:
        """A fresh client signed in as `role` (staff with a code-verified session)."""
        client = Client()
        user = self.user(role)
        if user is None:
            return client
        if user.role == Role.STAFF:
            return login_verified(client, user)
        client.force_login(user)
        return client


def _side(suffix: str = "") -> dict[str, Any]:
    organization = factories.OrganizationFactory(name=f"Client{suffix}")
    sponsor = factories.UserFactory(role=Role.SPONSOR, full_name=f"Sponsor{suffix}")
    organization.sponsors.add(sponsor)
    coach = factories.CoachFactory(user__full_name=f"Coach{suffix}")
    program = factories.ProgramFactory(organization=organization)
    program.coaches.add(coach)
    participant = factories.UserFactory(full_name=f"Participant{suffix}")
    engagement = factories.engagement_with_coach(
        coach=coach, participant=participant, program=program
    )
    session = session_log(
        engagement=engagement,
        coach=coach,
        held_on=timezone.localdate(),
        duration_minutes=60,
        outcome=Outcome.HELD,
        notes=f"private notes{suffix}",
    )
    engagement.refresh_from_db()
    return {
        "organization": organization,
        "program": program,
        "participant": participant,
        "coach": coach,
        "sponsor": sponsor,
        "engagement": engagement,
        "session": session,
    }


def build_world() -> World:
    mine = _side()
    buffer = io.BytesIO()
    Image.new("RGB", (200, 200), "teal").save(buffer, "JPEG")
    mine["coach"].photo = photo_reencode(upload=ContentFile(buffer.getvalue(), name="me.jpg"))
    mine["coach"].save()
    theirs = {f"other_{key}": value for key, value in _side(" (other)").items()}
    return World(**mine, **theirs, staff=factories.UserFactory(role=Role.STAFF))


def domain_models() -> list[type[Model]]:
    """Every table of our apps, many-to-many link tables included."""
    return [
        model
        for label in DOMAIN_APPS
        for model in apps.get_app_config(label).get_models(include_auto_created=True)
    ]


def row_counts() -> dict[str, int]:
    """The row count of every domain table, in one query."""
    models = domain_models()
    quote = connection.ops.quote_name
    # Table names come from our models, never from input.
    columns = ", ".join(f"(SELECT COUNT(*) FROM {quote(m._meta.db_table)})" for m in models)  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {columns}")
        counts = cursor.fetchone()
    return {model._meta.label: count for model, count in zip(models, counts, strict=True)}


def count_changes(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    """Tables whose row count changed, with the difference."""
    return {
        label: after[label] - before[label] for label in before if after[label] != before[label]
    }


def fingerprint() -> dict[str, Any]:
    """Row counts plus the mutable state of the rows a wrong request could change."""
    return {
        **row_counts(),
        "engagements": sorted(
            Engagement.objects.values_list(
                "pk", "status", "status_version", "coach_id", "sessions_logged"
            )
        ),
        "sessions": sorted(
            CoachingSession.objects.values_list(
                "pk", "held_on", "duration_minutes", "outcome", "notes", "updated_at"
            )
        ),
        "coaches": sorted(CoachProfile.objects.values_list("pk", "updated_at", "accepting_new")),
        "ratings": sorted(
            apps.get_model("feedback", "SessionRating").objects.values_list(
                "pk", "score", "updated_at"
            )
        ),
        "users": sorted(
            User.objects.values_list("pk", "email", "is_active", "role", "reminders_enabled")
        ),
    }
