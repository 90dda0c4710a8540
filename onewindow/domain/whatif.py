"""What-if for 排班建议 on top of a plan: "open 2 more comprehensive windows 09:00-11:00", or "move
window 5 to 社保 (C)", and the waits that staffing gives per service and slot, simulated on the
plan's own days (the same citizens: only the windows differ).

A moved window serves its new services in every slot (of the range) where the plan opens a
window of its own kind: that kind opens one fewer there, and the new services' kind one more
(a kind of the hall's if one serves exactly those services, else a new one, the moved window).

    changes = [parse_change("comprehensive+2@09:00-11:00"), parse_change("5=C")]
    groups, counts = apply(advice_counts, changes, groups, hall)
    predict(hall, demand, groups, counts, 15, 80)
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Optional, Sequence, Union

from .demand import SLOT_MIN, Demand
from .hallsim import Group, simulate_days
from .model import Hall
from .staffing import (
    COMPREHENSIVE,
    CONFIDENCE,
    DayRunner,
    day_met,
    evaluate,
    home_groups,
    percentile_wait,
)

_CHANGE = re.compile(
    r"^\s*([^@\s]+?)\s*([+-]\d+)\s*@\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$"
)
_MOVE = re.compile(
    r"^\s*(?:window\s*|窗口\s*)?(\d+)\s*号?\s*=\s*([^@\s]+)"
    r"\s*(?:@\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2}))?\s*$",
    re.IGNORECASE,
)
DAY_MIN = 24 * 60


@dataclass(frozen=True)
class Change:
    group: str  # a kind of window: "comprehensive", or a specialist set's id ("A+B")
    delta: int  # windows more (or fewer, negative)
    start: int  # minutes after midnight, the first slot's start
    end: int  # ... the end (exclusive)


@dataclass(frozen=True)
class Move:
    window: int  # the hall's window number
    services: tuple[str, ...]  # what it serves instead; () = everything (comprehensive)
    start: int = 0  # minutes after midnight, the first slot's start
    end: int = DAY_MIN  # ... the end (exclusive)


Edit = Union[Change, Move]
SAID = (
    "a change looks like KIND+N@HH:MM-HH:MM (comprehensive+2@09:00-11:00), KIND being "
    "comprehensive or a specialist kind's services (A+B); or WINDOW=SERVICES[@HH:MM-HH:MM] "
    "(5=C: window 5 serves C instead, all day; 5=comprehensive)"
)


def _range(text: str, h1: str, m1: str, h2: str, m2: str) -> tuple[int, int]:
    start, end = int(h1) * 60 + int(m1), int(h2) * 60 + int(m2)
    if not (0 <= start < end <= DAY_MIN) or int(m1) >= 60 or int(m2) >= 60:
        raise ValueError(f"{text!r}: {h1}:{m1}-{h2}:{m2} is not a range of the day")
    if start % SLOT_MIN or end % SLOT_MIN:
        raise ValueError(f"{text!r}: plans go by half hours (:00 and :30)")
    return start, end


def parse_change(text: str) -> Edit:
    """'comprehensive+2@09:00-11:00', 'A+B-1@14:00-15:30', '5=C', 'window 5 = C+D@09:00-12:00';
    ValueError saying what is wrong."""
    m = _CHANGE.match(text)
    if m:
        group, delta, *hours = m.groups()
        return Change(group, int(delta), *_range(text, *hours))
    m = _MOVE.match(text)
    if m:
        number, services, *hours = m.groups()
        start, end = _range(text, *hours) if hours[0] is not None else (0, DAY_MIN)
        to = () if services.lower() == COMPREHENSIVE else tuple(services.split("+"))
        if "" in to:
            raise ValueError(f"{text!r}: {services!r} is not a list of services (C, or C+D)")
        return Move(int(number), to, start, end)
    raise ValueError(f"{text!r}: {SAID}")


def apply(
    counts: dict[tuple[str, int], int],
    changes: Sequence[Edit],
    groups: Sequence[Group],
    hall: Optional[Hall] = None,
) -> tuple[tuple[Group, ...], dict[tuple[str, int], int]]:
    """The groups and counts with the changes made, in order (never below 0 windows);
    ValueError for an unknown kind of window, window or service (a move needs the `hall`)."""
    groups = tuple(groups)
    out = dict(counts)
    for c in changes:
        if isinstance(c, Move):
            groups = _move(out, c, groups, hall)
            continue
        known = {g.id for g in groups}
        if c.group not in known:
            raise ValueError(
                f"{c.group!r} is no kind of window of this hall (it has {', '.join(sorted(known))})"
            )
        for slot in range(c.start, c.end, SLOT_MIN):
            out[(c.group, slot)] = max(0, out.get((c.group, slot), 0) + c.delta)
    return groups, out


def _move(
    counts: dict[tuple[str, int], int], m: Move, groups: tuple[Group, ...], hall: Optional[Hall]
) -> tuple[Group, ...]:
    """`counts` changed in place for the move; the groups, with the new services' kind added
    when the hall has none."""
    codes = {s.code for s in hall.services} if hall is not None else set()
    unknown = [c for c in m.services if c not in codes]
    if unknown:
        raise ValueError(
            f"{'+'.join(unknown)} is no service of this hall (it has {', '.join(sorted(codes))})"
        )
    home = next((g for g in groups if any(w.number == m.window for w in g.windows)), None)
    if home is None:
        numbers = sorted(w.number for g in groups for w in g.windows)
        raise ValueError(
            f"window {m.window} is no window of this hall (it has {', '.join(map(str, numbers))})"
        )
    if set(home.services) == set(m.services):
        raise ValueError(f"window {m.window} already serves {'+'.join(m.services) or 'everything'}")
    to = next((g for g in groups if set(g.services) == set(m.services)), None)
    if to is None:
        window = next(w for w in home.windows if w.number == m.window)
        if m.services:
            moved = replace(window, kind="specialist", services=m.services)
            to = Group(
                "+".join(m.services), "specialist", m.services, (moved,), f"{m.window}号窗口改办"
            )
        else:
            moved = replace(window, kind=COMPREHENSIVE, services=())
            to = Group(COMPREHENSIVE, COMPREHENSIVE, (), (moved,), "综合窗口")
        groups = (*groups, to)
    for (gid, slot), n in list(counts.items()):
        if gid == home.id and n > 0 and m.start <= slot < m.end:
            counts[(gid, slot)] = n - 1
            counts[(to.id, slot)] = counts.get((to.id, slot), 0) + 1
    return groups


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
    home = {s.code: home_groups(groups, s.code) for s in demand.services}
    for r in results:
        ok += day_met(r, home, target_min, percentile)
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
