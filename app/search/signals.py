"""Use and rating as search sees them: fetched once per search for the assets it ranks, and the
bounded lift they give a text match (README, "Relevance")."""
from __future__ import annotations

import math

from app import usage
from app.library import ratings

RECENT_USE_DAYS = 30
# Use and rating lift a text match by at most USE_LIFT + RATING_LIFT together (README, "Relevance"):
# they order matches of about equal text, and never put a weak match above a clearly better one.
USE_LIFT = 0.2  # at USES_FOR_FULL_LIFT uses in RECENT_USE_DAYS days, log-scaled below
USES_FOR_FULL_LIFT = 50
RATING_LIFT = 0.1  # at an average of 5 stars; 1 star lowers by as much


def relevance_weight(uses: int, stars: float | None) -> float:
    """Multiplier on the text score: between 1 − RATING_LIFT and 1 + USE_LIFT + RATING_LIFT."""
    use = min(1.0, math.log1p(uses) / math.log1p(USES_FOR_FULL_LIFT))
    rating = 0.0 if stars is None else max(-1.0, min(1.0, (stars - 3.0) / 2.0))
    return 1 + USE_LIFT * use + RATING_LIFT * rating


class Signals:
    """Recent use and ratings from the database, fetched once per search and reused for the page."""

    def __init__(self):
        self.uses: dict[int, int] = {}
        self.stars: dict[int, ratings.RatingSummary] = {}

    def load(self, ids: list[int]) -> None:
        missing = [i for i in ids if i not in self.uses]
        if missing:
            counts = usage.use_counts(missing, days=RECENT_USE_DAYS)
            self.uses.update({i: counts.get(i, 0) for i in missing})
            self.stars.update(ratings.summaries(missing))

    def weights(self, ids: list[int], sort: str) -> dict[int, float]:
        """Per-asset weights for ranking (relevance) or sorting (most used, top rated)."""
        self.load(ids)
        if sort == "most_used":
            return {i: float(self.uses[i]) for i in ids}
        if sort == "top_rated":
            return {i: self.stars[i].average + self.stars[i].count / 1e6 if i in self.stars else 0.0
                    for i in ids}
        return {i: relevance_weight(self.uses[i], self.stars[i].average if i in self.stars else None)
                for i in ids}
