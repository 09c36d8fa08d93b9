from __future__ import annotations

import functools
import uuid
import zoneinfo
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models, transaction

from config.cached import changed

if TYPE_CHECKING:
    from accounts.models import User


@functools.cache
def time_zone_names() -> frozenset[str]:
    """The IANA names on this machine; listing them walks the tz database, so once."""
    return frozenset(zoneinfo.available_timezones())


def validate_time_zone(value: str) -> None:
    if value not in time_zone_names():
        raise ValidationError(f"{value!r} is not a time zone name such as Europe/Paris.")


def validate_https(value: str) -> None:
    if not value.lower().startswith("https://"):
        raise ValidationError(
            "The booking link must start with https://, so participants can book safely."
        )


# The coaches in order of load (full first, then by name) are cached until a coach's
# load or profile changes (config/cached.py; engagements/selectors.py,
# coaches_full_first_ids): a status change of any engagement, a saved or imported coach.
COACH_LOAD_SCOPE = "coach-load"


def coach_load_changed() -> None:
    """The coaches' order by load is out of date once this transaction commits."""
    changed(COACH_LOAD_SCOPE)


class Specialty(models.Model):
    name = models.CharField(max_length=80, unique=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "specialties"

    def __str__(self) -> str:
        return self.name


class Language(models.Model):
    """A spoken language, by its ISO 639-1 code."""

    code = models.CharField(max_length=8, unique=True)
    name = models.CharField(max_length=80)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class CoachProfile(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="coach_profile"
    )
    headline = models.CharField(max_length=160, blank=True)
    bio = models.TextField(blank=True)
    photo = models.ImageField(upload_to="coaches/", blank=True)
    specialties = models.ManyToManyField(Specialty, blank=True, related_name="coaches")
    languages = models.ManyToManyField(Language, blank=True, related_name="coaches")
    time_zone = models.CharField(max_length=64, default="UTC", validators=[validate_time_zone])
    booking_url = models.URLField(blank=True, validators=[validate_https])
    capacity = models.PositiveSmallIntegerField(
        default=10, help_text="Active engagements this coach takes across all programs."
    )
    accepting_new = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["user__full_name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(capacity__gte=0), name="coaches_capacity_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return str(self.user)

    def save(self, *args: Any, **kwargs: Any) -> None:
        """Save; when the photo was replaced or cleared, delete the old file after commit.

        A new coach, or a changed capacity, changes the list of coaches by load.

        After commit: if the transaction rolls back, the row still names the old file.
        The stored name is read first rather than remembered, so an instance that was
        loaded long ago or refreshed still removes the right file.
        """
        update_fields = kwargs.get("update_fields")
        old = ""
        if self.pk is not None and (update_fields is None or "photo" in update_fields):
            old = (
                CoachProfile.objects.filter(pk=self.pk).values_list("photo", flat=True).first()
                or ""
            )
        super().save(*args, **kwargs)
        coach_load_changed()
        if old and old != self.photo.name:
            storage = self.photo.storage
            transaction.on_commit(lambda: storage.delete(old))

    def booking_link_for(self, person: User) -> str:
        """The booking link filled in with the person's name and email (Calendly and
        Cal.com both read `name` and `email`), so a booking matches their engagement
        even if they type another address. The link's own parameters are kept."""
        if not self.booking_url:
            return ""
        parts = urlsplit(self.booking_url)
        query = [
            (key, value)
            for key, value in parse_qsl(parts.query, keep_blank_values=True)
            if key not in ("name", "email")
        ]
        query += [("name", person.full_name), ("email", person.email)]
        return urlunsplit(parts._replace(query=urlencode(query)))
