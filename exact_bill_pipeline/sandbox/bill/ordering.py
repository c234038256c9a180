"""Sorted orders of (value, id) keys that list pages walk from a cursor, without sorting per request."""

from __future__ import annotations

import bisect
import heapq
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, Protocol

Key = tuple[Any, str]
# Ids are never empty and never contain this character, so (v, LOW_ID) < (v, id) < (v, HIGH_ID).
LOW_ID = ""
HIGH_ID = "\U0010ffff"


class Order(Protocol):
    def walk(self, start: Key | None, inclusive: bool, reverse: bool) -> Iterator[Key]:
        """Keys from ``start`` (or from the first one) onwards, in ascending or descending order."""
        ...


def _walk(keys: Sequence[Key], start: Key | None, inclusive: bool, reverse: bool) -> Iterator[Key]:
    if not reverse:
        i = 0 if start is None else (bisect.bisect_left if inclusive else bisect.bisect_right)(keys, start)
        while i < len(keys):
            yield keys[i]
            i += 1
    else:
        end = len(keys) if start is None else (bisect.bisect_right if inclusive else bisect.bisect_left)(keys, start)
        for i in range(end - 1, -1, -1):
            yield keys[i]


class SortedKeys:
    """A sorted list of keys, kept sorted as rows change (an insert or removal is a bisect and a move)."""

    def __init__(self, keys: Iterable[Key] = ()) -> None:
        self._keys: list[Key] = sorted(keys)

    def add(self, key: Key) -> None:
        bisect.insort(self._keys, key)

    def remove(self, key: Key) -> None:
        i = bisect.bisect_left(self._keys, key)
        if i < len(self._keys) and self._keys[i] == key:
            del self._keys[i]

    def walk(self, start: Key | None, inclusive: bool, reverse: bool) -> Iterator[Key]:
        return _walk(self._keys, start, inclusive, reverse)


class ComputedKeys(Sequence[Key]):
    """The keys of ``count`` seeded rows, computed on demand; ``key_of`` must rise with the row index."""

    def __init__(self, count: int, key_of: Callable[[int], Key]) -> None:
        self._count = count
        self._key_of = key_of

    def __len__(self) -> int:
        return self._count

    def __getitem__(self, index: int) -> Key:  # bisect asks for single positions only, never slices
        if not 0 <= index < self._count:
            raise IndexError(index)
        return self._key_of(index)

    def walk(self, start: Key | None, inclusive: bool, reverse: bool) -> Iterator[Key]:
        return _walk(self, start, inclusive, reverse)


class MergedKeys:
    """Several orders walked as one."""

    def __init__(self, *parts: Order) -> None:
        self._parts = parts

    def walk(self, start: Key | None, inclusive: bool, reverse: bool) -> Iterator[Key]:
        return heapq.merge(*(part.walk(start, inclusive, reverse) for part in self._parts), reverse=reverse)
