"""Bookings that arrive from the coaches' scheduling pages (docs/architecture.md, "Bookings").

A coach's `BookingEndpoint` holds the secret token in the two webhook URLs and
the signing secret the providers sign with. Each booking becomes one
`ScheduledSession`; a reschedule moves the same row, so every booking id the
provider used for it is a `BookingReference` of that row.
"""

from __future__ import annotations

import secrets
import uuid
from datetime import datetime, timedelta

from django.db import models
from django.db.models import F, Q
from django.utils import timezone


def new_token() -> str:
    return secrets.token_urlsafe(24)


def new_signing_secret() -> str:
    return secrets.token_hex(32)


class Provider(models.TextChoices):
    CALENDLY = "calendly", "Calendly"
    CALCOM = "calcom", "Cal.com"


class BookingEndpoint(models.Model):
    """Where a coach's provider posts bookings (the token) and how it signs them."""

    coach = models.OneToOneField(
        "coaches.CoachProfile", on_delete=models.CASCADE, related_name="booking_endpoint"
    )
    token = models.CharField(max_length=64, unique=True, default=new_token)
    signing_secret = models.CharField(max_length=128, default=new_signing_secret)
    rotated_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"Booking endpoint of {self.coach}"


class SessionStatus(models.TextChoices):
    BOOKED = "booked", "Booked"
    RESCHEDULED = "rescheduled", "Rescheduled"
    CANCELLED = "cancelled", "Cancelled"


# A booked or rescheduled session is still going to happen.
LIVE_STATUSES = (SessionStatus.BOOKED, SessionStatus.RESCHEDULED)


class UnmatchedReason(models.TextChoices):
    NO_ENGAGEMENT = (
        "no_engagement",
        "No active engagement of this coach has a participant with this email address",
    )
    ENGAGEMENT_CLOSED = (
        "engagement_closed",
        "The participant's engagement with this coach is completed or cancelled",
    )


class ScheduledSession(models.Model):
    """One booking on a coach's scheduling page, as we last heard of it."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    coach = models.ForeignKey(
        "coaches.CoachProfile", on_delete=models.CASCADE, related_name="scheduled_sessions"
    )
    engagement = models.ForeignKey(
        "engagements.Engagement",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="scheduled_sessions",
    )
    provider = models.CharField(max_length=16, choices=Provider.choices)
    # The provider's id of the booking as it stands now (a reschedule gives a new one).
    provider_booking_id = models.CharField(max_length=255)
    attendee_email = models.EmailField(max_length=254)
    attendee_name = models.CharField(max_length=200, blank=True)
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    status = models.CharField(
        max_length=16, choices=SessionStatus.choices, default=SessionStatus.BOOKED
    )
    # What we received, oldest first: event, booking id, times, when (never the payload).
    history = models.JSONField(default=list, blank=True)
    unmatched_reason = models.CharField(max_length=32, choices=UnmatchedReason.choices, blank=True)
    dismissed_at = models.DateTimeField(null=True, blank=True)
    confirmed_session = models.OneToOneField(
        "engagements.CoachingSession",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="booking",
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["starts_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["coach", "provider", "provider_booking_id"],
                name="scheduled_session_booking_unique_per_coach_provider",
            ),
            models.CheckConstraint(
                condition=Q(ends_at__gt=F("starts_at")), name="scheduled_session_ends_after_start"
            ),
            models.CheckConstraint(
                condition=Q(status__in=SessionStatus.values), name="scheduled_session_status_valid"
            ),
        ]
        indexes = [
            models.Index(fields=["engagement", "starts_at"]),
            models.Index(fields=["coach", "starts_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.get_provider_display()} booking {self.starts_at:%Y-%m-%d %H:%M}"

    @property
    def duration(self) -> timedelta:
        return self.ends_at - self.starts_at

    def has_ended(self, now: datetime | None = None) -> bool:
        return self.ends_at <= (now or timezone.now())


class BookingReference(models.Model):
    """One booking id a provider used for a scheduled session, and what we know of it.

    A reschedule is a new booking id that replaces an old one: the old reference
    gets `replaced_by`, and the session follows the one no other replaces.
    """

    session = models.ForeignKey(
        ScheduledSession, on_delete=models.CASCADE, related_name="references"
    )
    coach = models.ForeignKey("coaches.CoachProfile", on_delete=models.CASCADE, related_name="+")
    provider = models.CharField(max_length=16, choices=Provider.choices)
    reference = models.CharField(max_length=255)
    starts_at = models.DateTimeField(null=True, blank=True)
    ends_at = models.DateTimeField(null=True, blank=True)
    created_seen = models.BooleanField(default=False)
    cancelled = models.BooleanField(default=False)
    replaced_by = models.CharField(max_length=255, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["coach", "provider", "reference"],
                name="booking_reference_unique_per_coach_provider",
            ),
        ]

    def __str__(self) -> str:
        return self.reference
