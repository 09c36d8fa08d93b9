"""Coach cards' specialties and languages, and the directory filter's choices: one query each."""

from __future__ import annotations

import pytest
from django.template.loader import render_to_string
from pytest_django import DjangoAssertNumQueries

from coaches.selectors import CardLabels, PoolChoices, coach_card_labels, pool_filter_choices
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


def test_the_filter_offers_each_language_and_specialty_of_the_pool_once_by_name(
    django_assert_num_queries: DjangoAssertNumQueries,
) -> None:
    ada, bea, outside = (factories.CoachFactory() for _ in range(3))
    resilience = factories.SpecialtyFactory(name="Resilience")
    leadership = factories.SpecialtyFactory(name="Leadership")
    french = factories.LanguageFactory(code="fr", name="French")
    english = factories.LanguageFactory(code="en", name="English")
    german = factories.LanguageFactory(code="de", name="German")
    ada.specialties.add(resilience, leadership)
    bea.specialties.add(resilience)
    ada.languages.add(french)
    bea.languages.add(french, english)
    outside.languages.add(german)

    with django_assert_num_queries(1):
        choices = pool_filter_choices([ada.pk, bea.pk])

    assert choices == PoolChoices(
        languages=[("en", "English"), ("fr", "French")],
        specialties=[(str(leadership.pk), "Leadership"), (str(resilience.pk), "Resilience")],
    )
    assert pool_filter_choices([]) == PoolChoices()
