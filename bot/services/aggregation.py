"""How one application's reviews become its score: the weighted total of each complete review, their mean
(trimmed when organizers ask for it and enough reviewers scored), the mean of each criterion over the
reviews counted, and the criteria below their pass mark. Pure functions: the ranking and the tests call
them alike."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field

CRITERIA = ("innovation", "safety", "applicability", "economy")

Scores = Sequence[int]  # one complete review: the four criteria in CRITERIA's order


@dataclass(frozen=True)
class Aggregate:
    mean: float | None  # the mean weighted total over the counted reviews, rounded to 2 places
    reviews: int  # complete reviews
    counted: int  # reviews the mean is taken over (two fewer when trimmed)
    spread: float | None  # highest minus lowest weighted total over all complete reviews
    trimmed: bool  # the highest and the lowest total were left out
    criterion_means: dict[str, float] = field(default_factory=dict)  # over the counted reviews, rounded
    below_pass: tuple[str, ...] = ()  # criteria whose mean is under the organizers' pass mark


def weighted(scores: Scores, weights: Sequence[float]) -> float:
    return sum(w * v for w, v in zip(weights, scores, strict=True)) / sum(weights)


def counted(totals: Sequence[float], trim_min_reviews: int) -> list[int]:
    """Indices of the reviews the mean is taken over: all of them, or, with at least ``trim_min_reviews``
    (0: never), all but one highest and one lowest total. Of equal totals the later review is dropped
    from the top and the earlier from the bottom, so the choice does not depend on chance."""
    order = sorted(range(len(totals)), key=lambda i: (totals[i], i))
    if trim_min_reviews and len(totals) >= max(trim_min_reviews, 3):
        order = order[1:-1]
    return sorted(order)


def aggregate(
    reviews: Sequence[Scores],
    weights: Sequence[float],
    trim_min_reviews: int = 0,
    pass_marks: Sequence[float] = (0, 0, 0, 0),
) -> Aggregate:
    if not reviews:
        return Aggregate(None, 0, 0, None, False)
    totals = [weighted(r, weights) for r in reviews]
    kept = counted(totals, trim_min_reviews)
    means = {c: round(statistics.fmean(reviews[i][n] for i in kept), 2) for n, c in enumerate(CRITERIA)}
    # Compared as shown (two places), so a mean the board shows as 3.00 is never "below 3".
    below = tuple(c for c, mark in zip(CRITERIA, pass_marks, strict=True) if mark and means[c] < mark)
    return Aggregate(
        mean=round(statistics.fmean(totals[i] for i in kept), 2),
        reviews=len(reviews),
        counted=len(kept),
        spread=round(max(totals) - min(totals), 2),
        trimmed=len(kept) < len(reviews),
        criterion_means=means,
        below_pass=below,
    )
