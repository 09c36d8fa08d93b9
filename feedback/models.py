"""Participant feedback: session ratings and the closing survey.

The rules (docs/architecture.md, "Rules and where they live"): a participant
rates a held session of their own engagement 1-5, once, and may change that
rating for RATING_CHANGE_WINDOW after the first one. When the engagement
completes, they may answer the closing survey once. Coaches see their own
averages and counts, never who rated what, and only once
MIN_RATINGS_FOR_AVERAGE answers are in.
"""

from __future__ import annotations

from datetime import timedelta

RATING_CHANGE_WINDOW = timedelta(days=7)
# Coaches see an average only once this many ratings are in, so a single
# rating cannot be read back from it.
MIN_RATINGS_FOR_AVERAGE = 3
