"""Daily and monthly reports: KPI and audit CSVs (Excel opens them: UTF-8 with BOM) and one
printable PNG with charts. Pure functions over the results of `report.kpis` / `report.audit`;
`collect` and `export` take any `request(op, args) -> result` (a DeviceClient's, or a test's)."""
from __future__ import annotations

import csv
import io
import json
import re
from datetime import date
from pathlib import Path
from typing import Callable

GROUPS = ("window", "service", "department")
GROUP_TITLES = {"hall": ("全厅", "Hall"), "window": ("窗口", "Window"),
                "service": ("事项", "Service"), "department": ("部门", "Department")}
KPI_COLUMNS = (
    ("key", "编号", "Key"), ("name", "名称", "Name"), ("issued", "取号数", "Issued"),
    ("served", "办结数", "Served"), ("no_show", "过号数", "No-show"),
    ("cancelled", "取消数", "Cancelled"), ("waiting", "仍在等候", "Still waiting"),
    ("held", "挂起件数", "Held (tickets)"), ("holds", "挂起次数", "Holds"),
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
    ("r5", "非常满意", "Very satisfied"), ("r4", "满意", "Satisfied"),
    ("r3", "基本满意", "Fairly satisfied"), ("r2", "不满意", "Dissatisfied"),
    ("r1", "非常不满意", "Very dissatisfied"), ("satisfaction", "满意率(%)", "Satisfaction (%)"),
)
AUDIT_COLUMNS = ("seq", "at", "device", "action", "ticket_id", "window", "from_status",
                 "to_status", "detail")
LEVEL_NAMES = {5: "非常满意", 4: "满意", 3: "基本满意", 2: "不满意", 1: "非常不满意"}
LEVEL_COLOURS = {5: (46, 125, 50), 4: (102, 187, 106), 3: (255, 193, 7), 2: (245, 124, 0),
                 1: (198, 40, 40)}
PAGE = (1240, 1754)           # A4 at 150 dpi
INK, GREY, ACCENT = (33, 33, 33), (117, 117, 117), (21, 101, 192)

Request = Callable[[str, dict], dict]


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
        flat = {**row, **{f"r{n}": ratings.get(str(n), 0) for n in range(1, 6)},
                **{f"g_{k}": v for k, v in green.items()}}
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
    return data


def export(request: Request, period: str, out_dir: Path, hall_name: str = "") -> list[Path]:
    """Write the CSVs and the PNG of a period into out_dir; returns their paths."""
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
    p = out_dir / f"report-{period}.png"
    report_png(data, hall_name).save(p)
    paths.append(p)
    return paths


# -- the printable page ----------------------------------------------------------------------

def _fonts():
    from PIL import ImageFont
    from .fonts import find_font
    regular, bold = find_font("regular"), find_font("bold") or find_font("regular")
    if regular is None:
        f = ImageFont.load_default()
        return lambda size, strong=False: f
    return lambda size, strong=False: ImageFont.truetype(bold if strong else regular, size)


def _total(result: dict) -> dict:
    rows = result.get("rows") or []
    return rows[0] if rows else {}


def _fmt(value, unit: str = "") -> str:
    return "—" if value is None else f"{value}{unit}"


def report_png(data: dict, hall_name: str = ""):
    """One A4 page: headline figures, served per window, waits per service, satisfaction."""
    from PIL import Image, ImageDraw
    font = _fonts()
    img = Image.new("RGB", PAGE, "white")
    d = ImageDraw.Draw(img)
    period = data["period"]
    kind = "运行日报" if len(period) == 10 else "运行月报"
    d.text((80, 60), f"{hall_name} {kind}".strip(), font=font(46, True), fill=INK)
    d.text((80, 125), f"统计期间 {period}   Hall report {period}", font=font(24), fill=GREY)
    hall = _total(data["kpis"]["hall"])
    figures = [("取号", hall.get("issued", 0), ""), ("办结", hall.get("served", 0), ""),
               ("过号", hall.get("no_show", 0), ""),
               ("平均等候", hall.get("avg_wait_min"), " 分"),
               ("平均办理", hall.get("avg_handle_min"), " 分"),
               ("满意率", hall.get("satisfaction"), "%")]
    box_w = (PAGE[0] - 160 - 5 * 16) // 6
    for i, (label, value, unit) in enumerate(figures):
        x = 80 + i * (box_w + 16)
        d.rounded_rectangle((x, 180, x + box_w, 300), 14, fill=(232, 240, 254))
        d.text((x + box_w / 2, 215), label, font=font(24), fill=GREY, anchor="mm")
        d.text((x + box_w / 2, 265), _fmt(value, unit), font=font(36, True), fill=ACCENT,
               anchor="mm")
    windows = [(r["name"], r["served"]) for r in data["kpis"]["window"]["rows"] if r["key"] != "-"]
    _bars(d, font, (80, 350, PAGE[0] - 80, 790), "各窗口办结量 Served per window", windows, "件")
    waits = [(r["name"], r.get("avg_wait_min") or 0) for r in data["kpis"]["service"]["rows"]]
    _bars(d, font, (80, 830, PAGE[0] - 80, 1270), "各事项平均等候 Average wait per service (min)",
          waits, "分")
    _satisfaction(d, font, (80, 1310, PAGE[0] - 80, 1400), hall.get("ratings") or {})
    _departments(d, font, (80, 1440, PAGE[0] - 80, PAGE[1] - 60), data["kpis"]["department"]["rows"])
    return img


def _bars(d, font, box, title, items, unit) -> None:
    x0, y0, x1, y1 = box
    d.text((x0, y0), title, font=font(28, True), fill=INK)
    top, bottom = y0 + 60, y1 - 70
    d.line((x0, bottom, x1, bottom), fill=GREY, width=2)
    if not items:
        d.text((x0 + 20, top + 40), "本期无数据 No data", font=font(24), fill=GREY)
        return
    peak = max(v for _, v in items) or 1
    slot = (x1 - x0) / len(items)
    bar = min(70, slot * 0.6)
    small = font(18 if len(items) > 10 else 20)
    for i, (label, value) in enumerate(items):
        cx = x0 + slot * (i + 0.5)
        h = (bottom - top) * value / peak
        d.rectangle((cx - bar / 2, bottom - h, cx + bar / 2, bottom), fill=ACCENT)
        d.text((cx, bottom - h - 6), f"{value:g}", font=font(20), fill=INK, anchor="md")
        short = label if len(label) <= 6 else label[:6]
        d.text((cx, bottom + 10), short, font=small, fill=INK, anchor="ma")


def _satisfaction(d, font, box, ratings: dict) -> None:
    x0, y0, x1, y1 = box
    d.text((x0, y0), "好差评分布 Ratings", font=font(28, True), fill=INK)
    total = sum(int(ratings.get(str(n), 0)) for n in range(1, 6))
    top = y0 + 50
    if not total:
        d.text((x0 + 20, top), "本期无评价 No ratings", font=font(24), fill=GREY)
        return
    x = x0
    for n in range(5, 0, -1):
        count = int(ratings.get(str(n), 0))
        if not count:
            continue
        w = (x1 - x0) * count / total
        d.rectangle((x, top, x + w, top + 40), fill=LEVEL_COLOURS[n])
        if w > 90:
            d.text((x + w / 2, top + 20), f"{LEVEL_NAMES[n]} {count}", font=font(20),
                   fill="white", anchor="mm")
        x += w


def _departments(d, font, box, rows) -> None:
    x0, y0, x1, _ = box
    d.text((x0, y0), "各部门 By department", font=font(28, True), fill=INK)
    cols = (("部门", 0), ("取号", 330), ("办结", 450), ("过号", 570), ("平均等候", 690),
            ("平均办理", 850), ("满意率", 1000))
    y = y0 + 50
    for label, dx in cols:
        d.text((x0 + dx, y), label, font=font(22, True), fill=GREY)
    for r in rows[:8]:
        y += 34
        values = (r["name"], r["issued"], r["served"], r["no_show"], _fmt(r["avg_wait_min"], " 分"),
                  _fmt(r["avg_handle_min"], " 分"), _fmt(r["satisfaction"], "%"))
        for (_label, dx), v in zip(cols, values, strict=True):
            d.text((x0 + dx, y), str(v), font=font(22), fill=INK)
