"""How long 排班建议 takes: a month of synthetic history in a real hall database (the demo hall's
file), read, analysed and simulated for one weekday, as `onewindow plan` does.

Usage: .venv/bin/python bench/bench_plan.py [--tickets 100000] [--days 200] [--weekday mon]
       [--erlang [--max-citizens 20000000]]   (also: the simulator against Erlang C over
       c = 1..20, load 0.5..0.95, each case until its standard errors are a third of the 5%
       tolerance: the longest cases, load 0.95, count ~5 million citizens)
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(REPO / "tests")]

import mmccheck  # noqa: E402  (in tests/: the check tests/test_staffing.py runs)
from onewindow import planning  # noqa: E402
from onewindow.demohistory import write_history  # noqa: E402

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


ERLANG_WINDOWS = (1, 2, 3, 5, 8, 10, 15, 20)
ERLANG_LOADS = (0.5, 0.6, 0.7, 0.8, 0.9, 0.95)


def bench_erlang(max_citizens: int) -> None:
    """The simulator against Erlang C over c = 1..20 and load 0.5..0.95 (tests/mmccheck.py):
    each case is simulated until every figure's tolerance is at least three standard errors
    (or `max_citizens` were counted: marked), so the comparison means something. Per figure:
    Erlang C, simulated, error (relative; absolute in the figure's unit where marked "abs") and
    its standard error, in the same unit."""
    print(
        "each case runs until 3 x its standard error <= the tolerance: 5% of Erlang C, or where "
        f"Erlang C is tiny an absolute {mmccheck.TOLERANCE * mmccheck.ABS_FLOOR_P:.4f} "
        f"(P(wait) < {mmccheck.ABS_FLOOR_P:g}) and "
        f"{mmccheck.TOLERANCE * mmccheck.ABS_FLOOR_MIN * 60:.1f} s "
        f"(Wq < {mmccheck.ABS_FLOOR_MIN * 60:.0f} s)"
    )
    print(
        " c  load  citizens   days  day(h) warm(h) | figure    Erlang C  simulated    error"
        "       SE  within  3SE<=tol"
    )
    worst = 0.0
    failed = []
    for c in ERLANG_WINDOWS:
        for load in ERLANG_LOADS:
            t0 = time.perf_counter()
            case = mmccheck.run(c, load, max_citizens=max_citizens)
            took = time.perf_counter() - t0
            head = (
                f"{c:2d}  {load:4.2f} {case.citizens:9d} {case.days:6d} "
                f"{case.day_min / 60:7.0f} {case.warm_min / 60:7.0f}"
            )
            for i, f in enumerate(case.figures):
                if f.relative:
                    err, se = f"{f.error:+8.2%}", f"{f.se / f.erlang:7.2%}"
                    worst = max(worst, abs(f.error))
                else:
                    err, se = f"{f.error:+8.4f}", f"{f.se:7.4f}"
                    err, se = err + " abs", se + " abs"
                print(
                    f"{head if i == 0 else ' ' * len(head)} | {f.name:8s} {f.erlang:9.4f} "
                    f"{f.simulated:10.4f} {err:>12s} {se:>11s}  "
                    f"{'yes' if f.agrees else 'NO':>5s}  {'yes' if f.meaningful else 'no':>5s}"
                    + (f"   ({took:.0f} s)" if i == 2 else ""),
                    flush=True,
                )
                if not f.agrees:
                    failed.append(f"c={c} load={load} {f.name}")
    print(
        f"largest relative error: {worst:.2%}; outside the tolerance: {', '.join(failed) or 'none'}"
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
        "--max-citizens",
        type=int,
        default=20_000_000,
        help="--erlang: at most this many citizens counted per case",
    )
    args = p.parse_args()
    bench_plan(args)
    if args.erlang:
        bench_erlang(args.max_citizens)


if __name__ == "__main__":
    main()
