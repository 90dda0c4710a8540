"""Figures: a day's (or a month's) KPIs per window, service and department, from the store.

Computed from tickets and ratings on request: the hall is small enough (thousands of tickets a
day) that a query is cheaper than keeping counters that must survive restarts.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime

from .domain.errors import DomainError
from .envelope import require
from .request import Request

GROUPS = ("window", "service", "department", "staff", "hall")

GREEN = ("elder", "disabled", "veteran", "pregnant", "other")  # 绿色通道 types counted


def _minutes(a: str | None, b: str | None) -> float | None:
    if not a or not b:
        return None
    return (datetime.fromisoformat(b) - datetime.fromisoformat(a)).total_seconds() / 60


def kpis(
    req: Request, since: date, until: date, group: str, window: int | None = None
) -> list[dict]:
    """Rows of {key, name, issued, served, no_show, cancelled, waiting, held, avg_wait_min,
    avg_handle_min, max_wait_min, ratings {5..1}, satisfaction} for days since..until."""
    tickets = req.store.ticket_rows(since, until, window)
    ratings = req.store.rating_rows(since, until, window)

    def key_of(row) -> str:
        if group == "window":
            return str(row.get("window") or "-")
        if group == "staff":
            return str(row.get("staff") or "-")
        code = row.get("origin_service") or row.get("service") or "-"
        if group == "service":
            return code
        if group == "department":
            item = req.hall.service(code)
            theme = req.hall.theme(code)
            return item.department if item else (theme.lead_department if theme else "-")
        return "hall"

    acc: dict[str, dict] = defaultdict(
        lambda: {
            "issued": 0,
            "served": 0,
            "no_show": 0,
            "cancelled": 0,
            "waiting": 0,
            "held": 0,
            "holds": 0,
            "green": {p: 0 for p in GREEN},
            "green_confirmed": 0,
            "green_withdrawn": 0,
            "missing_cases": 0,
            "missing_returned": 0,
            "missing_overdue": 0,
            "_waits": [],
            "_handles": [],
            "ratings": {str(n): 0 for n in range(5, 0, -1)},
        }
    )
    for t in tickets:
        a = acc[key_of(t)]
        a["issued"] += 1
        status = t["status"]
        if status == "done":
            a["served"] += 1
            h = _minutes(t["served_at"] or t["called_at"], t["finished_at"])
            if h is not None:
                a["_handles"].append(h)
        elif status == "no_show":
            a["no_show"] += 1
        elif status == "cancelled":
            a["cancelled"] += 1
        elif status == "waiting":
            a["waiting"] += 1
        kind = t.get("declared") or t.get("priority")  # 绿色通道, per type
        if kind in a["green"]:
            a["green"][kind] += 1
        if t.get("priority_check") == "confirmed":
            a["green_confirmed"] += 1
        elif t.get("priority_check") == "withdrawn":
            a["green_withdrawn"] += 1
        if t.get("holds"):  # 挂起: tickets held at least once, and holds in all
            a["held"] += 1
            a["holds"] += t["holds"]
        w = _minutes(t["issued_at"], t["called_at"])
        if w is not None:
            a["_waits"].append(w)
    today = req.now.date().isoformat()
    for c in req.store.case_rows(since, until, window):  # 容缺受理, by the day accepted
        a = acc[key_of(c)]
        a["missing_cases"] += 1
        a["missing_returned"] += c["status"] == "returned"
        a["missing_overdue"] += c["status"] == "open" and c["due"] < today
    for r in ratings:
        if (r.get("count") or 1) != 1:
            continue  # a follow-up rating (追加评价) rates the rectification, not the service
        a = acc[key_of(r)]
        a["ratings"][str(r["level"])] += 1
    if group == "window" and window is None:
        for w in req.hall.windows:  # every window has its row, one idle all period too
            acc[str(w.number)]
    staff_names = {str(t["staff"]): t.get("staff_name") for t in tickets if t.get("staff")}
    out = []
    # windows in number order (10 after 9), other keys as text
    for key, a in sorted(acc.items(), key=lambda kv: (kv[0].isdigit(), kv[0].zfill(6))):
        waits, handles = a.pop("_waits"), a.pop("_handles")
        rated = sum(a["ratings"].values())
        good = a["ratings"]["5"] + a["ratings"]["4"] + a["ratings"]["3"]
        name = key
        if group == "window" and key.isdigit() and req.hall.window(int(key)):
            name = req.hall.window(int(key)).name
        elif group == "window" and key == "-":
            name = "未叫号"  # issued, never called at a window
        elif group == "service":
            name = req.code_name(key)
        elif group == "staff":
            name = staff_names.get(key) or ("未登记人员" if key == "-" else key)
        out.append(
            {
                "key": key,
                "name": name,
                **a,
                "avg_wait_min": round(sum(waits) / len(waits), 1) if waits else None,
                "max_wait_min": round(max(waits), 1) if waits else None,
                "avg_handle_min": round(sum(handles) / len(handles), 1) if handles else None,
                "satisfaction": round(100 * good / rated, 1) if rated else None,
            }
        )
    return out


def op_kpis(req: Request) -> dict:
    """report.kpis {day?: YYYY-MM-DD | month?: YYYY-MM, group: window|service|department|hall,
    window?: N}. A caller sees only its own windows."""
    a, dev = req.args, req.device
    group = a.get("group", str, "hall", choices=GROUPS)
    window = a.get("window", int, None, minval=1, maxval=999)
    if dev.role == "caller":
        require(
            window is not None and window in dev.windows,
            "forbidden",
            "只能查看本窗口的数据",
            "A caller sees its own window only",
        )
    since, until = _period(
        req, a.get("month", str, None, maxlen=7), a.get("day", str, None, maxlen=10)
    )
    return {
        "since": since.isoformat(),
        "until": until.isoformat(),
        "group": group,
        "rows": kpis(req, since, until, group, window),
    }


def _period(req: Request, month: str | None, day_text: str | None) -> tuple[date, date]:
    try:
        if month:
            since = date.fromisoformat(month + "-01")
            nxt = date(since.year + (since.month == 12), since.month % 12 + 1, 1)
            return since, date.fromordinal(nxt.toordinal() - 1)
        day = date.fromisoformat(day_text) if day_text else req.day
        return day, day
    except ValueError:
        raise DomainError(
            "bad_request",
            "日期格式应为 YYYY-MM-DD 或 YYYY-MM",
            "Dates look like 2026-11-23, months like 2026-11",
        ) from None


SHEET_GROUPS = ("hall", "window", "service", "department", "staff")


def op_sheet(req: Request) -> dict:
    """report.sheet {period: YYYY-MM-DD | YYYY-MM, pin (role web)}: the 晒成绩单's figures,
    every grouping at once, for the PDF. The web pages have no console session: each download
    gives the manager PIN, checked here with the consoles' lockout (cfg.check_pin)."""
    from .ops_config import check_pin

    period = req.args.get("period", str, maxlen=10)
    if req.device.role == "web":
        check_pin(req, req.args.get("pin", str, maxlen=32))
    month, day = (period, None) if len(period) == 7 else (None, period)
    since, until = _period(req, month, day)
    return {
        "period": period,
        "since": since.isoformat(),
        "until": until.isoformat(),
        "kpis": {g: {"group": g, "rows": kpis(req, since, until, g)} for g in SHEET_GROUPS},
    }


def op_audit(req: Request) -> dict:
    """report.audit {day}: the day's audit log (actions and devices; no personal data is in it)."""
    day_text = req.args.get("day", str, None, maxlen=10) or req.day.isoformat()
    limit = req.args.get("limit", int, 5000, minval=1, maxval=20000)
    rows = req.store.audit_rows(day_text, day_text + "\uffff")
    return {"day": day_text, "rows": rows[:limit], "truncated": len(rows) > limit}


# -- the manager console's live views (extension) ---------------------------------------------


def op_waiting(req: Request) -> dict:
    """report.waiting {}: per queue, how many wait and who has waited longest (number, minutes)."""
    now = req.now
    out = {}
    for code in req.hall.queue_codes():
        waiting = req.queues.waiting(code)
        oldest = min(waiting, key=lambda t: t.issued_at, default=None)
        out[code] = {
            "name": req.code_name(code),
            "waiting": len(waiting),
            "longest": oldest.number if oldest else None,
            "longest_min": round((now - oldest.issued_at).total_seconds() / 60, 1)
            if oldest
            else None,
        }
    return {"at": now.isoformat(), "queues": out}


def op_find(req: Request) -> dict:
    """ticket.find {number, day?}: a day's tickets with this number (today by default), newest
    first: numbers are unique per day and prefix, so this is normally one ticket."""
    number = req.args.get("number", str, maxlen=16).strip().upper()
    day_text = req.args.get("day", str, None, maxlen=10) or req.day.isoformat()
    found = req.store.tickets_numbered(day_text, number)
    require(bool(found), "not_found", f"今天没有 {number} 号", f"No ticket {number} on {day_text}")
    return {
        "tickets": [
            req.ticket_view(req.queues.get(t.id) or t)
            for t in sorted(found, key=lambda t: t.issued_at, reverse=True)
        ]
    }
