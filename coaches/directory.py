"""The directory's stable order: the participant's own shuffle of a pool of coaches,
and the page of three cards shown from it. Which coaches are in the pool (available,
not full) is the engagements' business: engagements/selectors.py, `available_coaches`.

The order is a hash of (participant, coach) public ids, computed in Python over the
pool's ids: it is identical on SQLite and PostgreSQL, stable for one participant and
different between participants, so early choosers do not all land on the same
coaches. A pool is at most a few hundred coaches, so fetching their ids is cheap and
the number of queries does not depend on the pool's size.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from django.db.models import QuerySet

from accounts.models import User
from coaches.models import CoachProfile

PAGE_SIZE = 3
MAX_EXCLUDES = 3


def shuffle_key(participant_id: uuid.UUID, coach_id: uuid.UUID) -> str:
    return hashlib.sha256(f"{participant_id}:{coach_id}".encode()).hexdigest()


def stable_shuffle(participant_id: uuid.UUID, coach_ids: Sequence[uuid.UUID]) -> list[uuid.UUID]:
    """The participant's own order of the given coaches: same input, same order."""
    return sorted(coach_ids, key=lambda coach_id: shuffle_key(participant_id, coach_id))


def next_page(ordered: Sequence[uuid.UUID], exclude: Sequence[uuid.UUID]) -> list[uuid.UUID]:
    """The next PAGE_SIZE ids after the last excluded one, skipping the excluded, wrapping.

    Excluded ids are the page just seen, in the order shown. When fewer than a
    page of others remain, the page is filled up with the excluded ones, so a
    small pool still shows three coaches.
    """
    if not ordered:
        return []
    start = 0
    for coach_id in reversed(exclude):
        if coach_id in ordered:
            start = ordered.index(coach_id) + 1
            break
    rotated = [*ordered[start:], *ordered[:start]]
    excluded = set(exclude)
    page = [coach_id for coach_id in rotated if coach_id not in excluded][:PAGE_SIZE]
    if len(page) < PAGE_SIZE:
        page += [coach_id for coach_id in rotated if coach_id in excluded][: PAGE_SIZE - len(page)]
    return page


@dataclass(frozen=True)
class DirectoryPage:
    coaches: list[CoachProfile]
    pool_size: int


def directory_page(
    *,
    participant: User,
    pool: QuerySet[CoachProfile],
    exclude: Sequence[uuid.UUID] = (),
) -> DirectoryPage:
    """Three cards from `pool` in the participant's order: two queries plus prefetches."""
    ids = list(pool.order_by().values_list("public_id", flat=True))
    page_ids = next_page(stable_shuffle(participant.public_id, ids), exclude)
    cards = {
        coach.public_id: coach
        for coach in CoachProfile.objects.filter(public_id__in=page_ids)
        .select_related("user")
        .prefetch_related("specialties", "languages")
    }
    return DirectoryPage(
        coaches=[cards[coach_id] for coach_id in page_ids if coach_id in cards],
        pool_size=len(ids),
    )
