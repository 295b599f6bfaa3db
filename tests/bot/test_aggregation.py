"""The ranking's arithmetic: weighted totals, the trimmed mean, criterion means and pass marks."""

from __future__ import annotations

import statistics

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.services.aggregation import CRITERIA, aggregate, counted, weighted

EQUAL = (1.0, 1.0, 1.0, 1.0)
review = st.tuples(*(st.integers(1, 5) for _ in CRITERIA))
reviews = st.lists(review, min_size=1, max_size=12)
weights = st.tuples(*(st.sampled_from([0.0, 0.5, 1.0, 2.0, 3.0]) for _ in CRITERIA)).filter(lambda w: sum(w) > 0)


def test_the_trimmed_mean_leaves_out_one_highest_and_one_lowest() -> None:
    five = [(5, 5, 5, 5), (4, 4, 4, 4), (4, 4, 4, 4), (3, 3, 3, 3), (1, 1, 1, 1)]
    plain = aggregate(five, EQUAL)
    assert (plain.mean, plain.counted, plain.trimmed, plain.spread) == (3.4, 5, False, 4.0)
    trimmed = aggregate(five, EQUAL, trim_min_reviews=5)
    assert (trimmed.mean, trimmed.reviews, trimmed.counted, trimmed.trimmed) == (3.67, 5, 3, True)
    assert trimmed.spread == 4.0  # the disagreement is still shown in full
    assert trimmed.criterion_means == {c: 3.67 for c in CRITERIA}
    # Below the threshold nothing is left out.
    assert aggregate(five[:4], EQUAL, trim_min_reviews=5).trimmed is False


def test_equal_totals_drop_one_each_and_criterion_means_follow_the_reviews_kept() -> None:
    # Both (5,1,3,3) and (1,5,3,3) total 3: one of them is left out as the lowest, deterministically.
    rows = [(5, 1, 3, 3), (1, 5, 3, 3), (4, 4, 4, 4)]
    assert counted([3.0, 3.0, 4.0], 3) == [1]
    result = aggregate(rows, EQUAL, trim_min_reviews=3)
    assert (result.mean, result.counted) == (3.0, 1)
    assert result.criterion_means == {"innovation": 1.0, "safety": 5.0, "applicability": 3.0, "economy": 3.0}


def test_pass_marks_name_the_criteria_below_them() -> None:
    rows = [(2, 4, 5, 5), (3, 2, 5, 5)]  # innovation 2.5, safety 3.0
    assert aggregate(rows, EQUAL, pass_marks=(3, 3, 0, 0)).below_pass == ("innovation",)
    assert aggregate(rows, EQUAL, pass_marks=(2.5, 3.5, 0, 0)).below_pass == ("safety",)
    assert aggregate(rows, EQUAL).below_pass == ()
    # Compared as shown: 2.996 shows as 3.00 and is not below 3.
    near = [(3, 5, 5, 5)] * 249 + [(2, 5, 5, 5)]
    assert aggregate(near, EQUAL).criterion_means["innovation"] == 3.0
    assert aggregate(near, EQUAL, pass_marks=(3, 0, 0, 0)).below_pass == ()


def test_no_reviews_no_mean() -> None:
    empty = aggregate([], EQUAL, 3, (3, 3, 3, 3))
    assert (empty.mean, empty.reviews, empty.spread, empty.below_pass) == (None, 0, None, ())


@given(reviews, weights, st.sampled_from([0, 3, 4, 5]))
def test_the_mean_lies_within_the_totals_and_counts_what_it_should(rows, w, trim) -> None:  # type: ignore[no-untyped-def]
    result = aggregate(rows, w, trim)
    totals = [weighted(r, w) for r in rows]
    assert round(min(totals), 2) <= result.mean <= round(max(totals), 2)  # type: ignore[operator]
    should_trim = bool(trim) and len(rows) >= trim
    assert result.trimmed is should_trim
    assert result.counted == len(rows) - (2 if should_trim else 0)
    if not trim:
        assert result.mean == round(statistics.fmean(totals), 2)
    if should_trim:  # the same as sorting the totals and cutting one from each end
        assert result.mean == round(statistics.fmean(sorted(totals)[1:-1]), 2)


@given(reviews, weights, st.sampled_from([0, 3, 5]), st.randoms(use_true_random=False))
def test_the_order_of_the_reviews_does_not_matter(rows, w, trim, rnd) -> None:  # type: ignore[no-untyped-def]
    shuffled = list(rows)
    rnd.shuffle(shuffled)
    a, b = aggregate(rows, w, trim), aggregate(shuffled, w, trim)
    assert (a.mean, a.spread, a.counted, a.trimmed) == (b.mean, b.spread, b.counted, b.trimmed)


@given(reviews, st.tuples(*(st.sampled_from([0, 1, 2.5, 3, 4, 5]) for _ in CRITERIA)))
def test_an_application_is_below_a_mark_exactly_when_its_criterion_mean_is(rows, marks) -> None:  # type: ignore[no-untyped-def]
    result = aggregate(rows, EQUAL, 0, marks)
    for c, mark in zip(CRITERIA, marks, strict=True):
        mean = round(statistics.fmean(r[CRITERIA.index(c)] for r in rows), 2)
        assert (c in result.below_pass) == (mark > 0 and mean < mark)


@pytest.mark.parametrize("trim", [1, 2])
def test_trimming_fewer_than_three_would_leave_nothing(trim: int) -> None:
    # The settings refuse 1 and 2; the arithmetic never trims below three either.
    assert aggregate([(5, 5, 5, 5), (1, 1, 1, 1)], EQUAL, trim).trimmed is False
