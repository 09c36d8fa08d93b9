"""An organization's privacy settings: its minimum group size and whether sponsors
see individual progress, set by staff in the admin."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction
from django.test import Client
from pytest_django import Settings

from engagements.models import Organization
from tests.factories import OrganizationFactory

pytestmark = pytest.mark.django_db

ADD = "/admin/engagements/organization/add/"


def _form(**overrides: str) -> dict[str, str]:
    return {"name": "Fabrikam", "min_group_size": "", "time_zone": "Europe/Paris", **overrides}


def test_a_new_organization_keeps_individual_progress_private_and_uses_the_setting(
    settings: Settings,
) -> None:
    organization = OrganizationFactory()
    assert organization.sponsors_see_individual_progress is False
    assert organization.min_group_size is None
    assert organization.group_size == settings.MIN_GROUP_SIZE == 5
    settings.MIN_GROUP_SIZE = 8
    assert organization.group_size == 8


def test_an_organization_may_ask_for_a_larger_or_smaller_group() -> None:
    assert OrganizationFactory(min_group_size=12).group_size == 12
    assert OrganizationFactory(min_group_size=3).group_size == 3


@pytest.mark.parametrize("size", ["2", "1", "0"])
def test_the_admin_refuses_a_group_smaller_than_3_and_saves_nothing(
    admin_client_verified: Client,
    size: str,
) -> None:
    response = admin_client_verified.post(ADD, _form(min_group_size=size))
    assert response.status_code == 200
    assert "Ensure this value is greater than or equal to 3." in response.content.decode()
    assert not Organization.objects.filter(name="Fabrikam").exists()


@pytest.mark.parametrize("size", ["-3", "three", "3.5"])
def test_the_admin_refuses_a_size_that_is_no_count(
    admin_client_verified: Client, size: str
) -> None:
    response = admin_client_verified.post(ADD, _form(min_group_size=size))
    assert response.status_code == 200
    assert "errornote" in response.content.decode()
    assert not Organization.objects.filter(name="Fabrikam").exists()


def test_the_admin_saves_a_group_size_and_the_progress_switch(
    admin_client_verified: Client,
) -> None:
    response = admin_client_verified.post(
        ADD, _form(min_group_size="3", sponsors_see_individual_progress="on")
    )
    assert response.status_code == 302
    organization = Organization.objects.get(name="Fabrikam")
    assert (organization.min_group_size, organization.sponsors_see_individual_progress) == (
        3,
        True,
    )


def test_the_database_refuses_a_group_smaller_than_3() -> None:
    organization = OrganizationFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        Organization.objects.filter(pk=organization.pk).update(min_group_size=2)


def test_an_organization_takes_the_sites_time_zone_unless_set(settings: Settings) -> None:
    assert OrganizationFactory().time_zone == settings.TIME_ZONE


@pytest.mark.parametrize("zone", ["Mars/Olympus", "", "europe/paris "])
def test_the_admin_refuses_a_time_zone_that_does_not_exist(
    admin_client_verified: Client, zone: str
) -> None:
    response = admin_client_verified.post(ADD, _form(time_zone=zone))
    assert response.status_code == 200
    assert "errornote" in response.content.decode()
    assert not Organization.objects.filter(name="Fabrikam").exists()


def test_the_admin_saves_a_time_zone(admin_client_verified: Client) -> None:
    assert admin_client_verified.post(ADD, _form(time_zone="Asia/Tokyo")).status_code == 302
    assert Organization.objects.get(name="Fabrikam").time_zone == "Asia/Tokyo"
