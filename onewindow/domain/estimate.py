"""Estimated wait: people ahead times recent handling time, shared among the windows open for it."""
from __future__ import annotations

import math
from collections import deque
from typing import Iterable


class HandlingTimes:
    """The last N handling durations (minutes) per queue code; fed as tickets finish."""

    def __init__(self, samples: int, default_min: float):
        self.samples = samples
        self.default_min = default_min
        self._recent: dict[str, deque[float]] = {}

    def add(self, code: str, minutes: float) -> None:
        if minutes < 0:
            return
        self._recent.setdefault(code, deque(maxlen=self.samples)).append(minutes)

    def mean(self, code: str) -> float:
        recent = self._recent.get(code)
        if not recent:
            return self.default_min
        return float(sum(recent) / len(recent))

    def extend(self, rows: Iterable[tuple[str, float]]) -> None:
        for code, minutes in rows:
            self.add(code, minutes)


def estimate_wait_min(ahead: int, handling_min: float, open_windows: int) -> int:
    """Whole minutes; a queue nobody is open for gets the full serial estimate, not zero."""
    if ahead <= 0:
        return 0
    return math.ceil(ahead * handling_min / max(1, open_windows))
