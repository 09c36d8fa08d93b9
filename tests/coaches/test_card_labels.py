"""A coach card's specialties and languages: one query for any number of coaches."""

from __future__ import annotations

import pytest
from django.template.loader import render_to_string
from pytest_django import DjangoAssertNumQueries

from coaches.selectors import CardLabels, coach_card_labels
from tests import factories

pytestmark = pytest.mark.django_db


def test_each_coach_gets_its_own_names_sorted_as_the_models_order_them(
    django_assert_num_queries: DjangoAssertNumQueries,
) -> None:
    ada, bea, cy = factories.CoachFactory(), factories.CoachFactory(), factories.CoachFactory()
    resilience = factories.SpecialtyFactory(name="Resilience")
    leadership = factories.SpecialtyFactory(name="Leadership")
    french = factories.LanguageFactory(code="fr", name="French")
    english = factories.LanguageFactory(code="en", name="English")
    ada.specialties.add(resilience, leadership)
    ada.languages.add(french, english)
    bea.languages.add(french)

    with django_assert_num_queries(1):
        labels = coach_card_labels([ada, bea, cy])

    assert labels[ada.pk] == CardLabels(
        specialties=["Leadership", "Resilience"], languages=["English", "French"]
    )
    assert labels[bea.pk] == CardLabels(specialties=[], languages=["French"])
    assert cy.pk not in labels  # the pages show CardLabels() for them


def test_the_card_lists_the_names_as_before() -> None:
    coach = factories.CoachFactory(user__full_name="Ada Lovelace")
    html = render_to_string(
        "coaches/_card.html",
        {"coach": coach, "labels": CardLabels(["Leadership", "Resilience"], ["English", "French"])},
    )
    assert '<span class="badge">Leadership</span> <span class="badge">Resilience</span>' in html
    assert "<dd>English, French</dd>" in html
    assert "Specialties" not in render_to_string(
        "coaches/_card.html", {"coach": coach, "labels": CardLabels()}
    )
