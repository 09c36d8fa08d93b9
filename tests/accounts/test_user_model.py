from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction

from accounts.models import User
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_email_is_stored_lower_cased_and_nobody_has_a_password() -> None:
    user = User.objects.create_user("  Jane.Doe@Example.COM ", full_name="Jane Doe")
    assert user.email == "jane.doe@example.com"
    assert not user.has_usable_password()


def test_natural_key_lookup_ignores_case() -> None:
    user = UserFactory(email="sam@example.com")
    assert User.objects.get_by_natural_key("SAM@example.com") == user


def test_database_refuses_the_same_email_in_another_case() -> None:
    UserFactory(email="sam@example.com")
    # Written around the manager's normalisation, as a raw import might.
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.bulk_create([User(email="SAM@Example.com", full_name="Twin")])


def test_database_refuses_an_unknown_role() -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.bulk_create([User(email="r@example.com", full_name="R", role="root")])


def test_only_active_staff_count_as_admin_staff() -> None:
    assert UserFactory(role="staff").is_staff
    assert not UserFactory(role="coach").is_staff
    assert not UserFactory(role="staff", is_active=False).is_staff
