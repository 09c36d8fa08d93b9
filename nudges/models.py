from __future__ import annotations

from typing import Any

from django.db import models
from django.db.models import Q
from django.utils import timezone


class FlagKind(models.TextChoices):
    NO_COACH_SELECTED = "no_coach_selected", "No coach selected"
    NO_FIRST_SESSION = "no_first_session", "No first session"
    STALLED = "stalled", "Stalled"
    BEHIND_SCHEDULE = "behind_schedule", "Behind schedule"
    UNCONFIRMED_SESSION = "unconfirmed_session", "Booked session not confirmed"


class NudgeFlag(models.Model):
    """An open (or resolved) problem on an engagement, raised by the daily run."""

    engagement = models.ForeignKey(
        "engagements.Engagement", on_delete=models.CASCADE, related_name="flags"
    )
    # The engagement's program (which never changes), stored so that the run and
    # the dashboard read open flags by program without joining engagements; set
    # by save() and by the run's INSERT. The partial index below serves both.
    program = models.ForeignKey(
        "engagements.Program", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    kind = models.CharField(max_length=32, choices=FlagKind.choices)
    raised_at = models.DateTimeField(default=timezone.now)
    resolved_at = models.DateTimeField(null=True, blank=True)
    # notified_at: every reminder this flag calls for has been delivered. The
    # two per-recipient stamps let a run retry only the message that failed,
    # so nobody receives the same reminder twice.
    notified_at = models.DateTimeField(null=True, blank=True)
    participant_notified_at = models.DateTimeField(null=True, blank=True)
    coach_notified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-raised_at"]
        constraints = [
            # The one guarantee of a single open flag per engagement and kind, even
            # without the run lock (docs/architecture.md, "Rules and where they live").
            models.UniqueConstraint(
                fields=["engagement", "kind"],
                condition=Q(resolved_at__isnull=True),
                name="one_open_flag_per_engagement_kind",
            ),
            models.CheckConstraint(
                condition=Q(kind__in=FlagKind.values), name="nudge_flag_kind_valid"
            ),
        ]
        indexes = [
            models.Index(fields=["kind", "resolved_at"]),
            # Open flags by program and kind: the run's resolve and raise, the
            # dashboard's summary (an index-only scan with raised_at).
            models.Index(
                fields=["program", "kind", "raised_at"],
                condition=Q(resolved_at__isnull=True),
                name="open_flag_program_kind",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on {self.engagement_id}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.program_id is None:
            self.program_id = self.engagement.program_id
        super().save(*args, **kwargs)


class NudgeRun(models.Model):
    """One invocation of run_nudges: when, for which day, what it did and how it ended."""

    class Outcome(models.TextChoices):
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"
        SKIPPED = "skipped", "Skipped"

    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    as_of = models.DateField()
    forced = models.BooleanField(default=False)
    outcome = models.CharField(max_length=16, choices=Outcome.choices, default=Outcome.RUNNING)
    raised = models.PositiveIntegerField(default=0)
    resolved = models.PositiveIntegerField(default=0)
    open_flags = models.PositiveIntegerField(default=0)
    emails_sent = models.PositiveIntegerField(default=0)
    detail = models.TextField(blank=True)

    class Meta:
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"Nudge run {self.started_at:%Y-%m-%d %H:%M} ({self.outcome})"
