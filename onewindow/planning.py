"""`onewindow plan`: 排班建议 from the hall's own history (docs/staffing.md), printed per slot of a
weekday, Chinese first. Reads the database read-only: works while the hall runs."""

from __future__ import annotations

import argparse
import os
import sys
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from datetime import date
from pathlib import Path
from typing import Optional, Sequence

from .domain import demand as dem
from .domain.demand import hhmm
from .domain.hallsim import DayResult, Group, simulate_days
from .domain.model import Hall, Rules
from .domain.staffing import COMPREHENSIVE, CONFIDENCE, Advice, recommend

DEFAULT_DAYS = 200  # simulated days checking a plan

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
WEEKDAYS_ZH = ("星期一", "星期二", "星期三", "星期四", "星期五", "星期六", "星期日")
WEEKDAYS_EN = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


class NoHistory(Exception):
    """The history holds nothing to plan from: the message says what is missing (zh, en)."""


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a day (YYYY-MM-DD)") from None


def _weekday(text: str) -> int:
    t = text.strip().lower()
    if t[:3] in WEEKDAYS:
        return WEEKDAYS.index(t[:3])
    if t.isdigit() and 1 <= int(t) <= 7:
        return int(t) - 1
    raise argparse.ArgumentTypeError(f"{text!r}: give mon..sun or 1..7 (1 = Monday)")


_worker: dict[str, dem.Demand] = {}  # in a worker process: the demand of the plan in hand


def _take_demand(demand: dem.Demand) -> None:
    _worker["demand"] = demand


def _days_part(
    groups: Sequence[Group], counts: dict[tuple[str, int], int], rules: Rules, seeds: Sequence[int]
) -> list[DayResult]:
    # the same demand object call after call: simulate_days keeps its days' calendars
    return simulate_days(groups, counts, _worker["demand"], rules, seeds)


class ParallelDays:
    """Simulated days spread over `jobs` processes (the days are independent, and a plan
    simulates hundreds): the same results as `simulate_days`, in the same order. Each process
    is handed the demand once (with its ~100,000 measured times), when it starts, and always
    the same days (seed % jobs): a plan is tried on the same days again and again, and a day's
    calendar is made once, in the process that keeps it."""

    def __init__(self, jobs: int):
        self.jobs = jobs
        self.pools: list[ProcessPoolExecutor] = []
        self._demand: Optional[dem.Demand] = None

    def __enter__(self) -> ParallelDays:
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop()

    def _stop(self) -> None:
        for pool in self.pools:
            pool.shutdown(cancel_futures=True)
        self.pools = []

    def __call__(
        self,
        groups: Sequence[Group],
        counts: dict[tuple[str, int], int],
        demand: dem.Demand,
        rules: Rules,
        seeds: Sequence[int],
    ) -> list[DayResult]:
        if not self.pools or demand is not self._demand:
            self._stop()
            self._demand = demand
            self.pools = [
                ProcessPoolExecutor(1, initializer=_take_demand, initargs=(demand,))
                for _ in range(self.jobs)
            ]
        seeds = list(seeds)
        parts = []
        for k, pool in enumerate(self.pools):
            mine = [s for s in seeds if s % self.jobs == k]
            if mine:
                parts.append((mine, pool.submit(_days_part, groups, counts, rules, mine)))
        by_seed: dict[int, DayResult] = {}
        for mine, part in parts:
            by_seed.update(zip(mine, part.result(), strict=True))
        return [by_seed[s] for s in seeds]


def spans_of(hall: Hall, weekday: int) -> tuple[dem.Span, ...]:
    return tuple(
        (s.hour * 60 + s.minute, e.hour * 60 + e.minute) for s, e in hall.hours.week[weekday]
    )


def history_demand(
    data_dir: str | Path,
    since: date,
    until: date,
    weekday: Optional[int] = None,
    config: Optional[str | Path] = None,
) -> tuple[Hall, dem.Demand]:
    """The hall and one weekday's demand (None: the history's busiest) from the history of
    `data_dir` (read-only: works while the hall runs); NoHistory when there is none. What 排班建议
    plans from, and what the demo's crowd can replay (a recorded profile)."""
    from .hallconfig import load_file, parse
    from .startup import DB_FILE
    from .store import StoreError
    from .store.history import HistoryReader

    db = Path(data_dir) / DB_FILE
    with HistoryReader(db) as h:
        settings = h.settings()
        past = h.past_tickets(since, until)
    if config is not None:
        hall, _raw = load_file(config)
    elif settings is None:
        raise StoreError(
            f"{db}: no hall has run on this data dir yet: there is no history to plan from"
        )
    else:
        hall = parse(settings, str(db))
    span = f"{since.isoformat()} – {until.isoformat()}"
    if not past:
        raise NoHistory(
            f"{span} 没有任何取号记录，无法给出排班建议（不编造数字）。",
            f"no tickets were issued {span}: there is nothing to plan from",
        )
    if weekday is None:
        weekday = Counter(t.day.weekday() for t in past).most_common(1)[0][0]
    spans = spans_of(hall, weekday)
    if not spans:
        raise NoHistory(
            f"大厅{WEEKDAYS_ZH[weekday]}不开窗，无需排班。",
            f"the hall's windows are closed on {WEEKDAYS_EN[weekday]}s",
        )
    d = dem.build(past, weekday, spans)
    if not d.days:
        raise NoHistory(
            f"{span} 没有{WEEKDAYS_ZH[weekday]}的取号记录，无法给出该日的排班建议。",
            f"no tickets on {WEEKDAYS_EN[weekday]}s {span}: no advice for that day",
        )
    if not d.services:
        raise NoHistory(
            "历史记录中没有办结的业务，无法测算办理时长，无法给出排班建议。",
            "no ticket in the history was finished: handling times are unknown, "
            "so there is no advice",
        )
    return hall, d


def plan(
    data_dir: str | Path,
    since: date,
    until: date,
    target_min: float,
    percentile: float,
    weekday: Optional[int] = None,
    config: Optional[str | Path] = None,
    days: int = DEFAULT_DAYS,
    seed: int = 1,
    jobs: int = 1,
) -> tuple[Hall, dem.Demand, Advice]:
    """The advice for one weekday (None: the history's busiest); NoHistory when there is none."""
    hall, d = history_demand(data_dir, since, until, weekday, config)
    if jobs <= 1:
        return hall, d, recommend(hall, d, target_min, percentile, days=days, seed=seed)
    with ParallelDays(jobs) as run_days:
        return (
            hall,
            d,
            recommend(hall, d, target_min, percentile, days=days, seed=seed, run_days=run_days),
        )


def weak_slots(d: dem.Demand, a: Advice) -> list[dict]:
    """The slots whose citizens met the target on fewer than CONFIDENCE of the simulated days,
    with their predicted wait: the advice stands on each kind of window's citizens over the
    whole day, and a slot can fail badly beside it (the half hour before lunch: the windows
    stop calling at the closing the hours say, so who takes a ticket then waits through the
    break). `before_break`: the slot ends at a closing that is not the day's last."""
    breaks = sorted(end for _, end in d.spans)[:-1]
    return [
        {
            "slot": hhmm(s.slot),
            "wait_pct": round(s.wait_pct, 1),
            "confidence": round(s.confidence, 3),
            "before_break": any(s.slot < end <= s.slot + dem.SLOT_MIN for end in breaks),
        }
        for s in a.slots
        if s.confidence < CONFIDENCE
    ]


def weak_said(weak: Sequence[dict], percentile: float) -> tuple[str, str]:
    """weak_slots as one note (zh, en), '' with none: what the command, the console and the PDF
    say."""
    if not weak:
        return "", ""
    pct = f"{percentile:g}"
    zh = "；".join(
        f"{w['slot']} 预计P{pct}等候 {w['wait_pct']:.0f} 分钟（{w['confidence']:.0%} 的天达标"
        + ("，午休前取号的群众要等到午休后" if w["before_break"] else "")
        + "）"
        for w in weak
    )
    en = "; ".join(
        f"{w['slot']} P{pct} wait {w['wait_pct']:.0f} min ({w['confidence']:.0%} of the days"
        + (", before the break: those who come then wait through it" if w["before_break"] else "")
        + ")"
        for w in weak
    )
    return (
        f"注意：以下时段不足 {CONFIDENCE:.0%} 的模拟日达标：{zh}",
        f"slots meeting the target on fewer than {CONFIDENCE:.0%} of the simulated days: {en}",
    )


def weak_services(hall: Hall, a: Advice) -> list[dict]:
    """The services whose citizens met the target on fewer than CONFIDENCE of the simulated
    days, with their predicted wait: beside an advice that stands on each kind of window's
    citizens, a service can fall short inside a kind that meets the target."""
    names = {s.code: s for s in hall.services}
    return [
        {
            "code": s.code,
            "name": names[s.code].name if s.code in names else s.code,
            "name_en": names[s.code].name_en if s.code in names else "",
            "wait_pct": round(s.wait_pct, 1),
            "confidence": round(s.confidence, 3),
        }
        for s in a.services
        if s.confidence < CONFIDENCE
    ]


def weak_services_said(weak: Sequence[dict], percentile: float) -> tuple[str, str]:
    """weak_services as one note (zh, en), '' with none: what the command and the PDF say."""
    if not weak:
        return "", ""
    pct = f"{percentile:g}"
    zh = "；".join(
        f"{w['code']} {w['name']} 预计P{pct}等候 {w['wait_pct']:.0f} 分钟"
        f"（{w['confidence']:.0%} 的天达标）"
        for w in weak
    )
    en = "; ".join(
        f"{w['code']} {w['name_en'] or w['name']} P{pct} wait {w['wait_pct']:.0f} min "
        f"({w['confidence']:.0%} of the days)"
        for w in weak
    )
    return (
        f"注意：以下业务的群众不足 {CONFIDENCE:.0%} 的模拟日达标：{zh}",
        f"services whose citizens met the target on fewer than {CONFIDENCE:.0%} of the "
        f"simulated days: {en}",
    )


def advice_dict(hall: Hall, d: dem.Demand, a: Advice) -> dict:
    """The advice as the bus carries it (op report.plan, docs/protocol.md): plain JSON."""
    return {
        "weekday": a.weekday,
        "target_min": a.target_min,
        "percentile": a.percentile,
        "history_days": [day.isoformat() for day in d.days],
        "simulated_days": a.days,
        "confidence": round(a.confidence, 3),
        "analytic_confidence": round(a.analytic_confidence, 3),
        "stands": a.stands,
        "added": a.added,
        "groups": [{"id": g.id, "name": g.name, "windows": len(g.windows)} for g in a.groups],
        "slots": [
            {
                "slot": hhmm(s.slot),
                "windows": s.windows,
                "analytic": s.analytic,
                "total": sum(s.windows.values()),
                "wait_pct": round(s.wait_pct, 2),
                "arrivals": round(s.arrivals, 2),
                "confidence": round(s.confidence, 3),
            }
            for s in a.slots
        ],
        "extra": a.extra,
        "weak": weak_slots(d, a),
        "weak_services": weak_services(hall, a),
        "unserved": list(a.unserved),
        "unmeasured": list(d.unmeasured),
    }


def plan_dict(
    data_dir: str | Path,
    since: date,
    until: date,
    target_min: float,
    percentile: float,
    weekday: int,
    days: int = DEFAULT_DAYS,
) -> dict:
    """`plan` as JSON for the bus: {"plan": ...}, or {"message", "message_en"} saying why there
    is none (run in a process of its own by planner.py: it takes seconds)."""
    try:
        hall, d, advice = plan(data_dir, since, until, target_min, percentile, weekday, days=days)
    except NoHistory as exc:
        zh, en = exc.args
        return {"message": zh, "message_en": en}
    return {"plan": advice_dict(hall, d, advice)}


def render(hall: Hall, d: dem.Demand, a: Advice) -> str:
    wd = a.weekday
    pct = f"{a.percentile:g}"
    out = [
        f"排班建议 · {hall.name} · {WEEKDAYS_ZH[wd]}",
        f"Staffing advice · {hall.name_en or hall.name} · {WEEKDAYS_EN[wd]}",
        f"目标：{pct}% 的群众在 {a.target_min:g} 分钟内被叫号"
        f"  (target: {pct}% called within {a.target_min:g} min)",
        f"依据：{len(d.days)} 个{WEEKDAYS_ZH[wd]}的历史记录（{d.days[0]} 至 {d.days[-1]}）"
        f"  (history: {len(d.days)} {WEEKDAYS_EN[wd]}s)",
    ]
    stands = (
        "建议成立 (the advice stands)"
        if a.stands
        else f"未达到 {CONFIDENCE:.0%} 的把握 (below {CONFIDENCE:.0%}: the advice does not stand)"
    )
    out.append(
        f"把握：模拟 {a.days} 天，{a.confidence:.0%} 的天达标；{stands}"
        f"  (confidence: {a.confidence:.0%} of {a.days} simulated days met the target)"
    )
    out.append(
        f"Erlang C 估算的初步方案在模拟中 {a.analytic_confidence:.0%} 的天达标"
        f"  (the Erlang C first cut met the target on {a.analytic_confidence:.0%} of the "
        f"simulated days)"
    )
    if a.added > 0:
        out.append(
            f"注意：初步方案不够，模拟后共加开 {a.added} 个（时段·窗口），表中以 + 标出"
            f"  ({a.added} window-slots added by the simulation, marked +)"
        )
    elif a.added < 0:
        out.append(
            f"初步方案有余量，模拟后共减少 {-a.added} 个（时段·窗口），表中以 - 标出"
            f"  ({-a.added} window-slots the simulation showed were not needed, marked -)"
        )
    for gid, n in a.extra.items():
        g = next(g for g in a.groups if g.id == gid)
        out.append(
            f"注意：{_head(g)} 需比大厅现有多开 {n} 个窗口"
            f"  (needs {n} more {gid} windows than the hall has)"
        )
    for said in (
        weak_said(weak_slots(d, a), a.percentile),
        weak_services_said(weak_services(hall, a), a.percentile),
    ):
        if said[0]:
            out.append(f"{said[0]}  ({said[1]})")
    if a.unserved:
        out.append(
            f"注意：没有窗口办理 {'、'.join(a.unserved)}，未计入"
            f"  (no window serves {', '.join(a.unserved)}: not planned)"
        )
    if d.unmeasured:
        out.append(
            f"注意：{'、'.join(d.unmeasured)} 没有办结记录（办理时长未知），未计入"
            f"  (no finished ticket, handling time unknown: not planned)"
        )
    out.append("")
    heads = [_head(g) for g in a.groups]
    out.append("时段   " + "  ".join(heads) + f"  预计P{pct}等候  到达  把握")
    out.append(
        "slot   "
        + "  ".join(" " * _w(h) for h in heads)
        + f"  P{pct} wait     arrivals  confidence"
    )
    for s in a.slots:
        cells = []
        for g, h in zip(a.groups, heads, strict=True):
            n, first = s.windows[g.id], s.analytic[g.id]
            cell = f"{n}" + (f" ({n - first:+d})" if n != first else "")
            cells.append(cell + " " * max(0, _w(h) - len(cell)))
        out.append(
            f"{hhmm(s.slot)}  "
            + "  ".join(cells)
            + f"  {s.wait_pct:5.1f} 分钟  {s.arrivals:5.1f}  {s.confidence:.0%}"
        )
    out.append("")
    out.append(
        "每格为该时段应开窗口数；+N/-N 为模拟后加开/减少的。把握 = 模拟日中该时段达标的比例。"
    )
    out.append(
        "(each cell: windows to open in the slot; +N/-N: added/closed by the simulation; confidence = "
        "share of simulated days the slot met the target)"
    )
    return "\n".join(out) + "\n"


def _head(g: Group) -> str:
    """A group as the table heads it: two kinds may share a name (户籍窗口 for A+B and J)."""
    return g.name if g.id == COMPREHENSIVE else f"{g.name}({g.id})"


def _w(text: str) -> int:
    """Columns a text takes in a terminal (a Chinese character takes two)."""
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)


def cmd_plan(args) -> int:
    if args.target_wait <= 0 or not 0 < args.percentile < 100 or args.days < 1 or args.jobs < 1:
        print(
            "onewindow plan: --target-wait must be > 0, --percentile between 0 and 100, "
            "--days and --jobs at least 1",
            file=sys.stderr,
        )
        return 2
    if args.since > args.to:
        print("onewindow plan: --from is after --to", file=sys.stderr)
        return 2
    from .domain.whatif import parse_change

    try:
        changes = [parse_change(text) for text in args.what_if or ()]
    except ValueError as exc:
        print(f"onewindow plan: --what-if {exc}", file=sys.stderr)
        return 2
    try:
        hall, d, advice = plan(
            args.data_dir,
            args.since,
            args.to,
            args.target_wait,
            args.percentile,
            args.weekday,
            args.config,
            args.days,
            args.seed,
            args.jobs,
        )
    except NoHistory as exc:
        zh, en = exc.args
        print(f"onewindow plan: {zh}\n  ({en})", file=sys.stderr)
        return 1
    sys.stdout.write(render(hall, d, advice))
    if changes:
        from .planwhatif import what_if

        try:
            if args.jobs <= 1:
                sys.stdout.write(what_if(hall, d, advice, changes, args.seed))
            else:
                with ParallelDays(args.jobs) as run_days:
                    sys.stdout.write(what_if(hall, d, advice, changes, args.seed, run_days))
        except ValueError as exc:
            print(f"onewindow plan: --what-if {exc}", file=sys.stderr)
            return 2
    return 0


def register(sub, data_arg) -> None:
    p = sub.add_parser(
        "plan",
        help="排班建议: windows to open per slot, from the hall's history "
        "(works while the hall runs)",
    )
    data_arg(p)
    p.add_argument("--from", dest="since", type=_day, required=True, help="first day, YYYY-MM-DD")
    p.add_argument("--to", type=_day, required=True, help="last day, YYYY-MM-DD (included)")
    p.add_argument(
        "--target-wait",
        type=float,
        required=True,
        metavar="MIN",
        help="minutes within which citizens should be called",
    )
    p.add_argument(
        "--percentile",
        type=float,
        default=80,
        help="share of citizens (percent) to call within the target (default 80)",
    )
    p.add_argument(
        "--weekday",
        type=_weekday,
        default=None,
        help="mon..sun or 1..7; default: the history's busiest weekday",
    )
    p.add_argument(
        "--config",
        help="plan for this hall file's windows and rules instead of "
        "the live ones (a what-if: move or add windows in a copy)",
    )
    p.add_argument(
        "--days", type=int, default=DEFAULT_DAYS, help=f"simulated days (default {DEFAULT_DAYS})"
    )
    p.add_argument("--seed", type=int, default=1, help="the simulation's random seed")
    p.add_argument(
        "--what-if",
        action="append",
        metavar="CHANGE",
        help="after the advice, the waits per service and slot with this change to it: "
        "KIND+N@HH:MM-HH:MM, e.g. comprehensive+2@09:00-11:00 or A+B-1@14:00-15:00 (KIND as in "
        "the table's heads), or WINDOW=SERVICES[@HH:MM-HH:MM], e.g. 5=C (window 5 serves C "
        "instead, where the advice opens a window of its kind); may be repeated",
    )
    p.add_argument(
        "--jobs",
        type=int,
        default=os.cpu_count() or 1,
        help="processes simulating days (default: one per CPU; the advice is the "
        "same whatever the number)",
    )
    p.set_defaults(func=cmd_plan)
