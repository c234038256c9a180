"""Deduplicating reference data by ID and then by code, reporting every merge."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Merge:
    """Rows that were one thing, and the one that was kept."""

    key: str  # "id" or "code"
    value: str
    kept: str
    dropped: tuple[str, ...]


@dataclass(frozen=True)
class Deduplicated(Generic[T]):
    rows: list[T]
    merges: list[Merge]

    def report(self) -> list[dict[str, Any]]:
        return [{"by": m.key, "value": m.value, "kept": m.kept, "dropped": ", ".join(m.dropped)} for m in self.merges]


def dedupe_by_id_and_code(
    rows: Iterable[T],
    *,
    id_of: Callable[[T], str],
    code_of: Callable[[T], str],
    preference: Callable[[T], Hashable],
) -> Deduplicated[T]:
    """One row per ID (the last one read wins: paging may return a changed record twice), then one per code.

    Among rows sharing a code, the one with the highest ``preference`` is kept (for example: not blocked,
    then most recently modified).
    """
    by_id: dict[str, T] = {}
    merges: list[Merge] = []
    repeated: dict[str, int] = {}
    for row in rows:
        row_id = id_of(row)
        if row_id in by_id:
            repeated[row_id] = repeated.get(row_id, 1) + 1
        by_id[row_id] = row
    for row_id, count in repeated.items():
        merges.append(Merge("id", row_id, row_id, (f"{count - 1} earlier cop{'y' if count == 2 else 'ies'}",)))
    by_code: dict[str, list[T]] = {}
    for row in by_id.values():
        by_code.setdefault(code_of(row).strip(), []).append(row)
    kept: list[T] = []
    for code, group in by_code.items():
        group.sort(key=preference, reverse=True)
        kept.append(group[0])
        if len(group) > 1:
            merges.append(Merge("code", code, id_of(group[0]), tuple(id_of(r) for r in group[1:])))
    return Deduplicated(sorted(kept, key=lambda r: code_of(r).strip()), merges)
