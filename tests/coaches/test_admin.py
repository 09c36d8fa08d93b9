from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from import_export.tmp_storages import CacheStorage
from pytest_django import DjangoAssertNumQueries

from accounts.models import User
from coaches.models import CoachProfile
from engagements.models import Program
from tests import factories
from tests.engagements.test_import_coaches import csv_text, row
from tests.responses import ClientResponse
from tests.signin import login_verified

pytestmark = pytest.mark.django_db
LIST = "/admin/coaches/coachprofile/"
IMPORT = "/admin/coaches/coachprofile/import/"
PROCESS = "/admin/coaches/coachprofile/process_import/"


def names(response: ClientResponse) -> set[str]:
    assert response.status_code == 200
    return set(
        re.findall(r'<th class="field-user[^"]*"><a [^>]*>([^<]+)</a>', response.content.decode())
    )


def test_coach_list_shows_capacity_active_engagements_and_accepting(
    client: Client, staff: User
) -> None:
    coach = factories.CoachFactory(capacity=4)
    for _ in range(3):
        factories.engagement_with_coach(coach=coach)
    login_verified(client, staff)

    body = client.get(LIST).content.decode()

    assert '<td class="field-capacity">4</td>' in body
    assert '<td class="field-active_engagements">3</td>' in body
    assert "field-accepting_new" in body


@pytest.mark.parametrize("extra", [0, 40])
def test_coach_list_query_count_does_not_grow_with_coaches(
    client: Client, staff: User, extra: int, django_assert_num_queries: DjangoAssertNumQueries
) -> None:
    for coach in factories.CoachFactory.create_batch(3 + extra):
        factories.engagement_with_coach(coach=coach)
    login_verified(client, staff)
    client.get(LIST)

    # programs (filter), two counts, the coaches with their active counts (the
    # session, the user and the OTP device come from the cache after the first request)
    with django_assert_num_queries(4):
        client.get(LIST)


def test_filters_full_coaches_and_by_program(client: Client, staff: User, program: Program) -> None:
    full = factories.CoachFactory(capacity=1, user__full_name="Fiona Full")
    factories.engagement_with_coach(coach=full)
    roomy = factories.CoachFactory(capacity=2, user__full_name="Rita Room")
    factories.engagement_with_coach(coach=roomy)
    program.coaches.add(roomy)
    login_verified(client, staff)

    assert names(client.get(LIST, {"full": "yes"})) == {"Fiona Full"}
    assert names(client.get(LIST, {"full": "no"})) == {"Rita Room"}
    assert names(client.get(LIST, {"programs__id__exact": program.pk})) == {"Rita Room"}
    assert names(client.get(LIST, {"accepting_new__exact": "1"})) == {"Fiona Full", "Rita Room"}


def test_admin_import_checks_then_confirms_into_the_program(
    client: Client, staff: User, program: Program
) -> None:
    assert settings.IMPORT_EXPORT_TMP_STORAGE_CLASS == "import_export.tmp_storages.CacheStorage"
    upload = SimpleUploadedFile("coaches.csv", csv_text(row()).encode(), content_type="text/csv")
    login_verified(client, staff)

    check = client.post(IMPORT, {"import_file": upload, "format": "0", "program": program.pk})

    assert check.status_code == 200
    assert not User.objects.filter(email="ada.lovelace@example.com").exists()
    confirm = check.context["confirm_form"]
    stored = confirm.initial["import_file_name"]
    # The upload waits in the shared cache, so any web process can confirm it.
    assert cache.get(CacheStorage.CACHE_PREFIX + stored) is not None

    done = client.post(PROCESS, {**confirm.initial, "program": program.pk})

    assert done.status_code == 302
    coach = CoachProfile.objects.get(user__email="ada.lovelace@example.com")
    assert coach in program.coaches.all()
    assert cache.get(CacheStorage.CACHE_PREFIX + stored) is None


def test_admin_import_lists_bad_rows_and_offers_no_confirmation(
    client: Client, staff: User
) -> None:
    text = csv_text(row(), row(email="grace@example.com", capacity="-3"))
    upload = SimpleUploadedFile("coaches.csv", text.encode(), content_type="text/csv")
    login_verified(client, staff)

    response = client.post(IMPORT, {"import_file": upload, "format": "0"})

    assert response.status_code == 200
    assert "confirm_form" not in response.context
    assert "Capacity cannot be negative." in response.content.decode()
    assert not User.objects.filter(role="coach").exists()
