"""排班建议: how many windows of each group to open in each 30-minute slot of a weekday so that
`percentile`% of citizens are called within `target_min` minutes (docs/staffing.md).

1. The analytic first cut (domain/erlang.py): each service's load goes to the specialist groups
   that serve it (shared equally), else to the comprehensive windows; transfers add their load to
   the destination; no-shows hold a window for their measured skip time; comprehensive
   windows take a share of every queue's green channel and appointments (they jump the queue
   at every window serving it). Per group and slot, Erlang C gives the fewest windows meeting
   the target as if each slot stood alone.
2. The check (domain/hallsim.py): `days` simulated days under the hall's real routing. A day
   meets the target when, for each group, `percentile`% of the day's citizens it is there for
   were called within the target (`day_met`).
   The plan stands when at least `CONFIDENCE` of the days meet it; otherwise one window is added
   to each group and slot that missed the target on more than 1 - CONFIDENCE of the days, and
   the days are simulated again, until it stands (or `MAX_ROUNDS` rounds, said so).
3. When it stands, windows are closed where citizens met the target on every simulated day, as
   as long as the plan still stands and no slot falls below `CONFIDENCE` of the days meeting it.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Callable, Optional, Sequence

from . import erlang
from .demand import Demand, open_minutes
from .hallsim import DayResult, Group, simulate_days
from .model import Hall, Rules, Window

CONFIDENCE = 0.9  # share of simulated days that must meet the target
MAX_ROUNDS = 30
TRIM_TRIALS = 5  # simulations spent looking for windows to close
SEARCH_DAYS = 50  # simulated days per trial while searching
TRIAL_CHUNK = 10  # days simulated at a time when trying to close windows: a trial that can no
# longer stand is given up there (the same answer, sooner)
COMPREHENSIVE = "comprehensive"


@dataclass(frozen=True)
class SlotAdvice:
    slot: int  # start, minutes after midnight
    windows: dict[str, int]  # group id -> windows to open
    analytic: dict[str, int]  # what Erlang C alone said
    met: dict[str, float]  # group id -> share of simulated days meeting the target
    confidence: float  # share of simulated days the slot met the target
    wait_pct: float  # the slot's `percentile` wait over all simulated days, min
    arrivals: float  # expected arrivals in the slot


@dataclass(frozen=True)
class ServiceAdvice:
    code: str
    wait_pct: float  # the service's `percentile` wait over all simulated days, min
    confidence: float  # share of simulated days its citizens met the target


@dataclass(frozen=True)
class Advice:
    weekday: int
    target_min: float
    percentile: float
    days: int  # simulated days
    confidence: float  # share of simulated days meeting the target
    stands: bool  # confidence >= CONFIDENCE
    added: int  # window-slots the simulation added to the analytic cut
    # (negative: it closed more than it added)
    analytic_confidence: float  # share of simulated days the analytic cut alone met
    groups: tuple[Group, ...]
    slots: tuple[SlotAdvice, ...]
    unserved: tuple[str, ...]  # services with demand that no window serves
    extra: dict[str, int] = field(default_factory=dict)  # group -> windows beyond the hall's
    # per service: the advice stands on each group's citizens, and a service can fall short
    # inside a group that meets the target
    services: tuple[ServiceAdvice, ...] = ()


def groups_of(hall: Hall) -> tuple[Group, ...]:
    """The comprehensive windows as one group, then each distinct specialist set of services."""
    comp = tuple(w for w in hall.windows if w.serves_all())
    sets: dict[frozenset[str], list[Window]] = {}
    for w in hall.windows:
        if not w.serves_all():
            sets.setdefault(frozenset(w.services), []).append(w)
    out = []
    if comp:
        out.append(Group(COMPREHENSIVE, COMPREHENSIVE, (), comp, "综合窗口"))
    for wins in sorted(sets.values(), key=lambda ws: min(w.number for w in ws)):
        first = wins[0]
        name = re.sub(r"^\d+\s*号", "", first.name) or first.name
        out.append(Group("+".join(first.services), first.kind, first.services, tuple(wins), name))
    return tuple(out)


def home_groups(groups: Sequence[Group], code: str) -> list[Group]:
    """Where a service's load goes: its specialist groups, else the comprehensive windows."""
    special = [g for g in groups if g.services and code in g.services]
    return special or [g for g in groups if not g.services]


def analytic(
    groups: Sequence[Group], demand: Demand, target_min: float, percentile: float
) -> dict[tuple[str, int], int]:
    """Erlang C per group and slot: {(group id, slot): windows}."""
    comp = next((g for g in groups if not g.services), None)
    counts: dict[tuple[str, int], int] = {}
    for slot in demand.slots():
        load: dict[str, float] = {}  # per service, transfers added
        for s in demand.services:
            rate = s.rates.get(slot, 0.0)
            load[s.code] = load.get(s.code, 0.0) + rate
            for to, share in s.transfer_to:
                load[to] = load.get(to, 0.0) + rate * (1 - s.no_show) * s.transfer * share
        # comprehensive windows call every queue's green channel and appointments before any
        # ordinary citizen, as that queue's own windows do: they take a share of them, by their
        # number of windows (which the pass before gives). Ordinary citizens of other queues
        # that they call (the oldest first, under fifo) are left to the simulation
        here: dict[str, int] = {}
        for _pass in range(3 if comp is not None else 1):
            lam: dict[str, float] = {}
            work: dict[str, float] = {}  # lam x mean handling, per group
            for code, rate in load.items():
                s_d = demand.service(code)
                homes = home_groups(groups, code)
                if s_d is None or not homes or rate <= 0:
                    continue
                mean = s_d.mean_handling()
                taken = 0.0
                if comp is not None and homes[0] is not comp and here:
                    mine = sum(here[g.id] for g in homes)
                    if here[comp.id] + mine:
                        jumps = rate * min(1.0, s_d.priority + s_d.appointment)
                        taken = jumps * here[comp.id] / (here[comp.id] + mine)
                        lam[comp.id] = lam.get(comp.id, 0.0) + taken
                        work[comp.id] = work.get(comp.id, 0.0) + taken * mean
                for g in homes:
                    lam[g.id] = lam.get(g.id, 0.0) + (rate - taken) / len(homes)
                    work[g.id] = work.get(g.id, 0.0) + (rate - taken) / len(homes) * mean
            here = {}
            for g in groups:
                rate = lam.get(g.id, 0.0)
                mean = work.get(g.id, 0.0) / rate if rate > 0 else 0.0
                here[g.id] = erlang.windows_needed(rate, mean, target_min, percentile / 100)
        for gid, n in here.items():
            counts[(gid, slot)] = n
    return counts


def percentile_wait(waits: Sequence[float], percentile: float) -> float:
    """The `percentile` wait (0 with nobody): the one the advice and the day's figures use."""
    if not waits:
        return 0.0
    ordered = sorted(waits)
    return ordered[min(len(ordered) - 1, int(percentile / 100 * len(ordered)))]


def _met(waits: Sequence[float], target_min: float, percentile: float) -> bool:
    return not waits or len([w for w in waits if w <= target_min]) >= percentile / 100 * len(waits)


def day_met(
    r: DayResult, home: dict[str, list[Group]], target_min: float, percentile: float
) -> bool:
    """A simulated day meets the target when the citizens of each kind of window (the services
    it is home to) do: judged on the day's citizens as a whole, a plan stood while 婚姻登记,
    which only comprehensive windows serve, waited two hours behind every queue's green
    channel and appointments (they jump the queue at every window that serves them)."""
    per: dict[str, list[float]] = {}
    for (_slot, code), ws in r.waits.items():
        for g in home.get(code, ()):
            per.setdefault(g.id, []).extend(ws)
    return all(_met(ws, target_min, percentile) for ws in per.values())


# how days get simulated: `hallsim.simulate_days`, or the caller's way of spreading them over
# processes (the days are independent; the domain itself starts none)
DayRunner = Callable[
    [Sequence[Group], dict[tuple[str, int], int], Demand, Rules, Sequence[int]], list[DayResult]
]


def evaluate(
    groups: Sequence[Group],
    counts: dict[tuple[str, int], int],
    demand: Demand,
    hall: Hall,
    days: int,
    seed: int,
    run_days: DayRunner = simulate_days,
) -> list[DayResult]:
    """`days` simulated days of the plan; day i uses seed + i (the same days for every plan)."""
    return run_days(groups, counts, demand, hall.rules, range(seed, seed + days))


@dataclass
class _Score:
    ok: int  # days meeting the target
    missed: dict[tuple[str, int], int]  # (group, slot) -> days its citizens missed there
    slot_ok: dict[int, int]  # slot -> days its citizens met the target
    pwait: dict[tuple[str, int], float]  # (group, slot) -> its days' percentile waits, summed


def _score(
    results: Sequence[DayResult], home: dict[str, list[Group]], target_min: float, percentile: float
) -> _Score:
    sc = _Score(0, {}, {}, {})
    for r in results:
        sc.ok += day_met(r, home, target_min, percentile)
        per: dict[tuple[str, int], list[float]] = {}
        per_slot: dict[int, list[float]] = {}
        for (slot, code), ws in r.waits.items():
            per_slot.setdefault(slot, []).extend(ws)
            for g in home.get(code, ()):
                per.setdefault((g.id, slot), []).extend(ws)
        for k, ws in per.items():
            ws.sort()  # (the percentile and the share within the target from one sort)
            sc.pwait[k] = (
                sc.pwait.get(k, 0.0) + ws[min(len(ws) - 1, int(percentile / 100 * len(ws)))]
            )
            if bisect_right(ws, target_min) < percentile / 100 * len(ws):
                sc.missed[k] = sc.missed.get(k, 0) + 1
        for slot, ws in per_slot.items():
            sc.slot_ok[slot] = sc.slot_ok.get(slot, 0) + _met(ws, target_min, percentile)
    return sc


def _merge(a: _Score, b: _Score) -> _Score:
    """The score of two runs of days together."""
    out = _Score(a.ok + b.ok, dict(a.missed), dict(a.slot_ok), dict(a.pwait))
    for k, v in b.missed.items():
        out.missed[k] = out.missed.get(k, 0) + v
    for slot, n in b.slot_ok.items():
        out.slot_ok[slot] = out.slot_ok.get(slot, 0) + n
    for k, w in b.pwait.items():
        out.pwait[k] = out.pwait.get(k, 0.0) + w
    return out


def recommend(
    hall: Hall,
    demand: Demand,
    target_min: float,
    percentile: float = 80,
    days: int = 200,
    seed: int = 1,
    run_days: DayRunner = simulate_days,
) -> Advice:
    groups = groups_of(hall)
    unserved = tuple(s.code for s in demand.services if not home_groups(groups, s.code))
    # no window serves them: planned for by nobody, and said so (they would wait all day)
    demand = replace(demand, services=tuple(s for s in demand.services if s.code not in unserved))
    first = analytic(groups, demand, target_min, percentile)
    home = {s.code: home_groups(groups, s.code) for s in demand.services}

    def run(counts: dict[tuple[str, int], int], n: int) -> tuple[list[DayResult], _Score]:
        results = evaluate(groups, counts, demand, hall, n, seed, run_days)
        return results, _score(results, home, target_min, percentile)

    def trial(
        counts: dict[tuple[str, int], int], give_up: GiveUp, n: int
    ) -> tuple[list[DayResult], Optional[_Score]]:
        """`run`, TRIAL_CHUNK days at a time, given up (None) once `give_up` says so."""
        results: list[DayResult] = []
        sc = _Score(0, {}, {}, {})
        for start in range(0, n, TRIAL_CHUNK):
            seeds = range(seed + start, seed + min(n, start + TRIAL_CHUNK))
            part = run_days(groups, counts, demand, hall.rules, seeds)
            results += part
            sc = _merge(sc, _score(part, home, target_min, percentile))
            if give_up(sc, len(results)):
                return results, None
        return results, sc

    # the search runs on fewer days; the plan it finds is then checked on all of them (and the
    # search goes on there if that check fails)
    counts = dict(first)
    n = min(days, SEARCH_DAYS)
    results, sc = run(counts, n)
    first_ok = sc.ok / n
    while True:
        counts, results, sc = _add(counts, results, sc, partial(run, n=n), n)
        if sc.ok >= CONFIDENCE * n:
            counts, results, sc = _trim(counts, results, sc, partial(trial, n=n), n)
        if n == days:
            break
        # the search's days are the first of the check's: only the others are simulated
        rest = run_days(groups, counts, demand, hall.rules, range(seed + n, seed + days))
        results, sc = results + rest, _merge(sc, _score(rest, home, target_min, percentile))
        n = days
        if sc.ok >= CONFIDENCE * n:
            break
    return _advice(
        demand, target_min, percentile, days, sc, first_ok, groups, counts, first, results, unserved
    )


GiveUp = Callable[[_Score, int], bool]  # (the score so far, days so far): the trial cannot stand
Runner = Callable[[dict[tuple[str, int], int]], tuple[list[DayResult], _Score]]
Trial = Callable[[dict[tuple[str, int], int], GiveUp], tuple[list[DayResult], Optional[_Score]]]


def _add(
    counts: dict[tuple[str, int], int], results: list[DayResult], sc: _Score, run: Runner, days: int
) -> tuple[dict[tuple[str, int], int], list[DayResult], _Score]:
    """Add a window where citizens missed the target, until the plan stands."""
    counts = dict(counts)
    for _round in range(MAX_ROUNDS):
        if sc.ok >= CONFIDENCE * days or not sc.missed:
            break
        worst = [k for k, m in sc.missed.items() if m > (1 - CONFIDENCE) * days]
        for k in worst or [max(sc.missed, key=lambda k: sc.missed[k])]:
            counts[k] = counts.get(k, 0) + 1
        results, sc = run(counts)
    return counts, results, sc


def _trim(
    counts: dict[tuple[str, int], int], results: list[DayResult], sc: _Score, run: Trial, days: int
) -> tuple[dict[tuple[str, int], int], list[DayResult], _Score]:
    """Close a window where the target was met on every simulated day, while the plan still
    stands and no slot falls below CONFIDENCE of the days meeting the target (nor below what it
    had: Erlang C per group is generous to small groups, which comprehensive windows help)."""
    trials = 0
    while trials < TRIM_TRIALS:
        # the most slack first: halving keeps those
        spare = sorted(
            (k for k, n in counts.items() if n > 0 and not sc.missed.get(k)),
            key=lambda k: sc.pwait.get(k, 0.0),
        )
        while spare and trials < TRIM_TRIALS:
            trials += 1
            trial = dict(counts)
            for k in spare:
                trial[k] -= 1
            need = {slot: min(n, CONFIDENCE * days) for slot, n in sc.slot_ok.items()}

            def hopeless(part: _Score, done: int, need: dict[int, float] = need) -> bool:
                left = days - done  # days still to simulate: at best all of them meet it
                return part.ok + left < CONFIDENCE * days or any(
                    n + left < need.get(slot, CONFIDENCE * days) for slot, n in part.slot_ok.items()
                )

            t_results, t_sc = run(trial, hopeless)
            if (
                t_sc is not None
                and t_sc.ok >= CONFIDENCE * days
                and all(
                    n >= min(sc.slot_ok.get(slot, days), CONFIDENCE * days)
                    for slot, n in t_sc.slot_ok.items()
                )
            ):
                counts, results, sc = trial, t_results, t_sc
                break
            spare = spare[: len(spare) // 2]  # too many at once: try half of them
        else:
            break
    return counts, results, sc


def _advice(
    demand: Demand,
    target_min: float,
    percentile: float,
    days: int,
    sc: _Score,
    first_ok: float,
    groups: Sequence[Group],
    counts: dict[tuple[str, int], int],
    first: dict[tuple[str, int], int],
    results: Sequence[DayResult],
    unserved: tuple[str, ...],
) -> Advice:
    by_slot: dict[int, list[float]] = {}
    for r in results:
        for (s, _c), ws in r.waits.items():
            by_slot.setdefault(s, []).extend(ws)
    slots = []
    for slot in demand.slots():
        pct = percentile_wait(by_slot.get(slot, []), percentile)
        arrivals = sum(s.rates.get(slot, 0.0) for s in demand.services) * open_minutes(
            demand.spans, slot
        )
        slots.append(
            SlotAdvice(
                slot,
                {g.id: counts.get((g.id, slot), 0) for g in groups},
                {g.id: first.get((g.id, slot), 0) for g in groups},
                {g.id: 1 - sc.missed.get((g.id, slot), 0) / days for g in groups},
                sc.slot_ok.get(slot, days) / days,
                pct,
                arrivals,
            )
        )
    missed: dict[str, int] = {}  # service -> simulated days its citizens missed the target
    waits: dict[str, list[float]] = {}
    for r in results:
        day: dict[str, list[float]] = {}
        for (_s, code), ws in r.waits.items():
            day.setdefault(code, []).extend(ws)
        for code, ws in day.items():
            waits.setdefault(code, []).extend(ws)
            missed[code] = missed.get(code, 0) + (not _met(ws, target_min, percentile))
    services = tuple(
        ServiceAdvice(
            s.code,
            percentile_wait(waits.get(s.code, []), percentile),
            1 - missed.get(s.code, 0) / days,
        )
        for s in demand.services
    )
    extra = {
        g.id: most - len(g.windows)
        for g in groups
        if (most := max((counts.get((g.id, s), 0) for s in demand.slots()), default=0))
        > len(g.windows)
    }
    return Advice(
        demand.weekday,
        target_min,
        percentile,
        days,
        sc.ok / days,
        sc.ok >= CONFIDENCE * days,
        sum(counts.values()) - sum(first.values()),
        first_ok,
        tuple(groups),
        tuple(slots),
        unserved,
        extra,
        services,
    )
