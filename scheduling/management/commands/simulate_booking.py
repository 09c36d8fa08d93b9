"""Book a session as Calendly or Cal.com would: a signed delivery to the coach's receiver.

For the demo: the booking shows on the participant's home and the coach's workspace;
with --ended it is already over, so the coach confirms it with one click.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from accounts.models import normalize_email
from engagements.models import ACTIVE_STATUSES, Engagement
from scheduling import hooks
from scheduling.models import Provider, ScheduledSession
from scheduling.samples import body_of, calcom, calendly, invitee_uri, signed_headers
from scheduling.services import booking_endpoint_of


class Command(BaseCommand):
    help = (
        "Deliver a signed sample booking for a participant's engagement to its coach's "
        "webhook receiver, as Calendly or Cal.com would."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("participant", help="the participant's email address")
        parser.add_argument("--provider", choices=Provider.values, default=Provider.CALENDLY)
        parser.add_argument(
            "--in-days", type=int, default=2, help="days from now to the session (default 2)"
        )
        parser.add_argument("--minutes", type=int, default=60, help="length (default 60)")
        parser.add_argument(
            "--ended", action="store_true", help="a session that ended an hour ago, to confirm"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        """Build, sign and post one delivery through the receiver; print what it answered."""
        engagement = self._engagement(options["participant"])
        now = timezone.now().replace(minute=0, second=0, microsecond=0)
        minutes = options["minutes"]
        if not 1 <= minutes <= 480:
            raise CommandError("--minutes must be between 1 and 480.")
        if options["ended"]:
            start = now - timedelta(minutes=minutes + 60)
        else:
            start = now + timedelta(days=options["in_days"], hours=1)
        status, detail = self._deliver(engagement, options["provider"], start, minutes)
        if status != 200:
            raise CommandError(f"The receiver answered {status}: {detail}")
        booking = ScheduledSession.objects.filter(coach=engagement.coach).order_by("-pk").first()
        self.stdout.write(
            f"{Provider(options['provider']).label} booking for "
            f"{engagement.participant.full_name} with {engagement.coach}, "
            f"{start:%a %d %b %Y %H:%M} UTC, {minutes} min: {detail} "
            f"({booking.get_status_display() if booking else '?'})."
        )

    def _engagement(self, email: str) -> Engagement:
        engagement = (
            Engagement.objects.filter(
                participant__email=normalize_email(email),
                status__in=ACTIVE_STATUSES,
                coach__isnull=False,
            )
            .select_related("participant", "coach__user")
            .first()
        )
        if engagement is None:
            raise CommandError(
                "No active engagement with a coach for that participant "
                "(choose a coach first, e.g. as a demo participant in progress)."
            )
        return engagement

    def _deliver(
        self, engagement: Engagement, provider: str, start: datetime, minutes: int
    ) -> tuple[int, str]:
        assert engagement.coach is not None  # noqa: S101 - the query says so
        endpoint = booking_endpoint_of(engagement.coach)
        person = engagement.participant
        stamp = int(timezone.now().timestamp())
        if provider == Provider.CALENDLY:
            data = calendly(
                "invitee.created",
                invitee=invitee_uri(stamp % 10_000_000),
                start=start,
                minutes=minutes,
                email=person.email,
                name=person.full_name,
            )
        else:
            data = calcom(
                "BOOKING_CREATED",
                uid=f"demo-{stamp}",
                start=start,
                minutes=minutes,
                email=person.email,
                name=person.full_name,
            )
        body = body_of(data)
        path = reverse(f"scheduling:{provider}_hook", kwargs={"token": endpoint.token})
        request = RequestFactory().post(
            path,
            body,
            content_type="application/json",
            headers=signed_headers(provider, body, secret=endpoint.signing_secret),
        )
        view = hooks.calendly_hook if provider == Provider.CALENDLY else hooks.calcom_hook
        response = view(request, token=endpoint.token)
        return response.status_code, json.loads(response.content)["detail"]
