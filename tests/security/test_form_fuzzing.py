"""Property-based fuzzing of every form, through the real views with the test client.

Each form gets arbitrary text, huge values and odd unicode (NUL, right-to-left
marks, emoji, zero-width and byte-order marks, 10,000-character strings; no
surrogates, which UTF-8 cannot carry), mixed with valid values so that valid
writes happen too. The properties: never a 500 (the test client raises the
view's exception); an error answer writes nothing (row counts of every domain
table unchanged); a success writes exactly the expected rows and values.

Each example runs in a savepoint that is rolled back, so examples do not see
each other's writes. Hypothesis is derandomized (the same examples on every
run, so CI is repeatable) and keeps no example database.
"""

from __future__ import annotations

import re
import secrets
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.core.cache import cache
from django.db import transaction
from django.http import HttpResponseRedirect
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from zeal import zeal_context

from accounts.models import SignInRequest, hash_code
from accounts.redirects import safe_next
from accounts.views import PENDING_TOKEN
from coaches.forms import CoachProfileForm
from coaches.models import CoachProfile
from engagements.forms import SessionForm, session_submission_key
from engagements.models import (
    MAX_SESSION_MINUTES,
    MIN_SESSION_MINUTES,
    CoachingSession,
    Engagement,
    Status,
)
from feedback.models import ClosingSurvey, ReleasedFeedback, SessionRating
from reports.forms import MAX_PAGE
from tests import factories
from tests.security.world import World, build_world, count_changes, row_counts

pytestmark = pytest.mark.django_db

FUZZ = settings(
    max_examples=30,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,  # the world is built once, examples roll back
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)

ODD = [
    "",
    " ",
    "\x00",
    "a\x00b",
    "\u202eevil\u202c",  # right-to-left override
    "\u200f\u200e",  # right-to-left and left-to-right marks
    "\u200b\ufeff",  # zero-width space, byte-order mark
    "😀🏳️‍🌈👩🏽‍💻",
    "x" * 10_000,
    "é" * 5_001,
    "\r\n\t",
    "0",
    "-1",
    "1e309",
    "99999999999999999999999999",
    "NaN",
    "<script>alert(1)</script>",
    "'; DROP TABLE accounts_user; --",
    '=HYPERLINK("https://evil.example")',
    "../../etc/passwd",
    "%00",
    "null",
]
any_text = st.characters(codec="utf-8")  # every code point UTF-8 can encode (no surrogates)
fuzz = st.one_of(
    st.sampled_from(ODD),
    st.text(any_text, max_size=200),
    st.builds(lambda s, n: s * n, st.text(any_text, min_size=1, max_size=3), st.integers(1, 4000)),
)


@contextmanager
def one_example() -> Iterator[None]:
    """One example: a savepoint rolled back afterwards, and its own django-zeal scope
    (examples repeat the same reads, which is not an N+1)."""
    with zeal_context(), transaction.atomic():
        yield
        transaction.set_rollback(True)


def _in_savepoint(request: Any) -> tuple[Any, dict[str, int]]:
    """Run one request as one example; return its response and the row counts it changed."""
    with one_example():
        before = row_counts()
        response = request()
        changes = count_changes(before, row_counts())
    return response, changes


@pytest.fixture
def world() -> World:
    cache.clear()
    return build_world()


def _client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


# --- sign-in ---------------------------------------------------------------------


@FUZZ
@given(email=st.one_of(fuzz, st.emails().map(str)), next_url=st.one_of(fuzz, st.just("/coach/")))
@example(email="a\x00b@example.com", next_url="/\x00")
@example(email="x" * 10_000, next_url="\u202e")
@example(email="nobody@example.com", next_url="/a\x00b")
def test_login_form_never_fails_and_writes_nothing(world: World, email: str, next_url: str) -> None:
    cache.clear()  # rate-limit counters
    client = Client()
    response, changes = _in_savepoint(
        lambda: client.post(reverse("accounts:login"), {"email": email, "next": next_url})
    )
    assert response.status_code in (200, 302)
    if response.status_code == 302:
        assert response["Location"] == reverse("accounts:login_code")
    # Unknown addresses write nothing; the world's people never match random text.
    assert changes == {}


@FUZZ
@given(candidate=fuzz)
@example(candidate="/\x00")
@example(candidate="/\\evil.example")
@example(candidate="abc")
def test_a_next_address_is_same_site_or_dropped(candidate: str) -> None:
    request = RequestFactory().get("/login/")
    target = safe_next(request, candidate)
    if target:
        response = HttpResponseRedirect(target)  # must not raise on odd characters
        location = urlsplit(response["Location"])
        assert not location.scheme and not location.netloc


@FUZZ
@given(code=st.one_of(fuzz, st.from_regex(r"\A[0-9]{6}\Z"), st.from_regex(r"\A[0-9 ]{1,12}\Z")))
@example(code="12\x0034")
@example(code="\x00" * 6)
@example(code="123456")
def test_code_form_never_fails_and_a_wrong_code_only_counts_a_failure(
    world: World, code: str
) -> None:
    cache.clear()
    client = Client()
    token = secrets.token_urlsafe(32)
    SignInRequest.objects.create(
        token=token,
        user=world.participant,
        code_hash=hash_code(token=token, code="never-sent"),
        valid_until=timezone.now() + timedelta(minutes=10),
    )
    session = client.session
    session[PENDING_TOKEN] = token
    session.save()
    response, changes = _in_savepoint(
        lambda: client.post(reverse("accounts:login_code"), {"code": code})
    )
    # No code was emailed in this world, so no guess can be right.
    assert response.status_code == 200
    digits = "".join(code.split())
    if len(digits) == 6 and digits.isascii() and digits.isdigit():
        # The failure count of this pending sign-in, and signin.failure (and used-up).
        assert set(changes) <= {"accounts.AuditEvent", "accounts.SignInRequest"}
    else:
        assert changes == {}


# --- the coach directory (GET filters and excludes) -------------------------------


@pytest.fixture
def chooser(world: World) -> Any:
    """A participant still choosing, in a program whose coach has a language and specialty."""
    world.coach.languages.add(factories.LanguageFactory())
    world.coach.specialties.add(factories.SpecialtyFactory())
    return factories.EngagementFactory(program=world.program).participant


@FUZZ
@example(language="\x00", specialty="\x00", exclude=["\x00"])
@example(language="en", specialty="1" * 30, exclude=[str(uuid.UUID(int=0))] * 3)
@given(
    language=st.one_of(fuzz, st.just("en")),
    specialty=st.one_of(fuzz, st.integers(-(2**70), 2**70).map(str)),
    exclude=st.lists(st.one_of(fuzz, st.uuids().map(str)), max_size=4),
)
def test_directory_filters_never_fail_and_write_nothing(
    chooser: Any, language: str, specialty: str, exclude: list[str]
) -> None:
    client = _client_for(chooser)
    params = {"language": language, "specialty": specialty, "exclude": exclude}
    response, changes = _in_savepoint(lambda: client.get(reverse("directory"), params))
    assert response.status_code in (200, 400)
    if len(exclude) > 3:
        assert response.status_code == 400
    assert changes == {}


# --- the coach's profile ---------------------------------------------------------


@FUZZ
@example(
    headline="a\x00",
    bio="\x00",
    time_zone="Europe/Paris",
    booking_url="https://cal.example.com/\x00",
    accepting_new="on",
    specialties=["\x00"],
)
@example(
    headline="\u202eémoji 😀",
    bio="x" * 10_000,
    time_zone="Asia/Tokyo",
    booking_url="https://cal.example.com/me",
    accepting_new="",
    specialties=[],
)
@given(
    headline=fuzz,
    bio=fuzz,
    time_zone=st.one_of(fuzz, st.sampled_from(["Europe/Paris", "Asia/Tokyo", "UTC"])),
    booking_url=st.one_of(fuzz, st.just("https://cal.example.com/me"), st.just("http://x.test")),
    accepting_new=st.one_of(fuzz, st.just("on")),
    specialties=st.lists(st.one_of(fuzz, st.integers(-(2**70), 2**70).map(str)), max_size=3),
)
def test_profile_form_writes_exactly_the_coachs_own_profile_or_nothing(
    world: World, **data: Any
) -> None:
    coach = world.coach
    client = _client_for(coach.user)
    with one_example():
        form = CoachProfileForm(data, instance=CoachProfile.objects.get(pk=coach.pk))
        valid = form.is_valid()
        before = row_counts()
        other_before = CoachProfile.objects.filter(pk=world.other_coach.pk).values().get()
        response = client.post(reverse("coaches:profile"), data)
        changes = count_changes(before, row_counts())
        saved = CoachProfile.objects.get(pk=coach.pk)
        saved_specialties = set(saved.specialties.all())
        other_after = CoachProfile.objects.filter(pk=world.other_coach.pk).values().get()
    assert other_after == other_before
    if not valid:
        assert response.status_code == 200 and changes == {}
        assert saved.headline == coach.headline and saved.updated_at == coach.updated_at
        return
    assert response.status_code == 302
    assert set(changes) <= {"accounts.AuditEvent", "coaches.CoachProfile_specialties"}
    assert changes.get("accounts.AuditEvent") == 1
    cleaned = form.cleaned_data
    assert (saved.headline, saved.bio, saved.time_zone, saved.booking_url) == (
        cleaned["headline"],
        cleaned["bio"],
        cleaned["time_zone"],
        cleaned["booking_url"],
    )
    assert saved.accepting_new is cleaned["accepting_new"]
    assert saved_specialties == set(cleaned["specialties"])


# --- sessions: log and correct ---------------------------------------------------

TODAY = timezone.localdate().isoformat()
session_fields = {
    "held_on": st.one_of(
        fuzz,
        st.integers(0, 40).map(lambda n: (timezone.localdate() - timedelta(days=n)).isoformat()),
        st.dates().map(date.isoformat),
    ),
    "duration_minutes": st.one_of(
        fuzz, st.integers(MIN_SESSION_MINUTES, MAX_SESSION_MINUTES).map(str), st.integers().map(str)
    ),
    "outcome": st.one_of(fuzz, st.sampled_from(["held", "no_show", "late_cancel"])),
    "notes": fuzz,
}


def session_fuzz(test: Callable[..., None]) -> Callable[..., None]:
    """The session log and correction forms share fields, so they share their fuzzing:
    a NUL in the notes, the notes length limit either side, and NUL everywhere."""
    test = given(**session_fields)(test)
    for case in (
        {"held_on": TODAY, "duration_minutes": "60", "outcome": "held", "notes": "a\x00b"},
        {"held_on": TODAY, "duration_minutes": "60", "outcome": "no_show", "notes": "x" * 10_000},
        {"held_on": TODAY, "duration_minutes": "60", "outcome": "held", "notes": "x" * 10_001},
        {"held_on": "\x00", "duration_minutes": "\x00", "outcome": "\x00", "notes": "\u202e😀"},
    ):
        test = example(**case)(test)
    return FUZZ(test)


def _session_form(world: World, data: dict[str, Any]) -> SessionForm:
    return SessionForm(
        data, program=world.program, today=timezone.localdate(timezone=world_coach_zone(world))
    )


def world_coach_zone(world: World) -> Any:
    import zoneinfo

    return zoneinfo.ZoneInfo(world.coach.time_zone)


@session_fuzz
def test_session_log_form_writes_one_session_or_nothing(world: World, **data: Any) -> None:
    client = _client_for(world.coach.user)
    url = reverse("coach_engagement", kwargs={"public_id": world.engagement.public_id})
    with one_example():
        form = _session_form(world, data)
        valid = form.is_valid()
        before = row_counts()
        # As the page would post it: a fresh one-time key, a second session on a date confirmed.
        key = session_submission_key(world.engagement)
        response = client.post(url, {**data, "submission_key": key, "confirm_same_date": "on"})
        changes = count_changes(before, row_counts())
        latest = CoachingSession.objects.filter(engagement=world.engagement).order_by("number")
        sessions = list(latest)
    if not valid:
        assert response.status_code == 400 and changes == {}
        return
    assert response.status_code == 302
    assert changes.pop("engagements.CoachingSession") == 1
    assert set(changes) == {"accounts.AuditEvent"}
    new = sessions[-1]
    cleaned = form.cleaned_data
    assert (new.number, new.held_on, new.duration_minutes, new.outcome, new.notes) == (
        2,
        cleaned["held_on"],
        cleaned["duration_minutes"],
        cleaned["outcome"],
        cleaned["notes"],
    )


@FUZZ
@given(key=fuzz, confirm=fuzz)
@example(key="0f2b7c2e5a8d4d6c9b1a3e5f7d9c1b2a:forged", confirm="on")
def test_session_log_form_with_a_fuzzed_key_saves_nothing(
    world: World, key: str, confirm: str
) -> None:
    """Anything but a key this site signed for this engagement's form is refused (400)."""
    client = _client_for(world.coach.user)
    url = reverse("coach_engagement", kwargs={"public_id": world.engagement.public_id})
    data = {"held_on": TODAY, "duration_minutes": "60", "outcome": "held", "notes": "n"}
    response, changes = _in_savepoint(
        lambda: client.post(url, {**data, "submission_key": key, "confirm_same_date": confirm})
    )
    assert response.status_code == 400 and changes == {}


@session_fuzz
def test_session_correction_form_changes_that_session_or_nothing(world: World, **data: Any) -> None:
    client = _client_for(world.coach.user)
    url = reverse(
        "coach_session_edit",
        kwargs={"public_id": world.engagement.public_id, "session_id": world.session.public_id},
    )
    with one_example():
        form = _session_form(world, data)
        valid = form.is_valid()
        original = CoachingSession.objects.values().get(pk=world.session.pk)
        before = row_counts()
        response = client.post(url, data)
        changes = count_changes(before, row_counts())
        after = CoachingSession.objects.values().get(pk=world.session.pk)
    if not valid:
        assert response.status_code == 400 and changes == {} and after == original
        return
    assert response.status_code == 302
    assert set(changes) <= {"accounts.AuditEvent"}
    cleaned = form.cleaned_data
    assert {k: v for k, v in after.items() if k in cleaned} == cleaned


@FUZZ
@given(status=st.one_of(fuzz, st.sampled_from(Status.values)))
@example(status="\x00")
@example(status="in_progress\x00")
def test_status_filter_never_fails_and_writes_nothing(world: World, status: str) -> None:
    client = _client_for(world.coach.user)
    response, changes = _in_savepoint(
        lambda: client.get(reverse("coach_workspace"), {"status": status})
    )
    assert response.status_code == (200 if status in ["", *Status.values] else 400)
    assert changes == {}


# --- the sponsor's progress list: search and page --------------------------------


@FUZZ
@given(q=st.one_of(fuzz, st.just("Participant")), page=st.one_of(fuzz, st.integers(-5, 5).map(str)))
@example(q="\x00", page="1")
@example(q="x" * 100, page="1")
@example(q="x" * 101, page="1")
@example(q="", page="99999999999999999999")
def test_progress_search_never_fails_and_writes_nothing(world: World, q: str, page: str) -> None:
    organization = world.program.organization
    organization.sponsors_see_individual_progress = True
    organization.save()
    client = _client_for(world.sponsor)
    url = reverse("reports:sponsor_program_report", kwargs={"public_id": world.program.public_id})
    response, changes = _in_savepoint(lambda: client.get(url, {"q": q, "page": page}))
    assert response.status_code in (200, 400, 404)
    number = page.strip()
    out_of_range = bool(re.fullmatch(r"-?[0-9]+", number)) and not 1 <= int(number) <= MAX_PAGE
    if "\x00" not in q + page and (len(q.strip()) > 100 or out_of_range):
        assert response.status_code == 400
    assert changes == {}


# --- staff: the reason for a transition ------------------------------------------


@FUZZ
@given(reason=st.one_of(fuzz, st.just("Left the company")))
@example(reason="\x00")
@example(reason="a\x00")
@example(reason="x" * 500)
@example(reason="x" * 501)
@example(reason="\u202e Moved 😀")
def test_reason_form_cancels_with_that_reason_or_changes_nothing(world: World, reason: str) -> None:
    from tests.signin import login_verified

    client = login_verified(Client(), world.staff)
    url = reverse("admin:engagements_engagement_transition", args=[world.engagement.pk, "cancel"])
    with one_example():
        before = row_counts()
        response = client.post(url, {"reason": reason})
        changes = count_changes(before, row_counts())
        engagement = Engagement.objects.get(pk=world.engagement.pk)
    cleaned = reason.strip()
    valid = bool(cleaned) and len(cleaned) <= 500 and "\x00" not in reason
    if not valid:
        assert response.status_code == 400 and changes == {}
        assert engagement.status == Status.IN_PROGRESS
        return
    assert response.status_code == 302
    assert set(changes) <= {"accounts.AuditEvent"}
    assert (engagement.status, engagement.status_reason) == (Status.CANCELLED, cleaned)


# --- participants: rating and closing survey -------------------------------------


@FUZZ
@given(score=st.one_of(fuzz, st.integers(-10, 10).map(str)), next_url=fuzz)
@example(score="4", next_url="/\x00")
@example(score="\x00", next_url="abc")
@example(score="5", next_url="//evil.example/")
def test_rating_form_records_a_1_to_5_score_or_nothing(
    world: World, score: str, next_url: str
) -> None:
    client = _client_for(world.participant)
    url = reverse("feedback:rate_session", kwargs={"public_id": world.session.public_id})
    with one_example():
        before = row_counts()
        response = client.post(url, {"score": score, "next": next_url})
        changes = count_changes(before, row_counts())
        rating = SessionRating.objects.filter(session=world.session).first()
    assert response.status_code == 302
    assert not urlsplit(response["Location"]).netloc
    if score in {"1", "2", "3", "4", "5"}:
        # The first answer also creates the coach's and the program's released
        # figures (nothing released yet: one answer is below any group size).
        assert changes == {
            "feedback.SessionRating": 1,
            "accounts.AuditEvent": 1,
            "feedback.ReleasedFeedback": 2,
        }
        assert not ReleasedFeedback.objects.filter(answers__gt=0).exists()
        assert rating is not None and rating.score == int(score)
    else:
        assert changes == {} and rating is None


@pytest.fixture
def completed(world: World) -> Engagement:
    """A completed engagement of a participant of the world's program."""
    engagement = factories.engagement_with_coach(coach=world.coach, program=world.program)
    engagement.transition_to(Status.COMPLETED)
    return engagement


@FUZZ
@given(recommend_score=st.one_of(fuzz, st.integers(-3, 13).map(str)), what_changed=fuzz)
@example(recommend_score="7", what_changed="a\x00b")
@example(recommend_score="10", what_changed="😀" * 4000)
@example(recommend_score="0", what_changed="x" * 4001)
def test_closing_survey_form_records_one_answer_or_nothing(
    world: World, completed: Engagement, recommend_score: str, what_changed: str
) -> None:
    client = _client_for(completed.participant)
    url = reverse("feedback:closing_survey", kwargs={"public_id": completed.public_id})
    with one_example():
        before = row_counts()
        response = client.post(
            url, {"recommend_score": recommend_score, "what_changed": what_changed}
        )
        changes = count_changes(before, row_counts())
        survey = ClosingSurvey.objects.filter(engagement=completed).first()
    text = what_changed.strip()
    valid = (
        recommend_score in {str(n) for n in range(11)}
        and len(text) <= 4000
        and "\x00" not in what_changed
    )
    if not valid:
        assert response.status_code == 400 and changes == {} and survey is None
        return
    assert response.status_code == 302
    assert changes == {
        "feedback.ClosingSurvey": 1,
        "accounts.AuditEvent": 1,
        "feedback.ReleasedFeedback": 2,
    }
    assert not ReleasedFeedback.objects.filter(answers__gt=0).exists()
    assert survey is not None
    assert (survey.recommend_score, survey.what_changed) == (int(recommend_score), text)


def test_the_fuzzed_forms_cover_every_form_with_free_input() -> None:
    """A reminder to extend this file: the forms people fill in, by module."""
    from accounts import forms as account_forms
    from coaches import forms as coach_forms
    from engagements import forms as engagement_forms
    from feedback import forms as feedback_forms
    from reports import forms as report_forms

    fuzzed = {
        account_forms.EmailForm,
        account_forms.CodeForm,
        coach_forms.DirectoryFilterForm,
        coach_forms.CoachProfileForm,
        engagement_forms.SessionForm,
        engagement_forms.SessionLogForm,
        engagement_forms.StatusFilterForm,
        engagement_forms.ReasonForm,
        feedback_forms.SessionRatingForm,
        feedback_forms.ClosingSurveyForm,
        report_forms.ProgressSearchForm,
    }
    # The import forms are django-import-export's file upload steps (fuzzed rows
    # are the import tests' business).
    imports = {
        engagement_forms.ParticipantImportForm,
        engagement_forms.ParticipantConfirmImportForm,
        engagement_forms.CoachImportForm,
        engagement_forms.CoachConfirmImportForm,
    }
    declared = {
        value
        for module in (account_forms, coach_forms, engagement_forms, feedback_forms, report_forms)
        for value in vars(module).values()
        if isinstance(value, type)
        and value.__module__ == module.__name__
        and hasattr(value, "base_fields")
    }
    assert declared - imports == fuzzed, "fuzz the new form here"
