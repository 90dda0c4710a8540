"""How long 排班建议 takes: a month of synthetic history in a real hall database (the demo hall's
file), read, analysed and simulated for one weekday, as `onewindow plan` does.

Usage: .venv/bin/python bench/bench_plan.py [--tickets 100000] [--days 200] [--weekday mon]
       [--erlang [--customers 1000000]]   (also: the simulator against Erlang C over
       c = 1..20, load 0.5..0.95)
"""

from __future__ import annotations

import argparse
import math
import os
import random
import resource
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from onewindow import planning  # noqa: E402
from onewindow.demohistory import write_history  # noqa: E402
from onewindow.domain import erlang  # noqa: E402
from onewindow.domain.demand import Demand, ServiceDemand  # noqa: E402
from onewindow.domain.hallsim import Group, simulate_day  # noqa: E402
from onewindow.domain.model import Rules, Window  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
FIRST = date(2026, 10, 12)  # a Monday; the month runs 4 weeks from here


def make_history(data_dir: Path, tickets: int, seed: int = 1) -> int:
    """`tickets` tickets over the month's working days (demohistory.py), through the Store."""
    return write_history(REPO / "config" / "hall.toml", data_dir, FIRST, 28, tickets, seed)


def _cpu() -> float:
    """CPU seconds of this process and its ended children (the plan's worker processes end with
    it): what the plan costs whatever else loads the machine."""
    me, kids = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def bench_plan(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp)
        t0 = time.perf_counter()
        n = make_history(data, args.tickets)
        print(f"history: {n} tickets written in {time.perf_counter() - t0:.1f} s (not timed below)")
        for _ in range(args.repeat):
            load = os.getloadavg()[0]
            cpu0 = _cpu()
            t0 = time.perf_counter()
            hall, d, advice = planning.plan(
                data,
                FIRST,
                FIRST + timedelta(days=27),
                args.target,
                80,
                args.weekday,
                days=args.days,
                jobs=args.jobs,
            )
            took = time.perf_counter() - t0
            cpu = _cpu() - cpu0
            per_day = sum(s.arrivals for s in advice.slots)
            print(
                f"plan ({args.jobs} processes): {len(d.days)} "
                f"{planning.WEEKDAYS_EN[d.weekday]}s, {per_day:.0f} arrivals a day, "
                f"{args.days} simulated days: {took:.1f} s, CPU {cpu:.1f} s (load average "
                f"before: {load:.1f}; "
                f"confidence {advice.confidence:.0%}, Erlang C alone "
                f"{advice.analytic_confidence:.0%}, {advice.added} window-slots added)",
                flush=True,
            )
        if args.show:
            print(planning.render(hall, d, advice))


def bench_erlang(customers: int) -> None:
    """Mean wait simulated against Erlang C. Each case runs long "days" that start empty: their
    first part (a few of the queue's relaxation times, ~ mean / (c (1 - sqrt(load))^2): 130 h
    for one window at 0.95) and their last 10 h are left out, and `customers` citizens counted."""
    mean = 5.0
    print(" c   load  Erlang C Wq  simulated  diff   customers  day (h)  left out (h)")
    for c in (1, 2, 5, 10, 20):
        for rho in (0.5, 0.7, 0.8, 0.9, 0.95):
            lam = rho * c / mean
            relax = mean / (c * (1 - math.sqrt(rho)) ** 2)
            warm = max(600, round(3 * relax / 30) * 30)
            long_day = max(6000, 5 * warm)
            r = random.Random(7)
            handling = tuple(r.expovariate(1 / mean) for _ in range(20_000))
            slots = range(0, long_day, 30)
            svc = ServiceDemand("A", {k: lam for k in slots}, handling, 0.0, (), 0.0, (), 0.0, 0.0)
            demand = Demand(0, (FIRST,), ((0.0, float(long_day)),), (svc,), ())
            group = Group(
                "A",
                "specialist",
                ("A",),
                tuple(Window(i + 1, str(i + 1), services=("A",)) for i in range(c)),
            )
            counts = {("A", k): c for k in slots}
            days = math.ceil(customers / (lam * (long_day - warm - 600)))
            waits = []
            for i in range(days):
                res = simulate_day([group], counts, demand, Rules(), random.Random(i))
                waits += [
                    w for (s, _), ws in res.waits.items() if warm <= s < long_day - 600 for w in ws
                ]
            wq = erlang.mean_wait(c, lam, statistics.mean(handling))
            sim = statistics.mean(waits)
            print(
                f"{c:2d}  {rho:4.2f}  {wq:11.3f}  {sim:9.3f}  {(sim - wq) / wq:+6.1%}  "
                f"{len(waits):9d}  {long_day / 60:7.0f}  {warm / 60:12.0f}",
                flush=True,
            )


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--tickets", type=int, default=100_000)
    p.add_argument("--days", type=int, default=200)
    p.add_argument("--target", type=float, default=15, help="target wait, minutes")
    p.add_argument("--weekday", type=planning._weekday, default=0)
    p.add_argument("--jobs", type=int, default=2, help="processes simulating days")
    p.add_argument("--show", action="store_true", help="print the advice too")
    p.add_argument("--repeat", type=int, default=1, help="plan this many times")
    p.add_argument("--erlang", action="store_true")
    p.add_argument(
        "--customers", type=int, default=1_000_000, help="--erlang: citizens counted per case"
    )
    args = p.parse_args()
    bench_plan(args)
    if args.erlang:
        bench_erlang(args.customers)


if __name__ == "__main__":
    main()
