"""Nudge runs and flags are visible in the admin and cannot be edited by hand."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import User
from nudges.models import NudgeRun
from tests.factories import ProgramFactory
from tests.nudges.helpers import invited, run_nudges
from tests.signin import login_verified

pytestmark = pytest.mark.django_db


def test_runs_are_listed_with_their_counts_and_are_read_only(client: Client, staff: User) -> None:
    invited(ProgramFactory(), days_ago=10)
    run_nudges()
    run = NudgeRun.objects.get()
    login_verified(client, staff)

    listing = client.get(reverse("admin:nudges_nudgerun_changelist"))
    detail = client.get(reverse("admin:nudges_nudgerun_change", args=[run.pk]))
    add = client.get(reverse("admin:nudges_nudgerun_add"))
    delete = client.post(reverse("admin:nudges_nudgerun_delete", args=[run.pk]), {"post": "yes"})

    assert listing.status_code == 200
    assert b"Succeeded" in listing.content
    assert detail.status_code == 200
    assert b'name="outcome"' not in detail.content  # shown, not editable
    assert add.status_code == 403
    assert delete.status_code == 403
    assert NudgeRun.objects.filter(pk=run.pk).exists()


def test_flags_are_listed_and_read_only(client: Client, staff: User) -> None:
    invited(ProgramFactory(), days_ago=10)
    run_nudges()
    login_verified(client, staff)

    listing = client.get(
        reverse("admin:nudges_nudgeflag_changelist"), {"kind": "no_coach_selected"}
    )

    assert listing.status_code == 200
    assert b"1 nudge flag" in listing.content
    assert client.get(reverse("admin:nudges_nudgeflag_add")).status_code == 403
