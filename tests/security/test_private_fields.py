"""Private fields are private everywhere: generated from the models and config/privacy.py.

Nothing here names a private field. Every check walks the one list
(PRIVATE_FIELDS) and the registries (every registered ModelAdmin, every export
resource, every URL of the access matrix), so a new private field, admin,
resource or page is covered without editing this file.

Each private field of each object holds its own marker; a page or file may
carry a marker only where the list says its reader may see it: the coach who
logged a session sees that session's notes on their own pages, staff see the
closing survey's text on their report pages, nobody sees either in the admin or
an export.
"""

from __future__ import annotations

import inspect
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.admin.sites import AdminSite
from django.db.models import Model
from django.test import RequestFactory
from django.urls import reverse
from import_export import resources
from import_export.mixins import BaseExportMixin

from accounts.admin_privacy import PrivateFieldsAdmin
from accounts.admin_site import CoachdeskAdminSite
from config import privacy
from config.privacy import PrivateField, Reader, private_fields, private_fields_in
from engagements.models import CoachingSession
from tests import factories
from tests.security.test_access_matrix import REPRESENTATIVE_ADMIN, RULES, url_patterns
from tests.security.world import World, build_world

pytestmark = pytest.mark.django_db

OUR_APPS = ("accounts", "coaches", "engagements", "feedback", "nudges", "reports")
# How far a filter may travel through relations in the generated lookups.
MAX_HOPS = 3
# Lookups the attack used, and the plain ones.
LOOKUPS = ("", "__exact", "__icontains", "__startswith", "__regex", "__iregex", "__isnull", "__in")


# --- what the tests walk ----------------------------------------------------------------


def registered_admins() -> list[admin.ModelAdmin]:
    return list(admin.site._registry.values())


def paths_to(model: type[Model], target: PrivateField, hops: int = MAX_HOPS) -> Iterator[str]:
    """Every lookup path from `model` to the private field, through at most `hops` relations."""

    def walk(current: type[Model], prefix: str, seen: tuple[type[Model], ...]) -> Iterator[str]:
        if current._meta.concrete_model is target.model:
            yield prefix + target.name
        if len(seen) > hops:
            return
        for field in current._meta.get_fields():
            related = field.related_model if field.is_relation else None
            if related is None or isinstance(related, str) or related in seen:
                continue
            yield from walk(related, f"{prefix}{field.name}__", (*seen, related))

    yield from walk(model, "", (model,))


def export_resources() -> list[type[resources.Resource]]:
    """Every django-import-export resource our apps define (subclasses found recursively)."""
    found: list[type[resources.Resource]] = []
    pending = list(resources.Resource.__subclasses__())
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        if cls.__module__.split(".")[0] in OUR_APPS and not inspect.isabstract(cls):
            found.append(cls)
    return found


def staff_request(staff: Any) -> Any:
    request = RequestFactory().get("/admin/")
    request.user = staff
    return request


# --- markers: a distinct one in every private field of every object ---------------------


@dataclass
class Markers:
    world: World
    # marker -> (private field, the object it is stored on)
    stored: dict[str, tuple[PrivateField, Model]]

    def of(self, obj: Model) -> set[str]:
        return {marker for marker, (_, owner) in self.stored.items() if owner == obj}

    def in_text(self, text: str) -> set[str]:
        return {marker for marker in self.stored if marker in text}

    def readable_by(self, role: str) -> set[str]:
        """The markers `role` may see on the pages made for them (never the admin or a file)."""
        allowed = set()
        for marker, (field, obj) in self.stored.items():
            if field.reader == Reader.STAFF and role == "staff":
                allowed.add(marker)
            if field.reader == Reader.OWN_COACH and role in ("coach", "other_coach"):
                coach = getattr(self.world, role)
                if getattr(obj, "coach_id", None) == coach.pk:
                    allowed.add(marker)
        return allowed


@pytest.fixture
def world() -> World:
    from django.core.cache import cache

    cache.clear()  # rate-limit counters
    return build_world()


@pytest.fixture
def markers(world: World) -> Markers:
    """Every private field of every row holds its own marker.

    The coach's engagement also has a session logged by a previous coach (the
    other one), whose notes the coach must not see. Each model with a private
    field and no row yet gets one (a closing survey for each engagement).
    """
    factories.SessionFactory(
        engagement=world.engagement, coach=world.other_coach, number=9, notes="x"
    )
    survey_model = apps.get_model("feedback", "ClosingSurvey")
    for engagement in (world.engagement, world.other_engagement):
        survey_model.objects.create(engagement=engagement, recommend_score=7)
    stored: dict[str, tuple[PrivateField, Model]] = {}
    for field in private_fields():
        rows = list(field.model._default_manager.all())
        assert rows, f"the world has no {field.model._meta.label} to hold a marker"
        for obj in rows:
            marker = f"PRIVATE-{uuid.uuid4().hex[:12]}"
            field.model._default_manager.filter(pk=obj.pk).update(**{field.name: marker})
            stored[marker] = (field, obj)
    return Markers(world=world, stored=stored)


# --- the one list -----------------------------------------------------------------------


def test_the_list_names_fields_that_exist_with_a_reader() -> None:
    fields = private_fields()
    assert {f.label for f in fields} == set(privacy.PRIVATE_FIELDS)
    assert all(isinstance(f.reader, Reader) for f in fields)


def test_a_label_that_names_no_field_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from django.core.exceptions import FieldDoesNotExist

    monkeypatch.setitem(privacy.PRIVATE_FIELDS, "engagements.CoachingSession.nots", Reader.STAFF)
    with pytest.raises(FieldDoesNotExist):
        private_fields()


@pytest.mark.parametrize(
    ("path", "reaches"),
    [
        ("notes", True),
        ("-notes", True),
        ("^notes", True),
        ("notes__icontains", True),
        ("notes__regex", True),
        ("engagement__sessions__notes__startswith", True),
        ("sessions__notes", False),  # a session has no sessions: not a path
        ("number", False),
        ("engagement__participant__full_name", False),
        ("nonsense__notes", False),
    ],
)
def test_a_path_is_private_when_it_reaches_a_private_field(path: str, reaches: bool) -> None:
    assert bool(list(private_fields_in(CoachingSession, path))) is reaches


# --- the admin ----------------------------------------------------------------------------


def test_every_admin_refuses_every_path_to_every_private_field(staff: Any) -> None:
    request = staff_request(staff)
    allowed = []
    checked = 0
    for model_admin in registered_admins():
        for field in private_fields():
            for path in paths_to(model_admin.model, field):
                for lookup in LOOKUPS:
                    checked += 1
                    if model_admin.lookup_allowed(path + lookup, "x", request):
                        allowed.append(f"{type(model_admin).__name__}: ?{path}{lookup}=")
    assert checked > 100  # the walk found paths
    assert not allowed, "\n".join(allowed)


def test_every_admin_list_answers_400_to_a_filter_on_a_private_field(
    markers: Markers, admin_client_verified: Any
) -> None:
    """The attack of issue 13, through the URL, on every list: refused, nothing counted."""
    problems = []
    requests = 0
    for model_admin in registered_admins():
        model = model_admin.model
        url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        for field in private_fields():
            shortest = min(paths_to(model, field), key=len, default=None)
            if shortest is None:
                continue
            for lookup in ("__icontains", "__startswith", "__regex", ""):
                requests += 1
                response = admin_client_verified.get(url, {shortest + lookup: "PRIVATE"})
                body = response.content.decode()
                if response.status_code != 400 or markers.in_text(body):
                    problems.append(f"{url}?{shortest}{lookup}=: {response.status_code}")
    assert requests > 20
    assert not problems, "\n".join(problems)


def test_no_admin_declares_shows_searches_or_orders_by_a_private_field(
    world: World, staff: Any
) -> None:
    request = staff_request(staff)
    problems = []
    for model_admin in registered_admins():
        assert isinstance(model_admin, PrivateFieldsAdmin)  # the site adds it to every class
        name = type(model_admin).__name__
        obj = model_admin.model._default_manager.first()
        list_display = model_admin.get_list_display(request)
        named = {
            "list_display": list_display,
            "list_display_links": model_admin.get_list_display_links(request, list_display) or (),
            "list_filter": model_admin.get_list_filter(request),
            "search_fields": model_admin.get_search_fields(request),
            "ordering": model_admin.get_ordering(request) or (),
            "sortable_by": model_admin.get_sortable_by(request),
            "fields": model_admin.get_fields(request, obj),
            "readonly_fields": model_admin.get_readonly_fields(request, obj),
            "list_editable": model_admin.list_editable,
            "date_hierarchy": [model_admin.date_hierarchy] if model_admin.date_hierarchy else [],
        }
        for attribute, items in named.items():
            for item in items:
                if model_admin._labels(item):
                    problems.append(f"{name}.{attribute}: {item!r}")
        errors = [e for e in model_admin.check() if e.id == "coachdesk.E001"]
        problems += [e.msg for e in errors]
    assert not problems, "\n".join(problems)


def test_no_admin_page_shows_a_private_field_and_no_search_finds_one(
    markers: Markers, admin_client_verified: Any
) -> None:
    """Every list, every list searched for a marker, and the change page of a row of each."""
    problems = []
    for model_admin in registered_admins():
        model = model_admin.model
        prefix = f"admin:{model._meta.app_label}_{model._meta.model_name}"
        pages = [reverse(f"{prefix}_changelist")]
        obj = model._default_manager.first()
        if obj is not None:
            pages.append(reverse(f"{prefix}_change", args=[obj.pk]))
        for url in pages:
            response = admin_client_verified.get(url)
            assert response.status_code == 200, url
            if found := markers.in_text(response.content.decode()):
                problems.append(f"{url} shows {found}")
        if model_admin.search_fields:
            for marker in markers.stored:
                response = admin_client_verified.get(pages[0], {"q": marker})
                if response.context["cl"].result_count:
                    problems.append(f"{pages[0]}?q=<a private marker> finds rows")
                    break
    assert not problems, "\n".join(problems)


class _CarelessSessionAdmin(admin.ModelAdmin):
    """Every way an admin could name the notes, as a careless edit might."""

    list_display = ["number", "notes", "notes_preview"]
    list_filter = ["outcome", "notes"]
    search_fields = ["engagement__participant__full_name", "^notes"]
    ordering = ["-notes", "number"]
    sortable_by = ["number", "notes"]
    readonly_fields = ["notes"]
    date_hierarchy = "held_on"

    @admin.display(ordering="notes")
    def notes_preview(self, obj: CoachingSession) -> str:
        return obj.notes[:10]


def _careless_site_admin() -> admin.ModelAdmin:
    site = CoachdeskAdminSite(name="careless")
    site.register(CoachingSession, _CarelessSessionAdmin)
    return site._registry[CoachingSession]


def test_the_site_adds_the_guard_to_every_class_it_registers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert all(isinstance(a, PrivateFieldsAdmin) for a in registered_admins())
    model_admin = _careless_site_admin()
    assert isinstance(model_admin, PrivateFieldsAdmin)
    assert isinstance(model_admin, _CarelessSessionAdmin)
    # Django's plain AdminSite does not: the guard is the site's doing.
    plain = AdminSite(name="plain")
    plain.register(CoachingSession, _CarelessSessionAdmin)
    assert not isinstance(plain._registry[CoachingSession], PrivateFieldsAdmin)


def test_start_up_refuses_an_admin_that_names_a_private_field(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    errors = [e for e in _careless_site_admin().check() if e.id == "coachdesk.E001"]
    named = sorted({e.msg.split(".")[1].split(" ")[0] for e in errors})
    assert named == [
        "list_display",
        "list_filter",
        "ordering",
        "readonly_fields",
        "search_fields",
        "sortable_by",
    ]


def test_a_careless_admin_still_shows_filters_searches_and_orders_by_nothing_private(
    monkeypatch: pytest.MonkeyPatch, staff: Any
) -> None:
    model_admin = _careless_site_admin()
    request = staff_request(staff)
    assert list(model_admin.get_list_display(request)) == ["number"]
    assert list(model_admin.get_list_filter(request)) == ["outcome"]
    assert list(model_admin.get_search_fields(request)) == ["engagement__participant__full_name"]
    assert list(model_admin.get_ordering(request)) == ["number"]
    assert list(model_admin.get_sortable_by(request)) == ["number"]
    assert list(model_admin.get_readonly_fields(request)) == []
    assert "notes" not in model_admin.get_fields(request)
    assert "notes" in (model_admin.get_exclude(request) or ())
    assert "notes" not in model_admin.get_form(request)().fields
    for lookup in ("notes__icontains", "notes__regex", "notes__startswith", "notes"):
        assert not model_admin.lookup_allowed(lookup, "a", request)
    assert model_admin.lookup_allowed("outcome", "held", request)


def test_a_field_added_to_the_list_is_refused_everywhere(
    monkeypatch: pytest.MonkeyPatch, staff: Any
) -> None:
    """Nothing but the list decides: naming a field there protects it in every admin."""
    request = staff_request(staff)
    user_admin = admin.site._registry[apps.get_model("accounts", "User")]
    assert user_admin.lookup_allowed("full_name__startswith", "A", request)
    assert "full_name" in user_admin.get_search_fields(request)
    monkeypatch.setitem(privacy.PRIVATE_FIELDS, "accounts.User.full_name", Reader.STAFF)
    assert not user_admin.lookup_allowed("full_name__startswith", "A", request)
    assert "full_name" not in user_admin.get_search_fields(request)
    assert "full_name" not in user_admin.get_list_display(request)
    assert "full_name" not in user_admin.get_fields(request)
    session_admin = admin.site._registry[CoachingSession]
    path = "engagement__participant__full_name__icontains"
    assert not session_admin.lookup_allowed(path, "A", request)


# --- exports ------------------------------------------------------------------------------


def test_no_export_resource_has_a_column_on_a_private_field() -> None:
    found = export_resources()
    assert len(found) >= 2
    problems = []
    for resource_class in found:
        model = resource_class._meta.model
        for name, field in resource_class.fields.items():
            for path in (name, field.attribute):
                if path and list(private_fields_in(model, path)):
                    problems.append(f"{resource_class.__name__}.{name} ({path})")
    assert not problems, "\n".join(problems)


def test_no_admin_export_writes_a_private_field(markers: Markers, staff: Any) -> None:
    request = staff_request(staff)
    exported = 0
    for model_admin in registered_admins():
        if not isinstance(model_admin, BaseExportMixin):
            continue
        for resource_class in model_admin.get_export_resource_classes(request):
            resource = resource_class(**model_admin.get_export_resource_kwargs(request))
            dataset = resource.export(queryset=model_admin.model._default_manager.all())
            assert len(dataset) > 0
            exported += 1
            assert not markers.in_text(dataset.csv), resource_class.__name__
    assert exported >= 2


def test_no_streamed_export_writes_a_private_field(
    markers: Markers, admin_client_verified: Any
) -> None:
    urls = [
        reverse(p.key)
        for p in url_patterns()
        if p.named and "export" in p.key and not p.key.startswith("admin:")
    ]
    assert len(urls) >= 2
    for url in urls:
        response = admin_client_verified.get(url)
        assert response.status_code == 200, url
        body = b"".join(response.streaming_content).decode()
        assert len(body.splitlines()) > 1, url
        assert not markers.in_text(body), url


# --- pages ----------------------------------------------------------------------------------


def test_pages_show_a_private_field_only_to_its_reader(markers: Markers) -> None:
    """Every page of the access matrix, as every role: only the markers the list allows.

    The coach sees the notes of the sessions they logged (not those of the
    previous coach on the same engagement); staff see the survey text on their
    report pages; sponsors, participants and the other coach see none.
    """
    world = markers.world
    problems = []
    seen: dict[str, set[str]] = {}
    for role in ("participant", "other_participant", "coach", "other_coach", "sponsor", "staff"):
        client = world.client(role)
        allowed = markers.readable_by(role)
        for key, rule in {**RULES, **REPRESENTATIVE_ADMIN}.items():
            if rule.path is not None:
                continue
            url = reverse(key, kwargs=rule.kwargs(world))
            response = client.get(url)
            # CSV exports have their own test; a coach photo is a JPEG, never text.
            if response.status_code != 200 or response.get("Content-Type", "").startswith(
                ("text/csv", "image/")
            ):
                continue
            found = markers.in_text(response.content.decode())
            seen.setdefault(role, set()).update(found)
            admin_page = key.startswith("admin")
            if (found - allowed) or (admin_page and found):
                problems.append(f"{role} on {url}: {sorted(found)}")
    assert not problems, "\n".join(problems)
    # The pages that should show them do: the checks above looked at real pages.
    assert markers.of(world.session) <= seen["coach"]
    previous = CoachingSession.objects.get(engagement=world.engagement, coach=world.other_coach)
    assert not markers.of(previous) & seen["coach"]
    survey = apps.get_model("feedback", "ClosingSurvey").objects.get(engagement=world.engagement)
    assert markers.of(survey) <= seen["staff"]
