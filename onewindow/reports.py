"""Daily and monthly reports: KPI and audit CSVs (Excel opens them: UTF-8 with BOM) and the
printable PDF (reportpdf.py). Pure functions over the results of `report.kpis` / `report.audit`;
`collect` and `export` take any `request(op, args) -> result` (a DeviceClient's, or a test's)."""

from __future__ import annotations

import csv
import io
import json
import re
import time
from datetime import date
from pathlib import Path
from typing import Callable

GROUPS = ("window", "service", "department", "staff")
GROUP_TITLES = {
    "hall": ("全厅", "Hall"),
    "window": ("窗口", "Window"),
    "service": ("事项", "Service"),
    "department": ("部门", "Department"),
    "staff": ("工作人员", "Staff"),
}
KPI_COLUMNS = (
    ("key", "编号", "Key"),
    ("name", "名称", "Name"),
    ("issued", "取号数", "Issued"),
    ("served", "办结数", "Served"),
    ("no_show", "过号数", "No-show"),
    ("cancelled", "取消数", "Cancelled"),
    ("waiting", "仍在等候", "Still waiting"),
    ("held", "挂起件数", "Held (tickets)"),
    ("holds", "挂起次数", "Holds"),
    ("g_elder", "绿色通道·老年人", "Priority: elder"),
    ("g_disabled", "绿色通道·残疾人", "Priority: disabled"),
    ("g_veteran", "绿色通道·军人", "Priority: veteran"),
    ("g_pregnant", "绿色通道·孕妇", "Priority: pregnant"),
    ("green_confirmed", "自报优先·已核验", "Declared: confirmed"),
    ("green_withdrawn", "自报优先·已撤销", "Declared: withdrawn"),
    ("missing_cases", "容缺受理", "Accepted with missing materials"),
    ("missing_returned", "已补件", "Materials brought"),
    ("missing_overdue", "补件逾期", "Overdue"),
    ("avg_wait_min", "平均等候(分钟)", "Avg wait (min)"),
    ("max_wait_min", "最长等候(分钟)", "Max wait (min)"),
    ("avg_handle_min", "平均办理(分钟)", "Avg handling (min)"),
    ("r5", "非常满意", "Very satisfied"),
    ("r4", "满意", "Satisfied"),
    ("r3", "基本满意", "Fairly satisfied"),
    ("r2", "不满意", "Dissatisfied"),
    ("r1", "非常不满意", "Very dissatisfied"),
    ("satisfaction", "满意率(%)", "Satisfaction (%)"),
)
AUDIT_COLUMNS = (
    "seq",
    "at",
    "device",
    "action",
    "ticket_id",
    "window",
    "from_status",
    "to_status",
    "detail",
)

Request = Callable[[str, dict], dict]
PLAN_WAIT_S = 180.0  # a day's report waits this long for its 排班建议 page
PLAN_ASK_S = 2.0


def period_args(period: str) -> dict:
    """'2026-11-23' -> {'day': ...}; '2026-11' -> {'month': ...}; anything else: ValueError."""
    if re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", period):
        date.fromisoformat(period)
        return {"day": period}
    if re.fullmatch(r"[0-9]{4}-[0-9]{2}", period):
        date.fromisoformat(period + "-01")
        return {"month": period}
    raise ValueError(f"a report period is a day (2026-11-23) or a month (2026-11), not {period!r}")


def _cell(value):
    return "" if value is None else value


def kpi_rows(result: dict) -> list[list]:
    """The table of one `report.kpis` result: a header row (zh / en) then one row per key."""
    out = [[f"{zh} {en}" for _, zh, en in KPI_COLUMNS]]
    for row in result.get("rows", []):
        ratings = row.get("ratings") or {}
        green = row.get("green") or {}
        flat = {
            **row,
            **{f"r{n}": ratings.get(str(n), 0) for n in range(1, 6)},
            **{f"g_{k}": v for k, v in green.items()},
        }
        out.append([_cell(flat.get(key)) for key, _, _ in KPI_COLUMNS])
    return out


def _csv(rows: list[list]) -> bytes:
    buf = io.StringIO()
    csv.writer(buf).writerows(rows)
    return buf.getvalue().encode("utf-8-sig")


def kpi_csv(result: dict) -> bytes:
    return _csv(kpi_rows(result))


def audit_csv(result: dict) -> bytes:
    """A day's audit log; `detail` stays JSON text (it never holds a name or ID number)."""
    rows = [list(AUDIT_COLUMNS)]
    for r in result.get("rows", []):
        detail = r.get("detail")
        if detail is not None and not isinstance(detail, str):
            detail = json.dumps(detail, ensure_ascii=False)
        rows.append([_cell(r.get(c)) if c != "detail" else _cell(detail) for c in AUDIT_COLUMNS])
    return _csv(rows)


def collect(request: Request, period: str) -> dict:
    """Everything a report needs, asked from the controller: kpis per group (+ the hall), and the
    audit log when the period is a day."""
    args = period_args(period)
    data = {"period": period, "kpis": {}}
    for group in ("hall",) + GROUPS:
        data["kpis"][group] = request("report.kpis", {**args, "group": group})
    if "day" in args:
        data["audit"] = request("report.audit", {"day": args["day"]})
        data["plan"] = plan_for(request, args["day"])
    return data


def plan_for(request: Request, day: str, wait_s: float = PLAN_WAIT_S) -> dict:
    """report.plan for `day`, waited for while it is being worked out (at most `wait_s`: then
    the report says it is still being worked out)."""
    deadline = time.monotonic() + wait_s
    while True:
        got = request("report.plan", {"day": day})
        if got.get("status") != "computing" or time.monotonic() > deadline:
            return got
        time.sleep(PLAN_ASK_S)


def export(request: Request, period: str, out_dir: Path, hall_name: str = "") -> list[Path]:
    """Write the CSVs and the PDF of a period into out_dir; returns their paths."""
    data = collect(request, period)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for group in GROUPS:
        p = out_dir / f"kpis-{period}-{group}.csv"
        p.write_bytes(kpi_csv(data["kpis"][group]))
        paths.append(p)
    if "audit" in data:
        p = out_dir / f"audit-{period}.csv"
        p.write_bytes(audit_csv(data["audit"]))
        paths.append(p)
    from .reportpdf import report_pdf

    p = out_dir / f"report-{period}.pdf"
    p.write_bytes(report_pdf(data, hall_name))
    paths.append(p)
    return paths
