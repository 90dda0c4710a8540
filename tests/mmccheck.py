"""The hall simulator against Erlang C on M/M/c (issue 19's check): c identical windows, Poisson
arrivals, exponential handling, run as long "days" that start empty. What tests/test_staffing.py
asserts and bench/bench_plan.py --erlang tabulates, measured the same way. A check of the
product, not part of it: it lives beside the tests (pytest.ini puts tests/ on the path; the
bench adds it), so the installed package does not carry it.

Three figures are compared, each well-conditioned where it is used:
- P(wait), the chance a citizen waits at all (Erlang's C);
- the mean wait of those who wait (exactly mean / (c - a) under M/M/c);
- the mean wait of all: relative error is meaningless when it is a few seconds (c = 20 at
  load 0.5 waits 0.05 s on average), so below ABS_FLOOR_MIN it is compared within an absolute
  tolerance instead, and so is P(wait) below ABS_FLOOR_P.

Each day's first part (WARM_RELAX of the queue's relaxation times, ~ mean / (c (1 - sqrt(load))^2):
130 h for one window at load 0.95) is left out, and so are the citizens arriving in its last
TAIL_MIN (their waits would be cut short by the closing). Days are independent, so the standard
errors come from the spread between days (ratio estimators over the days' totals).
"""

from __future__ import annotations

import math
import random
import statistics
from dataclasses import dataclass
from datetime import date

from onewindow.domain import erlang
from onewindow.domain.demand import Demand, ServiceDemand
from onewindow.domain.hallsim import Group, simulate_day
from onewindow.domain.model import Rules, Window

MEAN_MIN = 5.0  # mean handling time
TOLERANCE = 0.05  # the bound: within 5%
ABS_FLOOR_MIN = 0.1  # mean waits under 6 s are compared within TOLERANCE x this (0.3 s)
ABS_FLOOR_P = 0.05  # P(wait) under 5% is compared within TOLERANCE x this (0.25 points)
WARM_RELAX = 5  # relaxation times left out at the start of each day
MEASURE_RELAX = 20  # ... counted after it (at least MIN_MEASURE_MIN)
MIN_WARM_MIN, MIN_MEASURE_MIN = 300, 1200
TAIL_MIN = 300  # the day goes on this long after the counted arrivals
HANDLING_DRAWS = 20_000
WAITED = 1e-9  # a wait above this is a wait (an idle window calls a newcomer at 0.0)


@dataclass(frozen=True)
class Figure:
    """One compared figure: Erlang C's value, the simulation's, its standard error, and the
    tolerance it is held to (absolute, in the figure's unit)."""

    name: str
    erlang: float
    simulated: float
    se: float
    tolerance: float
    relative: bool  # the tolerance is TOLERANCE x erlang (else an absolute floor)

    @property
    def error(self) -> float:
        """Relative error where the figure is compared relatively, else the absolute one."""
        diff = self.simulated - self.erlang
        return diff / self.erlang if self.relative else diff

    @property
    def agrees(self) -> bool:
        return abs(self.simulated - self.erlang) <= self.tolerance

    @property
    def meaningful(self) -> bool:
        """The tolerance is at least three standard errors: a pass is not luck of the draw."""
        return 3 * self.se <= self.tolerance


@dataclass(frozen=True)
class Case:
    c: int
    load: float
    days: int
    citizens: int  # counted
    day_min: float
    warm_min: float
    p_wait: Figure
    wait_if_waited: Figure
    mean_wait: Figure

    @property
    def figures(self) -> tuple[Figure, Figure, Figure]:
        return self.p_wait, self.wait_if_waited, self.mean_wait


def relaxation_min(c: int, load: float, mean: float = MEAN_MIN) -> float:
    """The M/M/c queue's relaxation time (how long it takes to forget where it started)."""
    return mean / (c * (1 - math.sqrt(load)) ** 2)


def _figure(name: str, want: float, tot: list[tuple[float, float]], floor: float) -> Figure:
    """A ratio sum(y) / sum(x) over the days' (y, x) totals, against Erlang's value `want`."""
    ys, xs = sum(y for y, _ in tot), sum(x for _, x in tot)
    r = ys / xs if xs else 0.0
    m = len(tot)
    xbar = xs / m
    var = sum((y - r * x) ** 2 for y, x in tot) / (m * (m - 1)) if m > 1 else math.inf
    se = math.sqrt(var) / xbar if xbar else math.inf
    relative = want >= floor
    return Figure(name, want, r, se, TOLERANCE * (want if relative else floor), relative)


class Runner:
    """One M/M/c case, simulated day by day (`more(days)`), compared at any point (`case()`)."""

    def __init__(self, c: int, load: float, seed: int = 1000):
        self.c, self.load, self.seed = c, load, seed
        lam = load * c / MEAN_MIN
        relax = relaxation_min(c, load)
        self.warm = max(MIN_WARM_MIN, math.ceil(WARM_RELAX * relax / 30) * 30)
        self.measure = max(MIN_MEASURE_MIN, math.ceil(MEASURE_RELAX * relax / 30) * 30)
        self.day_min = self.warm + self.measure + TAIL_MIN
        r = random.Random(7)
        handling = tuple(r.expovariate(1 / MEAN_MIN) for _ in range(HANDLING_DRAWS))
        self.mean = statistics.mean(handling)  # Erlang C of the times the simulation draws from
        self.lam = lam
        slots = range(0, int(self.day_min), 30)
        svc = ServiceDemand("A", {k: lam for k in slots}, handling, 0.0, (), 0.0, (), 0.0, 0.0)
        self.demand = Demand(0, (date(2026, 1, 5),), ((0.0, float(self.day_min)),), (svc,), ())
        self.group = Group(
            "A",
            "specialist",
            ("A",),
            tuple(Window(i + 1, f"{i + 1}号", services=("A",)) for i in range(c)),
        )
        self.counts = {("A", k): c for k in slots}
        self.totals: list[tuple[int, int, float]] = []  # per day: citizens, waited, sum of waits

    def citizens_per_day(self) -> float:
        return self.lam * self.measure

    def more(self, days: int) -> None:
        for _ in range(days):
            i = len(self.totals)
            res = simulate_day(
                [self.group], self.counts, self.demand, Rules(), random.Random(self.seed + i)
            )
            n = k = 0
            s = 0.0
            for (slot, _), ws in res.waits.items():
                if self.warm <= slot < self.warm + self.measure:
                    n += len(ws)
                    for w in ws:
                        if w > WAITED:
                            k += 1
                            s += w
            self.totals.append((n, k, s))

    def case(self) -> Case:
        a = self.lam * self.mean
        pw = erlang.erlang_c(self.c, a)
        t = self.totals
        return Case(
            self.c,
            self.load,
            len(t),
            sum(n for n, _, _ in t),
            self.day_min,
            self.warm,
            _figure("P(wait)", pw, [(k, n) for n, k, _ in t], ABS_FLOOR_P),
            _figure("W|waited", self.mean / (self.c - a), [(s, k) for _, k, s in t], 0.0),
            _figure(
                "Wq",
                erlang.mean_wait(self.c, self.lam, self.mean),
                [(s, n) for n, _, s in t],
                ABS_FLOOR_MIN,
            ),
        )


def run(
    c: int, load: float, min_days: int = 20, max_citizens: int = 20_000_000, seed: int = 1000
) -> Case:
    """Simulate until every figure's tolerance is at least three standard errors (a meaningful
    comparison), or `max_citizens` were counted; at least `min_days` days (the standard errors
    come from their spread)."""
    r = Runner(c, load, seed)
    r.more(min_days)
    while True:
        case = r.case()
        if all(f.meaningful for f in case.figures) or case.citizens >= max_citizens:
            return case
        # the days still needed, from how the worst standard error falls (as 1 / sqrt(days))
        worst = max((3 * f.se / f.tolerance) ** 2 for f in case.figures)
        need = math.ceil(case.days * min(worst, 4.0) * 1.1) - case.days
        left = math.ceil((max_citizens - case.citizens) / r.citizens_per_day())
        r.more(max(1, min(need, left)))
