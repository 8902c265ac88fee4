"""The physical floor of a clustering step: the exact kNN search alone on the same rows.

Every pseudo-labelling step starts with this O(N^2 D) search; everything after it works on O(N k) sparse
entries. So "ratio to floor" says how much the step costs beyond the part no implementation can skip. The
floor benchmark records its median here; a clustering benchmark run without it (say, picked with -k) times
the search itself, a median over a few runs.
"""

from __future__ import annotations

import logging
import statistics
import time
from typing import Callable, Hashable

log = logging.getLogger(__name__)


class FloorTimes:
    """Median seconds of the floor search per (case, device), recorded once and shared by the session."""

    def __init__(self, runs: int) -> None:
        self._runs = runs
        self._medians: dict[Hashable, float] = {}

    def record(self, key: Hashable, median: float) -> None:
        self._medians[key] = median

    def median(self, key: Hashable, search: Callable[[], object]) -> float:
        """The recorded median for `key`, else the median of timing `search` a few times (then recorded)."""
        if key not in self._medians:
            seconds = []
            for _ in range(self._runs):
                started = time.perf_counter()
                search()
                seconds.append(time.perf_counter() - started)
            self._medians[key] = statistics.median(seconds)
            log.info("floor %s timed on its own: %.3f s (median of %d)", key, self._medians[key], self._runs)
        return self._medians[key]
