from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models, transaction
from django.db.models import Count, F, IntegerField, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce
from django.db.models.signals import m2m_changed
from django.dispatch import receiver
from django.utils import timezone

from accounts.audit import audit_record
from accounts.models import User
from coaches.models import coach_load_changed, validate_time_zone
from config.cached import changed
from config.errors import DomainError
from config.privacy import SMALLEST_GROUP_SIZE


def default_time_zone() -> str:
    return settings.TIME_ZONE


class Organization(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(max_length=200, unique=True)
    sponsors = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="sponsored_organizations"
    )
    min_group_size = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(SMALLEST_GROUP_SIZE)],
        verbose_name="minimum group size",
        help_text=(
            "Coaches and sponsors see an average only of at least this many answers, "
            "and it changes only when this many new ones are in. "
            f"Empty: the site's setting. Never below {SMALLEST_GROUP_SIZE}."
        ),
    )
    # Participants see their booked sessions on this clock (scheduling/times.py).
    time_zone = models.CharField(
        max_length=64,
        default=default_time_zone,
        validators=[validate_time_zone],
        help_text="Participants see their booked sessions in this time zone, e.g. Europe/Paris.",
    )
    sponsors_see_individual_progress = models.BooleanField(
        default=False,
        verbose_name="sponsors may see individual progress",
        help_text=(
            "Off: sponsors see figures for the whole program only. "
            "On: they also see each participant's status and sessions held, by name."
        ),
    )

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(min_group_size__isnull=True)
                | Q(min_group_size__gte=SMALLEST_GROUP_SIZE),
                name="organization_min_group_size_at_least_3",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def group_size(self) -> int:
        """The smallest group of answers an average shown outside staff may describe."""
        return self.min_group_size or settings.MIN_GROUP_SIZE


def group_size_of(organization: str) -> Coalesce:
    """Organization.group_size in SQL, for the organization at the lookup path `organization`."""
    return Coalesce(
        F(f"{organization}__min_group_size"),
        Value(settings.MIN_GROUP_SIZE),
        output_field=models.PositiveSmallIntegerField(),
    )


class Program(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="programs"
    )
    name = models.CharField(max_length=200)
    starts_on = models.DateField()
    ends_on = models.DateField()
    sessions_per_engagement = models.PositiveSmallIntegerField(default=6)
    coaches = models.ManyToManyField(
        "coaches.CoachProfile", blank=True, related_name="programs", verbose_name="coach pool"
    )
    # Nudge thresholds, in days (docs/architecture.md, "Rules and where they live").
    no_coach_selected_days = models.PositiveSmallIntegerField(default=7)
    no_first_session_days = models.PositiveSmallIntegerField(default=14)
    stalled_days = models.PositiveSmallIntegerField(default=30)
    behind_schedule_days = models.PositiveSmallIntegerField(default=21)
    reminders_enabled = models.BooleanField(default=True)

    class Meta:
        ordering = ["-starts_on", "name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__gt=F("starts_on")), name="program_ends_after_start"
            ),
            models.CheckConstraint(
                condition=Q(sessions_per_engagement__gte=1), name="program_has_sessions"
            ),
            models.UniqueConstraint(
                fields=["organization", "name"], name="program_name_unique_per_org"
            ),
        ]

    def __str__(self) -> str:
        return self.name


def program_scope(program_id: int) -> str:
    """The cache scope of a program's own rows: its engagements, their sessions and the
    answers about them. The program reports' figures are cached under its version
    (reports/selectors.py; docs/architecture.md, "Cached figures")."""
    return f"program:{program_id}"


def program_rows_changed(program_id: int) -> None:
    """The program's cached figures are out of date once this transaction commits.

    Called by every write to a program's engagements, sessions or feedback:
    transition_to, the session services, the participant import and feedback_release.
    """
    changed(program_scope(program_id))


@receiver(m2m_changed, sender=Program.coaches.through)
def _pool_changed(
    sender: Any, instance: Any, action: str, reverse: bool, pk_set: set[int] | None, **kwargs: Any
) -> None:
    """A program's pool is one of its rows (the report lists it): any change says so.

    Forward (program.coaches.add/set/remove/clear) the program is `instance`; reverse
    (coach.programs...) the programs are `pk_set`, or before a clear the coach's own.
    The coach import writes the pool in bulk and calls program_rows_changed itself.
    """
    if not reverse:
        if action in ("post_add", "post_remove", "post_clear"):
            program_rows_changed(instance.pk)
        return
    if action in ("post_add", "post_remove"):
        programs = pk_set or set()
    elif action == "pre_clear":
        programs = set(instance.programs.values_list("pk", flat=True))
    else:
        return
    for program_id in programs:
        program_rows_changed(program_id)


class Status(models.TextChoices):
    INVITED = "invited", "Invited"
    COACH_SELECTED = "coach_selected", "Coach selected"
    IN_PROGRESS = "in_progress", "In progress"
    ON_HOLD = "on_hold", "On hold"
    COMPLETED = "completed", "Completed"
    CANCELLED = "cancelled", "Cancelled"


# The only map of allowed status changes (docs/architecture.md, "Engagement states").
TRANSITIONS: dict[str, frozenset[str]] = {
    Status.INVITED: frozenset({Status.COACH_SELECTED, Status.CANCELLED}),
    Status.COACH_SELECTED: frozenset(
        {Status.INVITED, Status.IN_PROGRESS, Status.ON_HOLD, Status.COMPLETED, Status.CANCELLED}
    ),
    Status.IN_PROGRESS: frozenset(
        {
            Status.INVITED,
            Status.COACH_SELECTED,  # its only session was voided
            Status.ON_HOLD,
            Status.COMPLETED,
            Status.CANCELLED,
        }
    ),
    Status.ON_HOLD: frozenset(
        {
            Status.INVITED,
            Status.COACH_SELECTED,
            Status.IN_PROGRESS,
            Status.COMPLETED,
            Status.CANCELLED,
        }
    ),
    # Back from completed, or to coach_selected from in_progress, only when a
    # voided session takes the count below the allotment or to zero
    # (engagements/services.py, session_void).
    Status.COMPLETED: frozenset({Status.IN_PROGRESS, Status.COACH_SELECTED}),
    Status.CANCELLED: frozenset(),
}
ACTIVE_STATUSES = (Status.COACH_SELECTED, Status.IN_PROGRESS, Status.ON_HOLD)
WITH_COACH_STATUSES = (*ACTIVE_STATUSES, Status.COMPLETED)

# The timestamp stamped when an engagement enters each status.
_STAMPS = {
    Status.INVITED: "invited_at",
    Status.COACH_SELECTED: "coach_selected_at",
    Status.IN_PROGRESS: "started_at",
    Status.ON_HOLD: "on_hold_at",
    Status.COMPLETED: "completed_at",
    Status.CANCELLED: "cancelled_at",
}


class InvalidTransition(DomainError):
    code = "invalid_transition"
    message = "That change of status is not allowed."


class StaleEngagement(DomainError):
    code = "stale_engagement"
    message = "Someone else changed this engagement a moment ago. Reload and try again."


class Engagement(models.Model):
    """One participant in one program, with the coach once chosen."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    participant = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="engagements"
    )
    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="engagements")
    coach = models.ForeignKey(
        "coaches.CoachProfile",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="engagements",
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.INVITED)
    status_version = models.PositiveIntegerField(default=0)
    status_reason = models.CharField(max_length=500, blank=True)
    # Kept in step with the sessions by the code that logs them, in the same
    # transaction, so lists and the nightly nudge run need no per-row counting.
    sessions_logged = models.PositiveSmallIntegerField(default=0)
    last_session_on = models.DateField(null=True, blank=True)
    invited_at = models.DateTimeField(default=timezone.now)
    coach_selected_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    on_hold_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-invited_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["participant", "program"], name="one_engagement_per_participant_program"
            ),
            models.CheckConstraint(
                condition=Q(status__in=Status.values), name="engagement_status_valid"
            ),
            models.CheckConstraint(
                condition=~Q(status__in=WITH_COACH_STATUSES) | Q(coach__isnull=False),
                name="engagement_with_coach_has_coach",
            ),
            models.CheckConstraint(
                condition=~Q(status=Status.INVITED) | Q(coach__isnull=True),
                name="engagement_invited_has_no_coach",
            ),
        ]
        indexes = [
            models.Index(fields=["coach", "status"]),
            models.Index(fields=["program", "status"]),
            # A program's coaches and each one's engagements in it (the staff report).
            models.Index(fields=["program", "coach"], name="engagement_program_coach"),
        ]

    def __str__(self) -> str:
        return f"{self.participant} in {self.program}"

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES

    def can_transition_to(self, to: str) -> bool:
        return to in TRANSITIONS[self.status]

    def transition_refusal(self, to: str) -> str | None:
        """Why TRANSITIONS does not allow moving to `to`, in words; None if it does."""
        if self.can_transition_to(to):
            return None
        return (
            f"An engagement that is {self.get_status_display().lower()} "
            f"cannot become {Status(to).label.lower()}."
        )

    def transition_to(
        self,
        to: str,
        *,
        actor: User | None = None,
        reason: str = "",
        changes: dict[str, Any] | None = None,
        action: str | None = None,
        stamp: bool = True,
    ) -> None:
        """The only writer of `status`.

        Checks the transition table, writes status (and any `changes`, such as
        the coach) with a compare-and-set on status_version, stamps the entry
        time and records an audit event, all in one transaction that joins the
        caller's. Raises InvalidTransition or StaleEngagement; on either,
        nothing is written. `stamp=False` keeps the entry time the status
        already has (a move back, when a voided session lowers the count).
        """
        to = Status(to)
        refusal = self.transition_refusal(to)
        if refusal:
            raise InvalidTransition(refusal)
        changes = dict(changes or {})
        values: dict[str, Any] = {
            **changes,
            "status": to,
            "status_reason": reason,
        }
        if stamp:
            values[_STAMPS[to]] = timezone.now()
        before = self._audit_snapshot(values)
        with transaction.atomic():
            updated = Engagement.objects.filter(
                pk=self.pk, status_version=self.status_version
            ).update(status_version=F("status_version") + 1, **values)
            if updated != 1:
                raise StaleEngagement()
            for field, value in values.items():
                setattr(self, field, value)
            self.status_version += 1
            program_rows_changed(self.program_id)
            coach_load_changed()
            audit_record(
                action=action or f"engagement.{to}",
                obj=self,
                actor=actor,
                before=before,
                after=self._audit_snapshot(values),
            )

    def _audit_snapshot(self, values: dict[str, Any]) -> dict[str, Any]:
        snapshot: dict[str, Any] = {"status_version": self.status_version}
        for field in values:
            value = getattr(self, field)
            if isinstance(value, models.Model):
                value = str(getattr(value, "public_id", value.pk))
            elif field.endswith("_id") and value is not None:
                value = str(value)
            snapshot[field] = value.isoformat() if hasattr(value, "isoformat") else value
        return snapshot


class EngagementCoach(models.Model):
    """History of the coaches an engagement has had (a row per assignment)."""

    engagement = models.ForeignKey(
        Engagement, on_delete=models.CASCADE, related_name="coach_history"
    )
    coach = models.ForeignKey("coaches.CoachProfile", on_delete=models.PROTECT, related_name="+")
    assigned_at = models.DateTimeField(default=timezone.now)
    released_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["assigned_at"]
        # Not "engagement coachs": a row is one coach's time on the engagement.
        verbose_name = "coach assignment"
        verbose_name_plural = "coach history"
        constraints = [
            models.UniqueConstraint(
                fields=["engagement"],
                condition=Q(released_at__isnull=True),
                name="one_current_coach_per_engagement",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.coach} for {self.engagement}"


# How long a session may last, in minutes: the log form and the database check.
MIN_SESSION_MINUTES = 15
MAX_SESSION_MINUTES = 240


class Outcome(models.TextChoices):
    HELD = "held", "Held"
    NO_SHOW = "no_show", "No-show"
    LATE_CANCEL = "late_cancel", "Late cancellation"


def session_counted(path: str = "") -> Q:
    """The sessions that count (not voided), for a lookup `path` to a session ("sessions__").

    The one statement of which sessions count: the engagement's counters,
    reports, exports, nudges and feedback ask this (docs/architecture.md).
    """
    return Q(**{f"{path}voided_at__isnull": True})


class CoachingSessionQuerySet(models.QuerySet["CoachingSession"]):
    def counted(self) -> CoachingSessionQuerySet:
        """Leave out voided sessions: they stay as a record, but count nowhere."""
        return self.filter(session_counted())


class CoachingSession(models.Model):
    """One meeting logged by the coach. Notes are readable by that coach only.

    A session logged by mistake is voided, never deleted: it keeps its number
    (never reused) and counts nowhere (`counted()`).
    """

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    engagement = models.ForeignKey(Engagement, on_delete=models.CASCADE, related_name="sessions")
    coach = models.ForeignKey(
        "coaches.CoachProfile", on_delete=models.PROTECT, related_name="sessions"
    )
    number = models.PositiveSmallIntegerField()
    held_on = models.DateField()
    duration_minutes = models.PositiveSmallIntegerField()
    outcome = models.CharField(max_length=16, choices=Outcome.choices, default=Outcome.HELD)
    notes = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    # The one-time key of the form that logged it: a second submission of the
    # same form finds this session instead of logging another.
    submission_key = models.UUIDField(null=True, blank=True, unique=True, editable=False)
    voided_at = models.DateTimeField(null=True, blank=True)
    voided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    void_reason = models.CharField(max_length=500, blank=True)

    objects = CoachingSessionQuerySet.as_manager()

    class Meta:
        ordering = ["engagement", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["engagement", "number"], name="session_number_unique_per_engagement"
            ),
            models.CheckConstraint(condition=Q(number__gte=1), name="session_number_positive"),
            models.CheckConstraint(
                condition=Q(
                    duration_minutes__gte=MIN_SESSION_MINUTES,
                    duration_minutes__lte=MAX_SESSION_MINUTES,
                ),
                name="session_duration_within_limits",
            ),
            models.CheckConstraint(
                condition=Q(outcome__in=Outcome.values), name="session_outcome_valid"
            ),
            models.CheckConstraint(
                condition=Q(voided_at__isnull=True) | ~Q(void_reason=""),
                name="voided_session_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"Session {self.number} of {self.engagement}"

    @property
    def is_voided(self) -> bool:
        return self.voided_at is not None


# What a session counts as, everywhere (docs/architecture.md, "Rules and where
# they live"): "held" means outcome held; every logged session, held or not,
# uses up the allotment (a no-show or a late cancellation too). A voided session
# counts as neither (session_counted).


def held(prefix: str = "") -> Q:
    """Sessions that count as held, at lookup path `prefix` (e.g. "sessions__")."""
    return Q(**{f"{prefix}outcome": Outcome.HELD}) & session_counted(prefix)


def held_count(engagement: str = "pk") -> Coalesce:
    """SQL: the held sessions of the engagement at OuterRef(`engagement`), 0 when none."""
    counted = (
        CoachingSession.objects.filter(held(), engagement=OuterRef(engagement))
        .order_by()
        .values("engagement")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))
