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

import bisect
import hashlib
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from accounts.models import User
from coaches.models import CoachProfile
from coaches.selectors import CardLabels, coach_card_labels

PAGE_SIZE = 3
MAX_EXCLUDES = 3


def shuffle_key(participant_id: uuid.UUID, coach_id: uuid.UUID) -> str:
    return hashlib.sha256(f"{participant_id}:{coach_id}".encode()).hexdigest()


def stable_shuffle(participant_id: uuid.UUID, coach_ids: Sequence[uuid.UUID]) -> list[uuid.UUID]:
    """The participant's own order of the given coaches: same input, same order."""
    return sorted(coach_ids, key=lambda coach_id: shuffle_key(participant_id, coach_id))


def page_start(
    participant_id: uuid.UUID, ordered: Sequence[uuid.UUID], exclude: Sequence[uuid.UUID]
) -> int:
    """Where the next page starts in `ordered` (the participant's order): right after
    the last coach of the page just seen (`exclude`), 0 when nothing was seen.

    The place is found by shuffle key, so it holds when a coach just seen has
    since left the pool (filled up, stopped accepting). The list never wraps
    around: past its end the page is empty and the directory offers to start again.
    """
    if not exclude:
        return 0
    last_seen = max(shuffle_key(participant_id, coach_id) for coach_id in exclude)
    keys = [shuffle_key(participant_id, coach_id) for coach_id in ordered]
    return bisect.bisect_right(keys, last_seen)


@dataclass(frozen=True)
class DirectoryPage:
    """Up to PAGE_SIZE cards, and where they are in the pool: "Coaches 4-6 of 32"."""

    coaches: list[CoachProfile]
    # Their specialties and languages (coach_card_labels).
    labels: dict[int, CardLabels]
    pool_size: int
    # The 1-based place of the first card in the participant's order.
    first: int

    @property
    def cards(self) -> list[tuple[CoachProfile, CardLabels]]:
        """Each coach of the page with what its card lists."""
        return [(coach, self.labels.get(coach.pk, CardLabels())) for coach in self.coaches]

    @property
    def last(self) -> int:
        return self.first + len(self.coaches) - 1

    @property
    def has_more(self) -> bool:
        """Coaches after this page, for "Show me other coaches"."""
        return self.last < self.pool_size

    @property
    def at_end(self) -> bool:
        """The participant has paged to the end of a pool of more than one page."""
        return not self.has_more and self.first != 1


def directory_page(
    *,
    participant: User,
    coach_ids: Sequence[uuid.UUID],
    exclude: Sequence[uuid.UUID] = (),
) -> DirectoryPage:
    """The page after the one just seen, in the participant's order, of the coaches
    with the public ids `coach_ids` (the pool): the cards, then their labels (two
    queries; none when the page is empty)."""
    ordered = stable_shuffle(participant.public_id, coach_ids)
    start = page_start(participant.public_id, ordered, exclude)
    page_ids = ordered[start : start + PAGE_SIZE]
    cards = {
        coach.public_id: coach
        for coach in CoachProfile.objects.filter(public_id__in=page_ids).select_related("user")
    }
    coaches = [cards[coach_id] for coach_id in page_ids if coach_id in cards]
    return DirectoryPage(
        coaches=coaches,
        labels=coach_card_labels(coaches) if coaches else {},
        pool_size=len(coach_ids),
        first=start + 1,
    )
