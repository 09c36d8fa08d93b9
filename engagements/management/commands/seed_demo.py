"""Create the demo data set: one organization, one running program, 35 coaches
(each with a drawn portrait as their photo), 400 participants with engagements in
every state and sessions logged.

Idempotent: a second run finds the data in place and changes nothing.
"""

from __future__ import annotations

import io
from datetime import date, timedelta
from typing import Any

from django.core.files.base import ContentFile
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone
from PIL import Image, ImageDraw

from accounts.models import Role, User
from coaches.models import CoachProfile, Language, Specialty
from coaches.photos import photo_reencode
from engagements.management import demo_data as d
from engagements.models import (
    Engagement,
    EngagementCoach,
    Organization,
    Outcome,
    Program,
    Status,
)
from engagements.services import engagement_put_on_hold, session_log

ORG_NAME = "Northwind Group"
PROGRAM_NAME = "Northwind Leadership Coaching 2026"
STAFF_EMAIL = "ops@coachdesk.example"
SPONSOR_EMAIL = "hr.lead@northwind.example"
N_COACHES = 35
N_PARTICIPANTS = 400
# (status, how many) in participant order; index 0 stays invited for the demo.
PLAN = [
    (Status.INVITED, 130),
    (Status.COACH_SELECTED, 60),
    (Status.IN_PROGRESS, 120),
    (Status.ON_HOLD, 20),
    (Status.COMPLETED, 55),
    (Status.CANCELLED, 15),
]


def _name(i: int) -> str:
    first = d.FIRST_NAMES[i % len(d.FIRST_NAMES)]
    last = d.LAST_NAMES[(i * 7 + i // len(d.FIRST_NAMES)) % len(d.LAST_NAMES)]
    return f"{first} {last}"


def _avatar(i: int) -> ContentFile[bytes]:
    """A drawn head-and-shoulders portrait, stored through the same path as an upload."""
    backgrounds = ["#dbe7f3", "#f3e3d3", "#e0f0e3", "#efe0f0", "#f5efd6", "#dfe9ea"]
    skins = ["#f1c9a5", "#e0ac7e", "#c68958", "#a0673f", "#7a4a2a", "#f6d7c3"]
    hairs = ["#2b1d14", "#5a3b22", "#b07a3c", "#d9c7a0", "#1c1c1c", "#8a8a8a", "#7b2d1a"]
    shirts = ["#33658a", "#86bbd8", "#758e4f", "#f6ae2d", "#f26419", "#6d597a", "#2f4858"]
    image = Image.new("RGB", (256, 256), backgrounds[i % len(backgrounds)])
    draw = ImageDraw.Draw(image)
    draw.ellipse((38, 178, 218, 338), fill=shirts[i % len(shirts)])  # shoulders
    draw.rectangle((110, 150, 146, 190), fill=skins[i % len(skins)])  # neck
    draw.ellipse((76, 54, 180, 170), fill=skins[i % len(skins)])  # face
    hair = hairs[(i * 3) % len(hairs)]
    draw.chord((70, 40, 186, 140), 180, 360, fill=hair)  # hair
    if i % 3 == 0:
        draw.rectangle((70, 88, 84, 150), fill=hair)  # longer hair
        draw.rectangle((172, 88, 186, 150), fill=hair)
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return photo_reencode(upload=ContentFile(buffer.getvalue(), name="avatar.png"))


def _slug(name: str, i: int) -> str:
    ascii_name = name.lower().encode("ascii", "ignore").decode().replace(" ", ".")
    return f"{ascii_name}.{i}"


class Command(BaseCommand):
    help = "Create the demo organization, program, coaches and participants (idempotent)."

    def handle(self, *args: Any, **options: Any) -> None:
        today = timezone.localdate()
        if Organization.objects.filter(name=ORG_NAME).exists():
            self.stdout.write("Demo data already present; nothing changed.")
        else:
            with transaction.atomic():
                self._seed(today)
            self.stdout.write(self.style.SUCCESS("Demo data created."))
        self._print_accounts()

    def _seed(self, today: date) -> None:
        staff = User.objects.create_user(STAFF_EMAIL, full_name="Olivia Grant", role=Role.STAFF)
        sponsor = User.objects.create_user(
            SPONSOR_EMAIL, full_name="Marcus Bell", role=Role.SPONSOR
        )
        org = Organization.objects.create(name=ORG_NAME)
        org.sponsors.add(sponsor)
        program = Program.objects.create(
            organization=org,
            name=PROGRAM_NAME,
            starts_on=today - timedelta(days=90),
            ends_on=today + timedelta(days=95),
        )
        coaches = self._coaches()
        program.coaches.set(coaches)
        self._engagements(program, coaches, staff, today)

    def _coaches(self) -> list[CoachProfile]:
        specialties = [Specialty.objects.create(name=n) for n in d.SPECIALTIES]
        languages = [Language.objects.create(code=c, name=n) for c, n in d.LANGUAGES]
        coaches = []
        for i in range(N_COACHES):
            name = _name(i * 11 + 3)
            user = User.objects.create_user(
                f"{_slug(name, i)}@coaches.example", full_name=name, role=Role.COACH
            )
            coach = CoachProfile.objects.create(
                user=user,
                headline=d.HEADLINES[i % len(d.HEADLINES)],
                bio=d.BIO.format(n=40 + i * 7, years=5 + i % 12, field=d.FIELDS[i % 5]),
                time_zone=d.TIME_ZONES[i % len(d.TIME_ZONES)],
                booking_url=f"https://cal.example.com/{_slug(name, i)}",
                capacity=8 + (i * 5) % 8,
                accepting_new=i % 9 != 8,
                photo=_avatar(i),
            )
            coaches.append(coach)
        # Their specialties and languages in two statements rather than two per coach.
        CoachProfile.specialties.through.objects.bulk_create(
            CoachProfile.specialties.through(
                coachprofile=coach, specialty=specialties[(i + k * 3) % len(specialties)]
            )
            for i, coach in enumerate(coaches)
            for k in range(3)
        )
        CoachProfile.languages.through.objects.bulk_create(
            CoachProfile.languages.through(coachprofile=coach, language=language)
            for i, coach in enumerate(coaches)
            for language in {languages[0], languages[1 + i % (len(languages) - 1)]}
        )
        return coaches

    def _engagements(
        self, program: Program, coaches: list[CoachProfile], staff: User, today: date
    ) -> None:
        statuses = [status for status, count in PLAN for _ in range(count)]
        load = dict.fromkeys((c.pk for c in coaches), 0)
        cursor = 0
        for i, target in enumerate(statuses):
            name = _name(i)
            user = User.objects.create_user(
                f"{_slug(name, i)}@northwind.example", full_name=name, role=Role.PARTICIPANT
            )
            engagement = Engagement.objects.create(participant=user, program=program)
            if target in (Status.INVITED, Status.CANCELLED):
                if target == Status.CANCELLED:
                    engagement.transition_to(Status.CANCELLED, actor=staff, reason="Left company")
                self._backdate(engagement, invited_days=3 + i % 20)
                continue
            while load[coaches[cursor % N_COACHES].pk] >= coaches[cursor % N_COACHES].capacity:
                cursor += 1
            coach = coaches[cursor % N_COACHES]
            cursor += 1
            load[coach.pk] += target != Status.COMPLETED
            self._walk(engagement, coach, target, staff, today, i)

    def _walk(
        self,
        engagement: Engagement,
        coach: CoachProfile,
        target: Status,
        staff: User,
        today: date,
        i: int,
    ) -> None:
        """Move one engagement to `target` the way it would have got there."""
        participant = engagement.participant
        engagement.transition_to(Status.COACH_SELECTED, actor=participant, changes={"coach": coach})
        EngagementCoach.objects.create(engagement=engagement, coach=coach)
        allot = engagement.program.sessions_per_engagement
        count = {Status.IN_PROGRESS: 1 + i % 5, Status.ON_HOLD: 1 + i % 3}.get(target, 0)
        if target == Status.COMPLETED:
            count = allot  # the last session logged completes the engagement
        if count:
            last_gap = 45 if i % 6 == 0 else 4 + i % 20  # some stall past 30 days
            self._log_sessions(engagement, coach, count, today - timedelta(days=last_gap))
        if target == Status.ON_HOLD:
            engagement_put_on_hold(engagement=engagement, actor=staff, reason="Parental leave")
        self._backdate(engagement, invited_days=40 + i % 30, selected_days=10 + i % 25)

    def _log_sessions(
        self, engagement: Engagement, coach: CoachProfile, count: int, last: date
    ) -> None:
        """Log sessions the way a coach does, so numbers, counters and states follow."""
        starts_on = engagement.program.starts_on
        spacing = min(14, (last - starts_on).days // max(count - 1, 1))
        for n in range(1, count + 1):
            session_log(
                engagement=engagement,
                coach=coach,
                held_on=last - timedelta(days=spacing * (count - n)),
                duration_minutes=(45, 60, 60, 90)[n % 4],
                outcome=Outcome.NO_SHOW if (n + engagement.pk) % 11 == 0 else Outcome.HELD,
                notes=d.NOTES[n % len(d.NOTES)],
                # A short demo history may put two sessions on one day.
                confirm_same_date=True,
            )

    def _backdate(
        self, engagement: Engagement, *, invited_days: int, selected_days: int | None = None
    ) -> None:
        """Spread the demo over past weeks so dashboards and nudges have something to show."""
        now = timezone.now()
        values: dict[str, Any] = {"invited_at": now - timedelta(days=invited_days)}
        if selected_days is not None:
            values["coach_selected_at"] = now - timedelta(days=min(selected_days, invited_days))
        Engagement.objects.filter(pk=engagement.pk).update(**values)

    def _print_accounts(self) -> None:
        self.stdout.write("\nDemo sign-in emails (the code is printed here when you ask):")
        for label, email in demo_accounts():
            self.stdout.write(f"  {label:<45} {email}")


def demo_accounts() -> list[tuple[str, str]]:
    """Whom to sign in as to see each state: (what they show, email address).

    A participant per state worth trying (the in-progress one has a held session
    to rate; the completed one has the closing survey to answer: the demo seeds
    no feedback), the in-progress participant's coach, staff and the sponsor.
    """
    engagements = (
        Engagement.objects.filter(program__name=PROGRAM_NAME)
        .select_related("participant", "coach__user")
        .order_by("pk")
    )
    in_progress = (
        engagements.filter(status=Status.IN_PROGRESS, sessions__outcome=Outcome.HELD)
        .distinct()
        .first()
    )
    first = {
        "participant, invited: choose a coach": engagements.filter(status=Status.INVITED).first(),
        "participant, coach chosen: book a session": engagements.filter(
            status=Status.COACH_SELECTED
        ).first(),
        "participant, in progress: rate a session": in_progress,
        "participant, completed: the closing survey": engagements.filter(
            status=Status.COMPLETED
        ).first(),
    }
    rows = [(label, e.participant.email) for label, e in first.items() if e is not None]
    if in_progress is not None and in_progress.coach is not None:
        rows.append(("coach (of the participant in progress)", in_progress.coach.user.email))
    rows.append(("staff: ops dashboard and admin", STAFF_EMAIL))
    rows.append(("sponsor: program reports", SPONSOR_EMAIL))
    return rows
