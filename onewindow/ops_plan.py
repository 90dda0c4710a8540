"""report.plan: 排班建议 for a day (the console's screen, the printed report), next to that day's
actual figures. The advice itself is worked out by the Planner (planner.py) in a process of its
own: this op only answers with what is ready, and says "computing" meanwhile (docs/protocol.md).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from .domain.demand import SLOT_MIN, hhmm, slot_of
from .domain.errors import DomainError
from .request import Request

HISTORY_DAYS = 28  # the four weeks before the day: each weekday four times
DEFAULT_PERCENTILE = 80


def _minute(at: datetime) -> float:
    return at.hour * 60 + at.minute + at.second / 60


def actual(req: Request, day: date, percentile: float) -> list[dict]:
    """The day's figures per 30-minute slot, as far as the day has gone: citizens who took a
    number in the slot, the `percentile` wait of those (someone still waiting counts with the
    wait so far, a cancelled ticket never called not at all), and the windows that called
    someone in the slot."""
    now = req.now
    per: dict[int, dict] = {}
    for t in req.store.ticket_rows(day, day):
        issued = datetime.fromisoformat(t["issued_at"])
        slot = slot_of(_minute(issued))
        s = per.setdefault(slot, {"arrivals": 0, "waits": [], "windows": set()})
        s["arrivals"] += 1
        if t["called_at"]:
            called = datetime.fromisoformat(t["called_at"])
            s["waits"].append((called - issued).total_seconds() / 60)
            if t.get("window") is not None:
                per.setdefault(
                    slot_of(_minute(called)), {"arrivals": 0, "waits": [], "windows": set()}
                )["windows"].add(t["window"])
        elif t["status"] in ("waiting", "held") and day == req.day:
            s["waits"].append(max(0.0, (now - issued).total_seconds() / 60))
    return [
        {
            "slot": hhmm(slot),
            "arrivals": s["arrivals"],
            "wait_pct": round(_percentile_wait(s["waits"], percentile), 2) if s["waits"] else None,
            "windows": len(s["windows"]),
        }
        for slot, s in sorted(per.items())
    ]


def op_plan(req: Request) -> dict:
    """report.plan {day?, target_wait?, percentile?} -> {status, day, weekday, target_min,
    percentile, from, to, actual, plan | message}. status: "ready" (plan), "computing" (ask
    again in a few seconds), "none" (message: why there is no advice, e.g. no history)."""
    day_text = req.args.get("day", str, None, maxlen=10)
    try:
        day = date.fromisoformat(day_text) if day_text else req.day
    except ValueError:
        raise DomainError(
            "bad_request", "日期格式应为 YYYY-MM-DD", "Dates look like 2026-11-23"
        ) from None
    target = float(
        req.args.get(
            "target_wait", (int, float), req.hall.rules.wait_alert_min, minval=1, maxval=240
        )
    )
    percentile = float(
        req.args.get("percentile", (int, float), DEFAULT_PERCENTILE, minval=50, maxval=99)
    )
    since, until = day - timedelta(days=HISTORY_DAYS), day - timedelta(days=1)
    out = {
        "day": day.isoformat(),
        "weekday": day.weekday(),
        "target_min": target,
        "percentile": percentile,
        "from": since.isoformat(),
        "to": until.isoformat(),
        "slot_min": SLOT_MIN,
        "actual": actual(req, day, percentile),
    }
    if req.planner is None:  # (a controller without its bus: tests of the ops alone)
        return {
            **out,
            "status": "none",
            "message": "排班建议不可用",
            "message_en": "no staffing advice here",
        }
    got = req.planner.get((since, until, target, percentile, day.weekday()))
    if got is None:
        return {**out, "status": "computing"}
    if "plan" in got:
        return {**out, "status": "ready", "plan": got["plan"]}
    return {**out, "status": "none", "message": got["message"], "message_en": got["message_en"]}


def _percentile_wait(waits, percentile):
    # the simulator's module loads only with a plan (the hall's memory: issue 13)
    from .domain.staffing import percentile_wait

    return percentile_wait(waits, percentile)
