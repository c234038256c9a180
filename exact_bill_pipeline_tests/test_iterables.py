"""Grouping helpers: how a long range of days is cut into pieces that fit in memory."""

from __future__ import annotations

from exact_bill_pipeline.iterables import batched, batched_by_weight


def test_batched_cuts_into_equal_lists_and_a_shorter_last_one():
    assert list(batched(range(5), 2)) == [[0, 1], [2, 3], [4]]
    assert list(batched([], 3)) == []


def test_groups_stay_under_the_limit_and_keep_the_order():
    counts = {"d1": 400, "d2": 500, "d3": 200, "d4": 900, "d5": 1}
    groups = list(batched_by_weight(counts, counts.__getitem__, 1000))
    assert groups == [["d1", "d2"], ["d3"], ["d4", "d5"]]
    assert [d for g in groups for d in g] == list(counts)


def test_an_item_heavier_than_the_limit_comes_alone():
    counts = {"quiet": 3, "month_end": 5000, "after": 2}
    assert list(batched_by_weight(counts, counts.__getitem__, 1000)) == [["quiet"], ["month_end"], ["after"]]
