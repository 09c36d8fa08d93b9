"""Who may open which URL: every URL pattern × every role, from one explicit table.

The table (RULES) is keyed by URL name. A pattern in the URL configuration
without a rule fails `test_every_url_pattern_has_an_access_rule`: add its rule
below, saying what each of the eight roles gets. Ids in URLs belong to the first
participant, coach and sponsor of the world (tests/security/world.py); the
"other" ones own a parallel program, so for them the same URL names an object
that is not theirs, and the answer must be 404 (never 403: a page's existence
is not confirmed to someone who may not see it).

The Django admin: every admin view goes through AdminSite.admin_view, which
admits only active staff with a code-verified session (django-otp's
OTPAdminSite). So the standard ModelAdmin URLs (changelist, add, change, delete,
history and the legacy object redirect, five or six per registered model) are
covered by one rule and checked on representative URLs for every role, plus
every changelist for staff. Admin URLs that our code adds (imports, exports,
the engagement's transition view) are where a missing admin_view wrapper would
hide, so each of them must be listed in RULES like any other URL.

POSTs run in a savepoint that is rolled back after each role; for every role
that is not allowed to write, the row counts of every domain table (and the
mutable state of engagements, sessions, coaches, ratings and users) must be
unchanged.

Every answer to a signed-in role, whatever its status, must carry
`Cache-Control: private, no-store` (config/caching.py): no browser or proxy
keeps a copy of a private page. The one exception is IMMUTABLE_FILES (coach
photos): the same bytes for everyone, under a name that changes with them,
kept by the browser for a year.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.contrib import admin
from django.db import transaction
from django.http import HttpResponse, HttpResponseBase
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from engagements.forms import session_submission_key
from tests.security.world import ROLES, World, build_world, fingerprint

pytestmark = pytest.mark.django_db


# --- answers -----------------------------------------------------------------------


@dataclass(frozen=True)
class Redirect:
    """A 302 to `path` (any path when None)."""

    path: str | None = None

    def __str__(self) -> str:
        return f"302 to {self.path or 'a page of the site'}"


LOGIN = Redirect("/login/")  # sign in first
ADMIN_LOGIN = Redirect("/admin/login/")  # the admin's own sign-in, which sends on to /login/
ADMIN_INDEX = Redirect("/admin/")
DONE = Redirect()  # a form that worked, back to a page
Answer = int | Redirect


def _matches(response: HttpResponseBase, expected: Answer) -> bool:
    if isinstance(expected, int):
        return response.status_code == expected
    if response.status_code != 302:
        return False
    location = urlsplit(response["Location"])
    if location.netloc:  # never off-site
        return False
    if expected.path is None:
        return location.path != LOGIN.path
    return location.path == expected.path


def _cache_directives(response: HttpResponse) -> set[str]:
    return {d.strip().lower() for d in response.get("Cache-Control", "").split(",") if d.strip()}


def _stored(response: HttpResponse) -> str | None:
    """Why a browser or proxy could keep this response, or None when it cannot."""
    directives = _cache_directives(response)
    missing = {"private", "no-store"} - directives
    if missing or "public" in directives:
        return f"Cache-Control is {response.get('Cache-Control')!r}, not private, no-store"
    return None


# URLs answered with immutable files, not pages (config.caching.immutable_file).
IMMUTABLE_FILES = {"coaches:photo"}


def _kept_privately_for_a_year(response: HttpResponse) -> str | None:
    """Why an immutable file's answer is not cached as one, or None when it is."""
    directives = _cache_directives(response)
    if response.status_code == 200 and not (
        {"private", "immutable", "max-age=31536000"} <= directives and "no-store" not in directives
    ):
        return f"Cache-Control is {response.get('Cache-Control')!r}, not a year's private cache"
    return None


def _shown(response: HttpResponse) -> str:
    if response.status_code in (301, 302):
        return f"{response.status_code} to {response['Location']}"
    return str(response.status_code)


def by_role(default: Answer, **answers: Answer) -> dict[str, Answer]:
    unknown = set(answers) - set(ROLES)
    assert not unknown, f"not roles: {unknown}"
    return {role: answers.get(role, default) for role in ROLES}


def everyone(answer: Answer) -> dict[str, Answer]:
    return by_role(answer)


def only(*roles: str, answer: Answer = 200) -> dict[str, Answer]:
    """Signed-in roles other than `roles` get a 404; anonymous visitors sign in first."""
    return by_role(404, anonymous=LOGIN, **dict.fromkeys(roles, answer))


def staff_admin(answer: Answer = 200) -> dict[str, Answer]:
    return by_role(ADMIN_LOGIN, staff=answer)


SIGNED_IN = tuple(role for role in ROLES if role != "anonymous")


@dataclass(frozen=True)
class Rule:
    get: dict[str, Answer]
    # Checked for URLs that take a POST: the answer per role, with post_data.
    post: dict[str, Answer] | None = None
    kwargs: Callable[[World], dict[str, Any]] = lambda w: {}
    post_data: Callable[[World], dict[str, Any]] = lambda w: {}
    # Roles whose POST may write; every other role's POST must change nothing.
    writers: tuple[str, ...] = ()
    path: Callable[[World], str] | None = None  # for unnamed patterns


def _engagement(w: World) -> dict[str, Any]:
    return {"public_id": w.engagement.public_id}


def _session(w: World) -> dict[str, Any]:
    return {"public_id": w.engagement.public_id, "session_id": w.session.public_id}


def _session_form(w: World) -> dict[str, Any]:
    return {
        "held_on": timezone.localdate().isoformat(),
        "duration_minutes": "45",
        "outcome": "held",
        "notes": "written by the matrix",
        # The log form's one-time key and same-date confirmation (the correction ignores them).
        "submission_key": session_submission_key(w.engagement),
        "confirm_same_date": "on",
    }


def _profile_form(w: World) -> dict[str, Any]:
    return {
        "headline": "Changed by the matrix",
        "bio": "",
        "time_zone": "Europe/Paris",
        "booking_url": "https://cal.example.com/matrix",
        "accepting_new": "on",
    }


def _booking(w: World) -> dict[str, Any]:
    """A booking of the participant's engagement with the coach, tomorrow (not yet over)."""
    from datetime import timedelta

    from scheduling.models import ScheduledSession

    booking = ScheduledSession.objects.filter(provider_booking_id="matrix").first()
    if booking is None:
        start = timezone.now() + timedelta(days=1)
        assert w.engagement.coach is not None
        booking = ScheduledSession.objects.create(
            coach=w.engagement.coach,
            engagement=w.engagement,
            provider="calcom",
            provider_booking_id="matrix",
            attendee_email=w.participant.email,
            starts_at=start,
            ends_at=start + timedelta(hours=1),
        )
    return {"public_id": booking.public_id}


def _admin_object(w: World) -> dict[str, Any]:
    return {"object_id": w.engagement.pk}


RULES: dict[str, Rule] = {
    # --- public ---
    "healthz": Rule(get=everyone(200)),
    "accounts:login": Rule(get=everyone(200)),
    # Without an address waiting for its code, step 2 sends everyone to step 1.
    "accounts:login_code": Rule(get=everyone(LOGIN)),
    "accounts:logout": Rule(get=everyone(405), post=everyone(LOGIN), writers=SIGNED_IN),
    # The link in every reminder: the signed token, not the session, says whose
    # reminders it turns off (tests/accounts/test_unsubscribe.py). With a token
    # that is not ours, every role is refused and nothing changes.
    "accounts:reminders_off": Rule(
        kwargs=lambda w: {"token": f"{w.participant.public_id.hex}:forged"},
        get=everyone(400),
        post=everyone(400),
    ),
    # The landing page for visitors, the participant's own page for participants.
    "home": Rule(get=everyone(200)),
    # --- coaches ---
    "coach_workspace": Rule(get=only("coach", "other_coach")),
    "coach_engagement": Rule(
        kwargs=_engagement,
        get=only("coach"),
        post=only("coach", answer=DONE),
        post_data=_session_form,
        writers=("coach",),
    ),
    "coach_session_edit": Rule(
        kwargs=_session,
        get=only("coach"),
        post=only("coach", answer=DONE),
        post_data=_session_form,
        writers=("coach",),
    ),
    "coach_session_void": Rule(
        kwargs=_session,
        get=only("coach"),
        post=only("coach", answer=DONE),
        post_data=lambda w: {"reason": "Logged twice by mistake (the matrix)"},
        writers=("coach",),
    ),
    "coaches:photo": Rule(
        # A coach's current photo, for anyone shown its random name: no sign-in.
        kwargs=lambda w: {"name": (w.coach.photo.name or "").removeprefix("coaches/")},
        get=everyone(200),
    ),
    "coaches:profile": Rule(
        # No id in the URL: each coach edits their own profile.
        get=only("coach", "other_coach"),
        post=only("coach", "other_coach", answer=DONE),
        post_data=_profile_form,
        writers=("coach", "other_coach"),
    ),
    # --- participants ---
    "directory": Rule(get=only("participant", "other_participant")),
    "select_coach": Rule(
        kwargs=lambda w: {"public_id": w.coach.public_id},
        get=by_role(404, anonymous=LOGIN, participant=405, other_participant=405),
        # The participant already has a coach (409); the coach is not in the
        # other participant's program (404).
        post=only("participant", answer=409),
    ),
    "feedback:rate_session": Rule(
        kwargs=lambda w: {"public_id": w.session.public_id},
        # The role is checked before the method: only participants learn it takes a POST.
        get=by_role(404, anonymous=LOGIN, participant=405, other_participant=405),
        post=only("participant", answer=DONE),
        post_data=lambda w: {"score": "4"},
        writers=("participant",),
    ),
    "feedback:closing_survey": Rule(
        kwargs=_engagement,
        get=only("participant"),
        # The engagement is still in progress: the survey is not open yet.
        post=only("participant", answer=409),
        post_data=lambda w: {"recommend_score": "9", "what_changed": "Everything"},
    ),
    # --- bookings (scheduling) ---
    # The providers' webhooks: no sign-in, POST only; an unknown token is a 404 for anyone.
    "scheduling:calendly_hook": Rule(
        kwargs=lambda w: {"token": "x" * 32}, get=everyone(405), post=everyone(404)
    ),
    "scheduling:calcom_hook": Rule(
        kwargs=lambda w: {"token": "x" * 32}, get=everyone(405), post=everyone(404)
    ),
    "scheduling:endpoint_rotate": Rule(
        get=by_role(404, anonymous=LOGIN, coach=405, other_coach=405),
        post=only("coach", "other_coach", answer=DONE),
        writers=("coach", "other_coach"),
    ),
    # The booking has not ended: its coach is told so (back to the workspace), nothing
    # is written; another coach's booking is a 404.
    "scheduling:booking_confirm": Rule(
        kwargs=_booking,
        get=by_role(404, anonymous=LOGIN, coach=405, other_coach=405),
        post=only("coach", answer=DONE),
        post_data=lambda w: {"outcome": "held"},
    ),
    "scheduling:session_ics": Rule(kwargs=_booking, get=only("participant")),
    # The booking is matched already: staff are told so and nothing changes.
    "scheduling:booking_assign": Rule(
        kwargs=_booking,
        get=by_role(404, anonymous=LOGIN, staff=405),
        post=only("staff", answer=DONE),
        post_data=lambda w: {"engagement": str(w.engagement.public_id)},
    ),
    "scheduling:booking_dismiss": Rule(
        kwargs=_booking,
        get=by_role(404, anonymous=LOGIN, staff=405),
        post=only("staff", answer=DONE),
    ),
    # --- sponsors ---
    "reports:sponsor_home": Rule(get=only("sponsor", "other_sponsor")),
    "reports:sponsor_program_report": Rule(
        kwargs=lambda w: {"public_id": w.program.public_id}, get=only("sponsor")
    ),
    # --- staff ---
    # Read-only: staff get a 405 for a POST, everyone else the same answer as a GET.
    "nudges:ops_dashboard": Rule(get=only("staff"), post=only("staff", answer=405)),
    # The ops engagement page reads; each action is a POST through its service.
    "nudges:ops_engagement": Rule(
        kwargs=_engagement, get=only("staff"), post=only("staff", answer=405)
    ),
    "nudges:ops_engagement_action": Rule(
        kwargs=lambda w: {"public_id": w.engagement.public_id, "action": "hold"},
        get=only("staff", answer=405),
        post=only("staff", answer=DONE),
        writers=("staff",),
    ),
    "nudges:ops_remind": Rule(
        get=only("staff", answer=405),
        post=only("staff", answer=DONE),
        post_data=lambda w: {"engagement": [w.engagement.public_id]},
        writers=("staff",),
    ),
    "reports:staff_programs": Rule(get=only("staff")),
    "reports:staff_program_report": Rule(
        kwargs=lambda w: {"public_id": w.program.public_id}, get=only("staff")
    ),
    "reports:export_engagements": Rule(get=only("staff")),
    "reports:export_sessions": Rule(get=only("staff")),
    # --- the admin site's own views ---
    "admin:index": Rule(get=staff_admin()),
    # No password form: the admin's sign-in sends everyone to /login/.
    "admin:login": Rule(get=everyone(LOGIN)),
    "admin:logout": Rule(
        get=by_role(ADMIN_INDEX, staff=405),
        post=by_role(ADMIN_INDEX, staff=LOGIN),
        writers=("staff",),
    ),
    "admin:password_change": Rule(get=staff_admin()),
    "admin:password_change_done": Rule(get=staff_admin()),
    # No ModelAdmin has autocomplete fields: a request naming none is refused.
    "admin:autocomplete": Rule(get=staff_admin(403)),
    "admin:jsi18n": Rule(get=staff_admin()),
    "admin:app_list": Rule(kwargs=lambda w: {"app_label": "engagements"}, get=staff_admin()),
    "admin:view_on_site": Rule(
        # Engagements have no public page: staff get a 404 too.
        kwargs=lambda w: {
            "content_type_id": _content_type_id(w.engagement),
            "object_id": w.engagement.pk,
        },
        get=staff_admin(404),
    ),
    "admin/(?P<url>.*)$": Rule(
        path=lambda w: "/admin/no-such-page/", get=staff_admin(404), post=staff_admin(404)
    ),
    # --- admin views our code adds (each must be wrapped in admin_view) ---
    "admin:engagements_engagement_transition": Rule(
        kwargs=lambda w: {"object_id": w.engagement.pk, "name": "hold"},
        get=staff_admin(),
        post=staff_admin(DONE),
        writers=("staff",),
    ),
    "admin:engagements_engagement_export": Rule(get=staff_admin()),
    "admin:engagements_coachingsession_export": Rule(get=staff_admin()),
    "admin:coaches_coachprofile_import": Rule(get=staff_admin()),
    # An empty upload is refused with the form again; nothing is written.
    "admin:coaches_coachprofile_process_import": Rule(get=staff_admin(405), post=staff_admin(200)),
    "admin:accounts_user_import": Rule(get=staff_admin()),
    "admin:accounts_user_process_import": Rule(get=staff_admin(405), post=staff_admin(200)),
}


def _content_type_id(obj: Any) -> int:
    from django.contrib.contenttypes.models import ContentType

    return ContentType.objects.get_for_model(obj).pk


# The standard ModelAdmin URLs, one rule for all (see the module docstring), and
# the representative ones requested by every role.
MODEL_ADMIN_VIEWS = ("changelist", "add", "change", "delete", "history")
STANDARD_ADMIN = Rule(get=staff_admin())
REPRESENTATIVE_ADMIN: dict[str, Rule] = {
    "admin:engagements_engagement_changelist": STANDARD_ADMIN,
    "admin:engagements_engagement_change": Rule(kwargs=_admin_object, get=staff_admin()),
    "admin:engagements_engagement_history": Rule(kwargs=_admin_object, get=staff_admin()),
    "admin:engagements_program_add": STANDARD_ADMIN,
    "admin:engagements_program_delete": Rule(
        # A program with engagements cannot be deleted; GET only shows why.
        kwargs=lambda w: {"object_id": w.program.pk},
        get=staff_admin(),
    ),
    "admin:coaches_coachprofile_change": Rule(
        kwargs=lambda w: {"object_id": w.coach.pk}, get=staff_admin()
    ),
    "admin/engagements/engagement/<path:object_id>/": Rule(
        # The old-style object URL redirects staff to the change page.
        path=lambda w: f"/admin/engagements/engagement/{w.engagement.pk}/",
        get=staff_admin(DONE),
    ),
}


# --- the URL configuration ---------------------------------------------------------


@dataclass(frozen=True)
class Pattern:
    key: str  # the URL name with its namespaces, or the route when it has no name
    route: str
    named: bool


def url_patterns(
    patterns: list[Any] | None = None, prefix: str = "", namespaces: tuple[str, ...] = ()
) -> Iterator[Pattern]:
    """Every pattern of the URL configuration, includes walked recursively."""
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            inner = (*namespaces, pattern.namespace) if pattern.namespace else namespaces
            yield from url_patterns(pattern.url_patterns, route, inner)
        elif isinstance(pattern, URLPattern):
            key = ":".join((*namespaces, pattern.name)) if pattern.name else route
            yield Pattern(key=key, route=route, named=bool(pattern.name))


def standard_admin_keys() -> set[str]:
    keys: set[str] = set()
    for model in admin.site._registry:
        app, name = model._meta.app_label, model._meta.model_name
        keys |= {f"admin:{app}_{name}_{view}" for view in MODEL_ADMIN_VIEWS}
        keys.add(f"admin/{app}/{name}/<path:object_id>/")
    return keys


def test_every_url_pattern_has_an_access_rule() -> None:
    patterns = list(url_patterns())
    standard = standard_admin_keys()
    missing = [
        f"{p.key!r} (route {p.route!r})"
        for p in patterns
        if p.key not in RULES and p.key not in standard
    ]
    assert not missing, (
        "These URL patterns have no access rule. Add each to RULES in "
        "tests/security/test_access_matrix.py with the answer every role gets "
        "(anonymous, participant, other participant, coach, other coach, sponsor, "
        "other sponsor, staff):\n  " + "\n  ".join(missing)
    )
    unnamed = [p.route for p in patterns if not p.named and not p.route.startswith("admin/")]
    assert not unnamed, (
        f"Name these URL patterns so rules and templates can refer to them: {unnamed}"
    )
    keys = {p.key for p in patterns}
    stale = sorted(set(RULES) - keys) + sorted(set(REPRESENTATIVE_ADMIN) - keys)
    assert not stale, f"RULES names URLs that no longer exist; remove them: {stale}"


def test_post_only_urls_have_post_rules() -> None:
    for key, rule in RULES.items():
        answers = [answer for answer in rule.get.values() if answer != LOGIN]
        if answers and all(answer == 405 for answer in answers):
            assert rule.post is not None, f"{key} answers only POST: say what POST gives"


# --- the matrix --------------------------------------------------------------------


def _path(key: str, rule: Rule, world: World) -> str:
    if rule.path is not None:
        return rule.path(world)
    return reverse(key, kwargs=rule.kwargs(world))


def _check(key: str, rule: Rule, world: World, clients: dict[str, Any], method: str) -> list[str]:
    expected = rule.get if method == "get" else rule.post
    assert expected is not None
    path = _path(key, rule, world)
    problems = []
    for role in ROLES:
        if method == "get":
            response = clients[role].get(path)
            changed = False
        else:
            client = world.client(role)  # a sign-out must not spend the shared client
            before = fingerprint()
            with transaction.atomic():
                response = client.post(path, rule.post_data(world))
                changed = fingerprint() != before
                transaction.set_rollback(True)
        if not _matches(response, expected[role]):
            problems.append(
                f"{method.upper()} {path} as {role}: expected {expected[role]}, "
                f"got {_shown(response)}"
            )
        if response.status_code == 403 and role != "staff":
            problems.append(f"{method.upper()} {path} as {role}: 403 tells too much; use 404")
        if changed and role not in rule.writers:
            problems.append(f"{method.upper()} {path} as {role} wrote to the database")
        cached = _kept_privately_for_a_year if key in IMMUTABLE_FILES else _stored
        if role != "anonymous" and (why := cached(response)):
            problems.append(f"{method.upper()} {path} as {role}: {why}")
    return problems


@pytest.fixture
def world() -> World:
    from django.core.cache import cache

    cache.clear()  # rate-limit counters
    return build_world()


@pytest.fixture
def clients(world: World) -> dict[str, Any]:
    return {role: world.client(role) for role in ROLES}


def test_each_role_gets_the_answer_in_the_table(world: World, clients: dict[str, Any]) -> None:
    """The whole matrix in one world (POSTs are rolled back); every wrong cell is listed."""
    problems = []
    for key, rule in {**RULES, **REPRESENTATIVE_ADMIN}.items():
        problems += _check(key, rule, world, clients, "get")
        if rule.post is not None:
            problems += _check(key, rule, world, clients, "post")
    assert not problems, "\n".join(problems)


def test_staff_open_every_admin_list(world: World, clients: dict[str, Any]) -> None:
    """Every registered model's changelist works for staff (and has no N+1: zeal),
    and no browser or proxy keeps a copy."""
    failures = []
    for model in admin.site._registry:
        url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        response = clients["staff"].get(url)
        if response.status_code != 200:
            failures.append(f"{url}: {response.status_code}")
        if why := _stored(response):
            failures.append(f"{url}: {why}")
    assert not failures


def test_a_staff_session_without_a_verified_code_is_sent_to_sign_in(world: World) -> None:
    from django.test import Client

    client = Client()
    client.force_login(world.staff)
    assert _matches(client.get(reverse("admin:index")), ADMIN_LOGIN)
