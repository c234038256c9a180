"""Deduplicating reference data by ID and code, with a report of what was merged."""

from __future__ import annotations

from dataclasses import dataclass

from exact_bill_pipeline.domain.dedupe import dedupe_by_id_and_code


@dataclass(frozen=True)
class Row:
    id: str
    code: str
    blocked: bool = False
    modified: int = 0


def dedupe(rows):
    return dedupe_by_id_and_code(rows, id_of=lambda r: r.id, code_of=lambda r: r.code,
                                 preference=lambda r: (not r.blocked, r.modified))


def test_a_record_read_twice_is_kept_once_in_its_last_version():
    result = dedupe([Row("a", "4000", modified=1), Row("b", "4100"), Row("a", "4000", modified=2)])
    assert [(r.id, r.modified) for r in result.rows] == [("a", 2), ("b", 0)]
    assert result.report() == [{"by": "id", "value": "a", "kept": "a", "dropped": "1 earlier copy"}]


def test_two_records_with_one_code_keep_the_active_most_recent_one():
    result = dedupe([Row("old", "4640", blocked=True, modified=9), Row("new", "4640 ", modified=1),
                     Row("newer", "4640", modified=5)])
    assert [r.id for r in result.rows] == ["newer"]
    assert result.report() == [{"by": "code", "value": "4640", "kept": "newer", "dropped": "new, old"}]


def test_nothing_to_merge_reports_nothing():
    assert dedupe([Row("a", "1"), Row("b", "2")]).merges == []
