"""Whose clock a booking is shown on (docs/architecture.md, "Bookings").

Participants see times in their organization's time zone (Organization.time_zone):
the browser's zone would need script or a stored preference per person, and a
program's participants work for one organization, usually in one place. Coaches
see times in their own profile's time zone (CoachProfile.time_zone), since they
coach across organizations.
"""

from __future__ import annotations

import zoneinfo

from coaches.models import CoachProfile
from engagements.models import Engagement


def participant_time_zone(engagement: Engagement) -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(engagement.program.organization.time_zone)


def coach_time_zone(coach: CoachProfile) -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(coach.time_zone)
