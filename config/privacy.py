"""Private fields, named in one place, and the smallest group an aggregate may describe.

docs/architecture.md, "Private fields and group sizes". Everything that must
keep a private field out of sight (the admin, the exports, the tests that walk
them) asks this module, so naming a new field here protects it everywhere.

Fields are named by label ("app_label.Model.field"), so this lowest layer
imports no app; the labels are resolved through the app registry when asked.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum

from django.apps import apps
from django.core.exceptions import FieldDoesNotExist
from django.db.models import Expression, F, Model
from django.db.models.constants import LOOKUP_SEP


class Reader(StrEnum):
    """Who may read a private field, on the pages made for them (never the admin or an export)."""

    # The coach who logged the session, on their own engagement page. Not staff.
    OWN_COACH = "own_coach"
    # Staff, on the program report. Not sponsors, coaches or participants.
    STAFF = "staff"


PRIVATE_FIELDS: dict[str, Reader] = {
    "engagements.CoachingSession.notes": Reader.OWN_COACH,
    "feedback.ClosingSurvey.what_changed": Reader.STAFF,
}

# No aggregate shown outside staff may describe fewer answers than this, whatever
# the settings say: with two, each participant could work out the other's answer.
SMALLEST_GROUP_SIZE = 3


@dataclass(frozen=True)
class PrivateField:
    model: type[Model]
    name: str
    reader: Reader

    @property
    def label(self) -> str:
        return f"{self.model._meta.label}.{self.name}"


def private_fields() -> list[PrivateField]:
    """Every private field with its model; a label that names no field is an error."""
    found = []
    for label, reader in PRIVATE_FIELDS.items():
        model_label, name = label.rsplit(".", 1)
        model = apps.get_model(model_label)
        model._meta.get_field(name)  # FieldDoesNotExist: the list names a field that is gone
        found.append(PrivateField(model=model, name=name, reader=reader))
    return found


def _label(model: type[Model]) -> str:
    """The label of the model that holds the rows (a proxy's concrete model)."""
    concrete = model._meta.concrete_model or model
    return concrete._meta.label


def is_private(model: type[Model], name: str) -> bool:
    """True when `name` is a private field of `model` (or of the model it proxies)."""
    return f"{_label(model)}.{name}" in PRIVATE_FIELDS


def private_field_in_path(model: type[Model], path: str) -> str | None:
    """The label of the private field that a lookup path reaches from `model`, else None.

    `path` is what the ORM accepts: `notes__icontains`, `-notes`,
    `engagement__sessions__notes__regex`, `^notes` (a search field). Relations
    are followed as far as the path goes; the first part that is not a field
    (a lookup, a transform) ends the walk.
    """
    path = path.lstrip("-?^=@")
    for part in path.split(LOOKUP_SEP):
        try:
            field = model._meta.get_field(part)
        except FieldDoesNotExist:
            return None
        if is_private(model, field.name):
            return f"{_label(model)}.{field.name}"
        related = field.related_model if field.is_relation else None
        if related is None or isinstance(related, str):
            return None
        model = related
    return None


def private_fields_in(model: type[Model], item: object) -> Iterator[str]:
    """Labels of the private fields that an admin or ORM setting names.

    `item` is a field path, an expression (`F("notes").desc()`, `Lower("notes")`),
    or a list filter's `(path, FilterClass)` pair; anything else names no field.
    """
    if isinstance(item, tuple | list):
        if item:
            yield from private_fields_in(model, item[0])
        return
    if isinstance(item, str):
        label = private_field_in_path(model, item)
        if label is not None:
            yield label
        return
    if isinstance(item, F):
        yield from private_fields_in(model, str(item.name))  # type: ignore[attr-defined]
        return
    if isinstance(item, Expression):
        for source in item.get_source_expressions():
            yield from private_fields_in(model, source)
