"""Reads of coach profiles for the pages that show them (docs/architecture.md, "Layers")."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from django.db.models import CharField, F, Value
from django.db.models.functions import Cast

from coaches.models import CoachProfile, Language, Specialty

SPECIALTY = "specialty"
LANGUAGE = "language"


@dataclass(frozen=True)
class CardLabels:
    """What a coach's card lists besides the profile's own columns, names sorted."""

    specialties: list[str] = field(default_factory=list)
    languages: list[str] = field(default_factory=list)


def coach_card_labels(coaches: Sequence[CoachProfile]) -> dict[int, CardLabels]:
    """Each coach's specialties and languages by coach id, in one query.

    The two many-to-many tables are read with one UNION ALL of their names (a
    prefetch of each would be two queries, and Python objects the card never
    uses). A coach with neither is absent: use CardLabels() for them.
    """
    ids = [coach.pk for coach in coaches]
    # django-stubs does not see annotations on the auto-created through models:
    # the ignores below are for the names `kind` and `name` only.
    specialties = (
        CoachProfile.specialties.through.objects.filter(coachprofile_id__in=ids)  # type: ignore[misc]
        .annotate(kind=Value(SPECIALTY, output_field=CharField()), name=F("specialty__name"))
        .values_list("coachprofile_id", "kind", "name")
    )
    languages = (
        CoachProfile.languages.through.objects.filter(coachprofile_id__in=ids)  # type: ignore[misc]
        .annotate(kind=Value(LANGUAGE, output_field=CharField()), name=F("language__name"))
        .values_list("coachprofile_id", "kind", "name")
    )
    labels: dict[int, CardLabels] = {}
    # By name, as Specialty and Language order themselves (the database's collation).
    rows = specialties.union(languages, all=True).order_by("name")  # type: ignore[misc]
    for coach_id, kind, name in rows:
        card = labels.setdefault(coach_id, CardLabels())
        (card.specialties if kind == SPECIALTY else card.languages).append(name)
    return labels


@dataclass(frozen=True)
class PoolChoices:
    """The directory filter's choices: what the pool's coaches speak and offer."""

    languages: list[tuple[str, str]] = field(default_factory=list)  # (code, name)
    specialties: list[tuple[str, str]] = field(default_factory=list)  # (id, name)


def pool_filter_choices(coach_ids: Sequence[int]) -> PoolChoices:
    """The languages and the specialties of these coaches, each once, by name: one
    UNION (which also removes the duplicates) rather than a DISTINCT query each."""
    languages = (
        Language.objects.filter(coaches__in=coach_ids)
        .order_by()  # the parts of a UNION are unordered (SQLite refuses otherwise)
        .annotate(kind=Value(LANGUAGE, output_field=CharField()), key=F("code"))
        .values_list("kind", "key", "name")
    )
    specialties = (
        Specialty.objects.filter(coaches__in=coach_ids)
        .order_by()
        .annotate(
            kind=Value(SPECIALTY, output_field=CharField()),
            key=Cast("pk", output_field=CharField()),
        )
        .values_list("kind", "key", "name")
    )
    choices = PoolChoices()
    for kind, key, name in languages.union(specialties).order_by("name"):
        (choices.languages if kind == LANGUAGE else choices.specialties).append((key, name))
    return choices
