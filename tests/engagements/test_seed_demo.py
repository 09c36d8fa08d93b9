from __future__ import annotations

import re
from collections.abc import Callable
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.cache import cache
from django.core.mail import EmailMultiAlternatives
from django.core.management import call_command
from django.db.models import Count, Max, Min, Q
from django.test import Client
from PIL import Image
from pytest_django import Settings

from accounts.models import AuditEvent, User
from coaches.models import CoachProfile
from config.mail import mailers_from_url
from engagements.models import ACTIVE_STATUSES, CoachingSession, Engagement, Program, Status

pytestmark = pytest.mark.django_db


def _counts() -> dict[str, int]:
    models = [User, CoachProfile, Program, Engagement, CoachingSession, AuditEvent]
    return {m.__name__: m._default_manager.count() for m in models}


def test_seed_demo_builds_the_program_and_is_idempotent(client: Client) -> None:
    out = StringIO()
    call_command("seed_demo", stdout=out)
    first = _counts()
    call_command("seed_demo", stdout=StringIO())
    assert _counts() == first

    program = Program.objects.get()
    assert program.engagements.count() == 400
    assert program.coaches.count() == 35
    assert set(program.engagements.values_list("status", flat=True)) == set(Status.values)
    assert CoachingSession.objects.exists()
    assert "participant" in out.getvalue() and "staff" in out.getvalue()
    # Every coach has a drawn portrait, stored like an upload; the second run added none.
    names = set(CoachProfile.objects.values_list("photo", flat=True))
    assert len(names) == 35 and "" not in names
    media = Path(settings.MEDIA_ROOT)
    assert {str(path.relative_to(media)) for path in media.rglob("*.jpg")} == names
    a_coach = CoachProfile.objects.first()
    assert a_coach is not None
    photo = a_coach.photo
    response = client.get(photo.url)
    assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"
    with Image.open(photo.path) as image:
        assert (image.format, image.size) == ("JPEG", (128, 128))


def _loads() -> dict[int, tuple[int, int]]:
    """Each coach's active engagements and capacity, counted here, not by the app."""
    rows = CoachProfile.objects.annotate(
        active=Count("engagements", filter=Q(engagements__status__in=ACTIVE_STATUSES))
    ).values_list("pk", "active", "capacity")
    return {pk: (active, capacity) for pk, active, capacity in rows}


def _over_capacity() -> list[int]:
    return [pk for pk, (active, capacity) in _loads().items() if active > capacity]


def test_seeded_coaches_are_within_capacity() -> None:
    call_command("seed_demo", stdout=StringIO())
    loads = _loads()

    assert len(loads) == 35
    assert all(8 <= capacity <= 15 for _, capacity in loads.values())
    assert sum(active for active, _ in loads.values()) > 0
    assert _over_capacity() == []
    # The check sees a breach: the busiest coach, one engagement over a lowered capacity.
    busiest = max(loads, key=lambda pk: loads[pk][0])
    CoachProfile.objects.filter(pk=busiest).update(capacity=loads[busiest][0] - 1)
    assert _over_capacity() == [busiest]


def test_seeded_sessions_go_through_the_session_service() -> None:
    call_command("seed_demo", stdout=StringIO())
    program = Program.objects.get()
    engagements = Engagement.objects.annotate(
        n=Count("sessions"), first=Min("sessions__held_on"), last=Max("sessions__held_on")
    )
    for engagement in engagements:
        assert engagement.sessions_logged == engagement.n
        assert engagement.last_session_on == engagement.last
        if engagement.n:
            assert engagement.first >= program.starts_on
    completed = engagements.filter(status=Status.COMPLETED)
    assert all(e.n == program.sessions_per_engagement for e in completed)
    assert not engagements.filter(status=Status.COACH_SELECTED, n__gt=0).exists()
    assert AuditEvent.objects.filter(action="session.logged").count() == (
        CoachingSession.objects.count()
    )
    assert AuditEvent.objects.filter(action="engagement.completed").count() == completed.count()


def _printed_accounts(output: str) -> dict[str, str]:
    """The demo's sign-in list as printed: {what they show: email}."""
    lines = output.split("Demo sign-in emails", 1)[1].splitlines()[1:]
    return dict(line.strip().rsplit(None, 1) for line in lines if line.startswith("  "))


def test_each_demo_account_signs_in_and_sees_its_state(
    mailoutbox: list[EmailMultiAlternatives], run_worker: Callable[[], int]
) -> None:
    """Every person the quick start prints signs in with the emailed code (the real
    flow) and lands on the page that shows what they were printed for."""
    out = StringIO()
    call_command("seed_demo", stdout=out)
    accounts = _printed_accounts(out.getvalue())
    # What each one's home page must show, and a link (a pattern) to follow from it.
    expected = {
        "participant, invited: choose a coach": ("Choose your coach", "/coaches/"),
        "participant, coach chosen: book a session": ("Book your session", None),
        "participant, in progress: rate a session": ("Rate your sessions", None),
        "participant, completed: the closing survey": (
            "Answer the closing survey",
            "/engagements/[0-9a-f-]+/survey/",
        ),
        "coach (of the participant in progress)": ("Your engagements", None),
        "staff: ops dashboard and admin": ("Ops dashboard", "/admin/"),
        "sponsor: program reports": ("Your coaching programs", None),
    }
    assert list(accounts) == list(expected)
    assert len(set(accounts.values())) == len(accounts)
    cache.clear()  # the sign-in limits count in the cache

    for label, email in accounts.items():
        browser = Client()
        browser.post("/login/", {"email": email})
        run_worker()
        sent = re.search(r"\b(\d{6})\b", str(mailoutbox[-1].body))
        assert sent, label
        code = sent.group(1)
        assert mailoutbox[-1].to == [email], label
        home = browser.post("/login/code/", {"code": code}, follow=True)

        words, link = expected[label]
        assert home.status_code == 200, label
        assert words in home.content.decode(), label
        if link is not None:
            target = re.search(f'href="({link})"', home.content.decode())
            assert target, f"{label}: no link to {link}"
            assert browser.get(target.group(1)).status_code == 200, label

    in_progress = User.objects.get(email=accounts["participant, in progress: rate a session"])
    coach = User.objects.get(email=accounts["coach (of the participant in progress)"])
    their_coach = Engagement.objects.get(participant=in_progress).coach
    assert their_coach is not None and their_coach.user == coach


def test_run_nudges_in_the_demo_prints_a_summary_and_each_email_is_one_line(
    settings: Settings,
    capsys: pytest.CaptureFixture[str],
    run_worker: Callable[[], int],
) -> None:
    call_command("seed_demo", stdout=StringIO())
    settings.MAILERS = mailers_from_url("compactconsolemail://")  # the demo's .env
    out = StringIO()

    call_command("run_nudges", "--force", stdout=out)
    sent = run_worker()

    summary = out.getvalue().splitlines()
    assert len(summary) == 3  # the program, the reminders, the outcome
    assert summary[1].startswith(f"Reminders: {sent} email(s) sent")
    assert "@" not in out.getvalue()
    printed = capsys.readouterr().out.splitlines()
    assert sent > 100 and len(printed) == sent
    assert all(re.fullmatch(r"To \S+@\S+: .+", line) for line in printed)
