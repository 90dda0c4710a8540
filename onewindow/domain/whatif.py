"""What-if for 排班建议: "open 2 more comprehensive windows 09:00-11:00" on top of a plan, and the
waits that staffing gives per service and slot, simulated on the plan's own days (the same
citizens: only the windows differ). Moving a window to another service is a what-if of the hall
file (`onewindow plan --config`), since it changes what the window serves.

    change = parse_change("comprehensive+2@09:00-11:00")
    counts = apply(advice_counts, [change], groups)
    predict(hall, demand, counts, 15, 80)
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Sequence

from .demand import SLOT_MIN, Demand
from .hallsim import Group, simulate_days
from .model import Hall
from .staffing import CONFIDENCE, DayRunner, evaluate, percentile_wait

_CHANGE = re.compile(
    r"^\s*([^@\s]+?)\s*([+-]\d+)\s*@\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$"
)


@dataclass(frozen=True)
class Change:
    group: str  # a kind of window: "comprehensive", or a specialist set's id ("A+B")
    delta: int  # windows more (or fewer, negative)
    start: int  # minutes after midnight, the first slot's start
    end: int  # ... the end (exclusive)


def parse_change(text: str) -> Change:
    """'comprehensive+2@09:00-11:00', 'A+B-1@14:00-15:30'; ValueError saying what is wrong."""
    m = _CHANGE.match(text)
    if not m:
        raise ValueError(
            f"{text!r}: a change looks like KIND+N@HH:MM-HH:MM (comprehensive+2@09:00-11:00), "
            "KIND being comprehensive or a specialist kind's services (A+B)"
        )
    group, delta, h1, m1, h2, m2 = m.groups()
    start, end = int(h1) * 60 + int(m1), int(h2) * 60 + int(m2)
    if not (0 <= start < end <= 24 * 60) or int(m1) >= 60 or int(m2) >= 60:
        raise ValueError(f"{text!r}: {h1}:{m1}-{h2}:{m2} is not a range of the day")
    if start % SLOT_MIN or end % SLOT_MIN:
        raise ValueError(f"{text!r}: plans go by half hours (:00 and :30)")
    return Change(group, int(delta), start, end)


def apply(
    counts: dict[tuple[str, int], int], changes: Sequence[Change], groups: Sequence[Group]
) -> dict[tuple[str, int], int]:
    """The counts with the changes made (never below 0 windows); ValueError for an unknown
    kind of window."""
    known = {g.id for g in groups}
    out = dict(counts)
    for c in changes:
        if c.group not in known:
            raise ValueError(
                f"{c.group!r} is no kind of window of this hall (it has {', '.join(sorted(known))})"
            )
        for slot in range(c.start, c.end, SLOT_MIN):
            out[(c.group, slot)] = max(0, out.get((c.group, slot), 0) + c.delta)
    return out


@dataclass(frozen=True)
class Prediction:
    days: int
    confidence: float  # share of simulated days meeting the target
    stands: bool
    waits: dict[tuple[int, str], float]  # (slot, service) -> its `percentile` wait, minutes
    met: dict[tuple[int, str], float]  # (slot, service) -> share of the days it had citizens
    # on that its citizens met the target


def predict(
    hall: Hall,
    demand: Demand,
    groups: Sequence[Group],
    counts: dict[tuple[str, int], int],
    target_min: float,
    percentile: float,
    days: int = 200,
    seed: int = 1,
    run_days: DayRunner = simulate_days,
) -> Prediction:
    """The waits `counts` give, per service and slot, over `days` simulated days."""
    results = evaluate(groups, counts, demand, hall, days, seed, run_days)
    pooled: dict[tuple[int, str], list[float]] = {}
    met_days: dict[tuple[int, str], int] = {}
    seen: dict[tuple[int, str], int] = {}
    ok = 0
    share = percentile / 100
    for r in results:
        day = [w for ws in r.waits.values() for w in ws]
        ok += not day or sum(w <= target_min for w in day) >= share * len(day)
        for key, ws in r.waits.items():
            pooled.setdefault(key, []).extend(ws)
            seen[key] = seen.get(key, 0) + 1
            met_days[key] = met_days.get(key, 0) + (
                sum(w <= target_min for w in ws) >= share * len(ws)
            )
    return Prediction(
        days,
        ok / days,
        ok >= CONFIDENCE * days,
        {k: percentile_wait(ws, percentile) for k, ws in pooled.items()},
        {k: n / seen[k] for k, n in met_days.items()},
    )
