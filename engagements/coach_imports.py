"""Coach import: validated rows in, bulk writes out.

It lives in engagements, beside the participant import (engagements/imports.py,
whose program lookup, CSV reader and problem formatter it shares), because an
imported coach joins a program's pool. `coaches_import` is the one writer; the
django-import-export resource (engagements/coach_resources.py) parses and
validates each row and calls it once, at the end, only when every row is valid.
It writes in a fixed number of bulk statements whatever the file's size, and
writes nothing for a row that would change nothing, so re-importing a file is a
no-op.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.conf.locale import LANG_INFO
from django.db import transaction
from django.db.models import Model
from django.db.models.functions import Lower
from django.utils import timezone

from accounts.audit import audit_record
from accounts.backends import users_forget
from accounts.models import Role, User
from coaches.models import CoachProfile, Language, Specialty, coach_load_changed
from engagements.models import Program, program_rows_changed

# What the import may set on a profile (capacity included: only staff import).
PROFILE_FIELDS = ("headline", "bio", "capacity", "booking_url", "time_zone", "accepting_new")
BATCH = 1000

# ISO 639-1 codes Django knows by name (two letters), plus Chinese, which
# Django lists only by script (zh-hans, zh-hant).
ISO_LANGUAGES: dict[str, str] = {
    code: info["name"] for code, info in LANG_INFO.items() if len(code) == 2 and "name" in info
} | {"zh": "Chinese"}


@dataclass
class CoachImportRow:
    """One valid row: the profile (new or loaded, fields already set) and the rest."""

    profile: CoachProfile
    full_name: str
    language_codes: frozenset[str]
    specialty_names: frozenset[str]
    is_new: bool
    # Profile fields whose value differs from the database (all of them when new).
    changed_fields: frozenset[str] = frozenset(PROFILE_FIELDS)


@dataclass
class CoachImportSummary:
    created: int = 0
    updated: int = 0
    added_to_pool: int = 0


def coaches_import(
    *,
    rows: Sequence[CoachImportRow],
    program: Program | None,
    actor: User | None = None,
    audit: bool = True,
) -> CoachImportSummary:
    """Create or update coach users and profiles, their languages and specialties,
    and add every imported coach to `program`'s pool, in bulk statements.

    `audit=False` when the caller records one event for several calls (a file
    imported in chunks, `import_coaches`)."""
    summary = CoachImportSummary()
    with transaction.atomic():
        _write_users(rows)
        _write_profiles(rows, summary)
        languages = _languages(_union(row.language_codes for row in rows))
        specialties = _specialties(_union(row.specialty_names for row in rows))
        _replace_links(
            CoachProfile.languages.through,
            "language_id",
            {row.profile.pk: {languages[code] for code in row.language_codes} for row in rows},
        )
        _replace_links(
            CoachProfile.specialties.through,
            "specialty_id",
            {
                row.profile.pk: {specialties[name.lower()] for name in row.specialty_names}
                for row in rows
            },
        )
        if program is not None:
            summary.added_to_pool = _add_to_pool(program, [row.profile.pk for row in rows])
        if audit:
            coaches_import_audit(summary, program=program, actor=actor)
    return summary


def coaches_import_audit(
    summary: CoachImportSummary, *, program: Program | None, actor: User | None
) -> None:
    """One audit event for an import that changed something (a call, or a whole file)."""
    if summary.created or summary.updated or summary.added_to_pool:
        audit_record(
            action="coaches.imported",
            obj=program,
            actor=actor,
            after={
                "created": summary.created,
                "updated": summary.updated,
                "added_to_pool": summary.added_to_pool,
            },
        )


def _union(sets: Iterable[frozenset[str]]) -> set[str]:
    return set().union(*sets)


def _write_users(rows: Sequence[CoachImportRow]) -> None:
    new_users: list[User] = []
    renamed: list[User] = []
    for row in rows:
        user = row.profile.user
        if user.pk is None:
            user.set_unusable_password()
            new_users.append(user)
        elif user.full_name != row.full_name:
            renamed.append(user)
        user.full_name = row.full_name
    User.objects.bulk_create(new_users, batch_size=BATCH)
    User.objects.bulk_update(renamed, ["full_name"], batch_size=BATCH)
    users_forget(user.pk for user in renamed)  # bulk_update sends no post_save


def _write_profiles(rows: Sequence[CoachImportRow], summary: CoachImportSummary) -> None:
    new = [row.profile for row in rows if row.is_new]
    existing = [row for row in rows if not row.is_new]
    for profile in new:
        profile.user = profile.user  # picks up the user's new primary key
    CoachProfile.objects.bulk_create(new, batch_size=BATCH)
    # One column at a time, only the rows where it changed: bulk_update builds a
    # CASE per column and row, so a file that changes capacities stays quick.
    for name in PROFILE_FIELDS:
        changed = [row.profile for row in existing if name in row.changed_fields]
        CoachProfile.objects.bulk_update(changed, [name], batch_size=BATCH)
    CoachProfile.objects.filter(pk__in=[row.profile.pk for row in existing]).update(
        updated_at=timezone.now()
    )
    coach_load_changed()  # bulk writes call no save()
    summary.created, summary.updated = len(new), len(existing)


def _languages(codes: set[str]) -> dict[str, int]:
    known = dict(Language.objects.filter(code__in=codes).values_list("code", "pk"))
    missing = sorted(codes - known.keys())
    if missing:
        Language.objects.bulk_create(
            [Language(code=code, name=ISO_LANGUAGES.get(code, code)) for code in missing],
            ignore_conflicts=True,
        )
        known = dict(Language.objects.filter(code__in=codes).values_list("code", "pk"))
    return known


def _specialties(names: set[str]) -> dict[str, int]:
    """Specialty ids by lower-cased name; an existing name matches in any case."""

    def lookup() -> dict[str, int]:
        return dict(
            Specialty.objects.annotate(key=Lower("name"))
            .filter(key__in=[name.lower() for name in names])
            .values_list("key", "pk")
        )

    known = lookup()
    missing: dict[str, str] = {}
    for name in sorted(names):  # "Leadership" before "leadership": capitals win
        if name.lower() not in known:
            missing.setdefault(name.lower(), name)
    if missing:
        Specialty.objects.bulk_create(
            [Specialty(name=name) for name in missing.values()], ignore_conflicts=True
        )
        known = lookup()
    return known


def _replace_links(through: type[Model], target: str, wanted: dict[int, set[int]]) -> None:
    """Make each profile's links equal to `wanted`, touching only profiles that differ."""
    profile_ids = list(wanted)
    current: dict[int, set[int]] = {pk: set() for pk in profile_ids}
    # _default_manager: the auto-created through model's `objects`, which the stubs cannot see.
    links = through._default_manager.filter(coachprofile_id__in=profile_ids)
    for profile_id, target_id in links.values_list("coachprofile_id", target):
        current[profile_id].add(target_id)
    # A profile that loses a link has all its links rewritten: one DELETE in all.
    stale = [pk for pk in profile_ids if current[pk] - wanted[pk]]
    if stale:
        through._default_manager.filter(coachprofile_id__in=stale).delete()
        for pk in stale:
            current[pk] = set()
    additions = [
        through(coachprofile_id=pk, **{target: target_id})
        for pk in profile_ids
        for target_id in sorted(wanted[pk] - current[pk])
    ]
    through._default_manager.bulk_create(additions, batch_size=BATCH)


def _add_to_pool(program: Program, profile_ids: list[int]) -> int:
    through = Program.coaches.through
    present = set(
        through.objects.filter(program=program, coachprofile_id__in=profile_ids).values_list(
            "coachprofile_id", flat=True
        )
    )
    links = [
        through(program_id=program.pk, coachprofile_id=pk)
        for pk in profile_ids
        if pk not in present
    ]
    through.objects.bulk_create(links, batch_size=BATCH, ignore_conflicts=True)
    program_rows_changed(program.pk)  # the pool is one of the program's rows; no signal here
    return len(links)


def new_coach_user(*, email: str, full_name: str) -> User:
    """An unsaved coach user; coaches_import saves it in bulk."""
    return User(email=email, full_name=full_name, role=Role.COACH)
