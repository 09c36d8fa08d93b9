"""Malformed input in the admin answers 400 with a sentence, never a 500.

Generated from the admin registry, like the access matrix from the URL
configuration: every registered ModelAdmin, every list filter parameter, every
field of its model with the common lookups, the sort order, and every action
with a selection that is not an id. A model or filter added later is covered
without touching this file.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import pytest
from django.contrib import admin
from django.contrib.admin import ModelAdmin
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import DateField, Field, Model
from django.db.models.fields.related import RelatedField
from django.test import Client, RequestFactory
from django.urls import reverse

from accounts.admin_site import CheckedInputAdmin
from tests.security.world import World, build_world, row_counts

pytestmark = pytest.mark.django_db

BAD = "not-a-value"
FILTER_VALUES = [BAD, "99999999999999999999", "2026-02-30"]


@pytest.fixture
def world() -> World:
    from django.core.cache import cache

    cache.clear()
    return build_world()


@pytest.fixture
def staff(world: World) -> Client:
    return world.client("staff")


def registered() -> list[tuple[type[Model], ModelAdmin[Any]]]:
    return sorted(admin.site._registry.items(), key=lambda item: item[0]._meta.label)


def changelist(model: type[Model]) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")


def answer(client: Client, url: str, data: dict[str, Any] | None = None) -> int | str:
    """The status code, or what was raised (the test client re-raises a view's exception)."""
    try:
        response = client.post(url, data) if data is not None else client.get(url)
    except Exception as error:  # noqa: BLE001 - the failure is the finding
        return f"raised {type(error).__name__}: {error}"
    return response.status_code


def refuses(field: Field[Any, Any], value: str) -> bool:
    """Whether the field itself cannot turn `value` into something the database takes."""
    target = field.target_field if isinstance(field, RelatedField) else field
    try:
        target.get_db_prep_value(target.to_python(value), connection, prepared=False)
    except (ValidationError, ValueError, TypeError, OverflowError):
        return True
    return False


Case = tuple[dict[str, str], set[int]]  # query parameters, the answers accepted


def field_lookups(model: type[Model]) -> Iterator[Case]:
    """Malformed values for every forward field of `model`, and the refused lookups."""
    fields = [
        f
        for f in model._meta.get_fields()
        if isinstance(f, Field) and (f.concrete or f.many_to_many) and not f.auto_created
    ]
    fields.append(model._meta.pk)
    for field in fields:
        # A number, date, id, address or yes/no refuses BAD; text takes it and finds nothing.
        ok = {400} if refuses(field, BAD) else {200, 400}
        yield {field.name: BAD}, ok
        yield {f"{field.name}__in": f"{BAD},1"}, ok
        if isinstance(field, DateField):  # DateTimeField too
            yield {f"{field.name}__year": "99999999999"}, {400}
            yield {f"{field.name}__year": "0"}, {400}
    # Refused by their name whatever the field (accounts/admin_site.py, REFUSED_LOOKUPS):
    # tried on a text field and on the id.
    text = next((f.name for f in fields if not refuses(f, BAD)), None)
    for name in filter(None, (text, model._meta.pk.name)):
        yield {f"{name}__regex": "("}, {400}
        yield {f"{name}__range": f"{BAD},{BAD}"}, {400}


def list_cases(model: type[Model], model_admin: ModelAdmin[Any], world: World) -> Iterator[Case]:
    """Every list filter parameter, every field, the sort order and the date drill-down."""
    for parameter in filter_parameters(model_admin, world):
        for value in FILTER_VALUES:
            yield {parameter: value}, {200, 400}
    yield from field_lookups(model)
    for order in ("zz", "1.999"):
        yield {"o": order}, {400}
    if year := model_admin.date_hierarchy:  # 9999-12 runs past the last date Python has
        yield {f"{year}__year": "9999", f"{year}__month": "12"}, {400}


def filter_parameters(model_admin: ModelAdmin[Any], world: World) -> set[str]:
    request = RequestFactory().get("/")
    request.user = world.staff
    changelist = model_admin.get_changelist_instance(request)
    return {
        p for spec in changelist.filter_specs for p in spec.expected_parameters() if p is not None
    }


def test_every_registered_admin_checks_its_input() -> None:
    """The site adds the checks at registration; a ModelAdmin registered later gets them."""
    unchecked = [
        type(model_admin).__name__
        for _, model_admin in registered()
        if not isinstance(model_admin, CheckedInputAdmin)
    ]
    assert not unchecked


def test_malformed_filters_lookups_and_sort_orders_answer_400(world: World, staff: Client) -> None:
    failures = []
    for model, model_admin in registered():
        url = changelist(model)
        for query, expected in list_cases(model, model_admin, world):
            path = f"{url}?{urlencode(query)}"
            if (got := answer(staff, path)) not in expected:
                failures.append(f"GET {path}: {got}, expected {sorted(expected)}")
    assert not failures, "\n".join(failures)


def test_an_action_on_a_selection_that_is_not_an_id_answers_400_and_changes_nothing(
    world: World, staff: Client
) -> None:
    request = RequestFactory().get("/")
    request.user = world.staff
    failures = []
    for model, model_admin in registered():
        url = changelist(model)
        for action in model_admin.get_actions(request):
            before = row_counts()
            for selection, expected in ((["abc"], {400}), (["1", "1.5"], {400})):
                got = answer(staff, url, {"action": action, "_selected_action": selection})
                if got not in expected:
                    failures.append(f"POST {url} {action} {selection}: {got}")
            huge = answer(staff, url, {"action": action, "_selected_action": ["9" * 20]})
            if not isinstance(huge, int) or huge >= 500:
                failures.append(f"POST {url} {action} ['9' * 20]: {huge}")
            if row_counts() != before:
                failures.append(f"POST {url} {action} with bad ids wrote to the database")
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize(
    "path",
    [
        "/admin/accounts/auditevent/?client_ip=notanip",
        "/admin/accounts/auditevent/?created_at__gte=notadate",
        "/admin/accounts/auditevent/?created_at__year=99999999999",
        "/admin/engagements/engagement/?status_version=x",
        "/admin/engagements/engagement/?o=zz",
        "/admin/accounts/user/?email__regex=%5B",
        "/admin/engagements/engagement/export/?status_version=x",
    ],
)
def test_a_reported_malformed_filter_answers_400_with_a_way_back(staff: Client, path: str) -> None:
    response = staff.get(path)

    assert response.status_code == 400
    body = response.content.decode()
    assert "cannot be shown with the filters, sort order or page in its address" in body
    assert f'href="{path.split("?")[0]}"' in body  # the same list without them
    assert "Coachdesk back office" in body  # in the admin's own look


def test_a_bulk_action_on_an_id_that_is_not_one_answers_400_and_deactivates_nobody(
    world: World, staff: Client
) -> None:
    response = staff.post(
        "/admin/accounts/user/",
        {"action": "deactivate", "_selected_action": [world.coach.user.pk, "abc"]},
    )

    assert response.status_code == 400
    assert (
        "Nothing was changed: &#x27;abc&#x27; is not the id of a user." in response.content.decode()
    )
    world.coach.user.refresh_from_db()
    assert world.coach.user.is_active


def test_well_formed_filters_still_filter(world: World, staff: Client) -> None:
    url = "/admin/engagements/engagement/"
    response = staff.get(url, {"status__exact": world.engagement.status, "o": "-2.1"})

    assert response.status_code == 200
    assert response.context["cl"].result_count == 2
