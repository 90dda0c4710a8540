"""`onewindow plan --what-if KIND+N@HH:MM-HH:MM` or `--what-if WINDOW=SERVICES`: the advice
changed by hand (more or fewer windows of a kind over some half hours, or a window moved to
other services) and the waits it then gives, per service and slot (domain/whatif.py), printed
after the advice. Chinese first."""

from __future__ import annotations

from typing import Sequence

from .domain import demand as dem
from .domain.demand import hhmm
from .domain.hallsim import simulate_days
from .domain.model import Hall
from .domain.staffing import Advice, DayRunner
from .domain.whatif import DAY_MIN, Edit, Move, apply, predict


def what_if(
    hall: Hall,
    d: dem.Demand,
    advice: Advice,
    changes: Sequence[Edit],
    seed: int,
    run_days: DayRunner = simulate_days,
) -> str:
    """The changed plan's table: windows per kind, then each service's wait, per slot."""
    counts = {(g, s.slot): n for s in advice.slots for g, n in s.windows.items()}
    groups, changed = apply(counts, changes, advice.groups, hall)
    args = (hall, d, groups, changed, advice.target_min, advice.percentile, advice.days)
    p = predict(*args, seed=seed, run_days=run_days)
    pct = f"{advice.percentile:g}"
    said = "；".join(_said(c) for c in changes)
    codes = [s.code for s in d.services if s.code not in advice.unserved]
    out = [
        "",
        f"假如（what-if）：{said}",
        f"模拟 {p.days} 天，{p.confidence:.0%} 的天达标；"
        + ("仍成立" if p.stands else f"未达到 {0.9:.0%} 的把握")
        + f"  ({p.confidence:.0%} of {p.days} simulated days met the target)",
        f"各事项 P{pct} 等候（分钟），* 为该时段该事项不足 90% 的天达标"
        f"  (P{pct} wait per service, minutes; * met on fewer than 90% of the days)",
        "时段   "
        + "  ".join(f"{g.id[:6]:>6}" for g in groups)
        + "  |"
        + "".join(f"{c:>7}" for c in codes),
    ]
    for s in advice.slots:
        cells = []
        for g in groups:
            n, before = changed.get((g.id, s.slot), 0), counts.get((g.id, s.slot), 0)
            cell = f"{n}" + (f"({n - before:+d})" if n != before else "")
            cells.append(f"{cell:>6}")
        waits = []
        for c in codes:
            w = p.waits.get((s.slot, c))
            mark = "*" if p.met.get((s.slot, c), 1.0) < 0.9 else " "
            waits.append("      —" if w is None else f"{w:6.1f}{mark}")
        out.append(f"{hhmm(s.slot)}  " + "  ".join(cells) + "  |" + "".join(waits))
    return "\n".join(out) + "\n"


def _said(c: Edit) -> str:
    if isinstance(c, Move):
        to = "+".join(c.services) or "全部事项"
        hours = "" if (c.start, c.end) == (0, DAY_MIN) else f" {hhmm(c.start)}-{hhmm(c.end)}"
        return f"{c.window}号窗口改办 {to}{hours}"
    return f"{c.group} {c.delta:+d} 个 {hhmm(c.start)}-{hhmm(c.end)}"
