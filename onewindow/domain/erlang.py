"""Erlang C: the waits of c identical windows fed at random (M/M/c), the analytic first cut of 排班建议.

With arrivals `lam` per minute, a mean handling time `mean_min` and `c` windows, the offered
load is a = lam x mean_min (in windows' worth of work). When a < c:

- C(c, a), the chance a citizen waits at all (Erlang's C formula);
- the mean wait Wq = C(c, a) x mean_min / (c - a);
- the chance to wait longer than t minutes: C(c, a) x exp(-(c - a) x t / mean_min).

Example: 2 windows, a citizen every 2 minutes (lam 0.5), 3 minutes each (a = 1.5): C = 0.643, the mean wait 3.86 min.

>>> round(erlang_c(2, 1.5), 3), round(mean_wait(2, 0.5, 3.0), 2)
(0.643, 3.86)
>>> windows_needed(0.5, 3.0, target_min=5, share=0.8)
3
"""

from __future__ import annotations

import math

MAX_WINDOWS = 500  # beyond this the answer is not a staffing question any more


def erlang_c(c: int, a: float) -> float:
    """The chance of waiting at all with c servers and offered load a (1.0 when a >= c)."""
    if a <= 0:
        return 0.0
    if c <= 0 or a >= c:
        return 1.0
    # Erlang B by its stable recursion, then C from B
    b = 1.0
    for k in range(1, c + 1):
        b = a * b / (k + a * b)
    rho = a / c
    return b / (1 - rho + rho * b)


def mean_wait(c: int, lam: float, mean_min: float) -> float:
    """Mean wait in minutes (math.inf when the windows cannot keep up)."""
    a = lam * mean_min
    if a <= 0:
        return 0.0
    if a >= c:
        return math.inf
    return erlang_c(c, a) * mean_min / (c - a)


def share_within(c: int, lam: float, mean_min: float, target_min: float) -> float:
    """The share of citizens called within `target_min` minutes."""
    a = lam * mean_min
    if a <= 0:
        return 1.0
    if a >= c:
        return 0.0
    return 1.0 - erlang_c(c, a) * math.exp(-(c - a) * target_min / mean_min)


def windows_needed(lam: float, mean_min: float, target_min: float, share: float) -> int:
    """The fewest windows that call `share` of citizens within `target_min` (0 with no arrivals)."""
    if lam <= 0 or mean_min <= 0:
        return 0
    c = max(1, math.floor(lam * mean_min))
    while c < MAX_WINDOWS and share_within(c, lam, mean_min, target_min) < share:
        c += 1
    return c
