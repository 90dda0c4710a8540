"""The printable page of 排班建议 in the day's PDF report (reportpdf.py): the advice for the day
(op report.plan) as a table per half hour and two charts, windows to open and the waits, with
the day's actual figures beside them. Chinese first, English second."""

from __future__ import annotations

from .pdfparts import grid_style
from .planning import WEEKDAYS_ZH, weak_said, weak_services_said

GROUP_COLOURS = (
    "#1f77b4",
    "#2ca02c",
    "#9467bd",
    "#17becf",
    "#8c564b",
    "#7f7f7f",
    "#bcbd22",
    "#e377c2",
    "#aec7e8",
    "#98df8a",
)
WAIT_COLOUR, ACTUAL_COLOUR = "#ef6c00", "#c62828"


def _fmt(value, unit: str = "") -> str:
    return "—" if value is None else f"{value:g}{unit}"


def plan_story(result: dict, styles, width: float) -> list:
    """Flowables for the page; `result` is report.plan's answer. Drawn in the report's font
    (its styles')."""
    from reportlab.platypus import KeepTogether, Paragraph, Spacer

    font = styles["cell"].fontName
    day = result["day"]
    weekday = WEEKDAYS_ZH[result["weekday"]]
    story = [
        Paragraph(f"排班建议 Staffing advice · {day} {weekday}", styles["h2"]),
        Paragraph(
            f"目标：{result['percentile']:g}% 的群众在 {result['target_min']:g} 分钟内被叫号"
            f"　Target: {result['percentile']:g}% called within {result['target_min']:g} min",
            styles["cell"],
        ),
    ]
    plan = result.get("plan")
    if result["status"] != "ready" or plan is None:
        why = (
            "仍在测算中，未列入本报告 (still being worked out: not in this report)"
            if result["status"] == "computing"
            else f"{result.get('message', '')} ({result.get('message_en', '')})"
        )
        return story + [Paragraph(f"暂无排班建议：{why}", styles["cell"])]
    days = plan["history_days"]
    stands = "建议成立 (the advice stands)" if plan["stands"] else "未达到 90% 把握，建议不成立"
    story.append(
        Paragraph(
            f"依据 {len(days)} 个{weekday}的记录（{days[0]} 至 {days[-1]}）；模拟 "
            f"{plan['simulated_days']} 天，{plan['confidence']:.0%} 的天达标：{stands}。"
            f"Erlang C 初步方案 {plan['analytic_confidence']:.0%} 的天达标。",
            styles["cell"],
        )
    )
    names = {g["id"]: g["name"] for g in plan["groups"]}
    if plan["extra"]:
        more = "、".join(f"{names[g]}({g}) {n} 个" for g, n in plan["extra"].items())
        story.append(Paragraph(f"注意：需比大厅现有窗口多开：{more}", styles["cell"]))
    for zh, en in (
        weak_said(plan["weak"], result["percentile"]),
        weak_services_said(plan.get("weak_services", []), result["percentile"]),
    ):
        if zh:
            story.append(Paragraph(f"{zh}（{en}）", styles["cell"]))
    if plan["unserved"]:
        story.append(
            Paragraph(f"注意：没有窗口办理 {'、'.join(plan['unserved'])}，未计入", styles["cell"])
        )
    story.append(Spacer(1, 6))
    story.append(KeepTogether(_windows_chart(plan, result, width, font)))
    story.append(KeepTogether(_wait_chart(plan, result, width, font)))
    story.append(Spacer(1, 6))
    story.append(_table(plan, result, width, font))
    story.append(
        Paragraph(
            "每格为该时段应开窗口数；实际 = 当日在该时段叫过号的窗口数与等候（至报告时）。"
            "(windows to open per half hour; actual: the day's windows that called in the slot "
            "and its wait, so far)",
            styles["sub"],
        )
    )
    return story


def _actual(result: dict) -> dict:
    return {a["slot"]: a for a in result.get("actual", [])}


def _windows_chart(plan: dict, result: dict, width: float, font: str):
    """Windows to open per slot, stacked by kind; the day's windows that called as a line."""
    from reportlab.graphics.charts.barcharts import VerticalBarChart
    from reportlab.graphics.charts.legends import Legend
    from reportlab.graphics.shapes import Drawing, Line, String
    from reportlab.lib import colors

    slots = [s["slot"] for s in plan["slots"]]
    height = 195
    d = Drawing(width, height)
    chart = VerticalBarChart()
    chart.x, chart.y, chart.width, chart.height = 30, 20, width - 40, height - 75
    chart.data = [[s["windows"][g["id"]] for s in plan["slots"]] for g in plan["groups"]]
    chart.categoryAxis.style = "stacked"
    chart.categoryAxis.categoryNames = slots
    chart.categoryAxis.labels.fontName = font
    chart.categoryAxis.labels.fontSize = 7
    chart.valueAxis.labels.fontName = font
    chart.valueAxis.labels.fontSize = 7
    chart.valueAxis.valueMin = 0
    top = max(
        [s["total"] for s in plan["slots"]] + [a["windows"] for a in _actual(result).values()] + [1]
    )
    chart.valueAxis.valueMax = top + 1
    for i in range(len(plan["groups"])):
        chart.bars[i].fillColor = colors.HexColor(GROUP_COLOURS[i % len(GROUP_COLOURS)])
        chart.bars[i].strokeColor = None
    d.add(chart)
    # the day's windows that called: a black tick over each slot's bar
    actual = _actual(result)
    step = chart.width / max(1, len(slots))
    for i, slot in enumerate(slots):
        a = actual.get(slot)
        if a is not None:
            y = chart.y + chart.height * a["windows"] / (top + 1)
            x = chart.x + step * (i + 0.5)
            d.add(Line(x - step * 0.35, y, x + step * 0.35, y, strokeWidth=2))
    legend = Legend()
    legend.x, legend.y = 30, height - 6
    legend.fontName, legend.fontSize = font, 7
    legend.alignment = "right"
    legend.columnMaximum = 3
    legend.dxTextSpace = 3
    legend.deltax = (width - 30) / 4  # four columns across the page
    legend.autoXPadding = 0
    legend.colorNamePairs = [
        (colors.HexColor(GROUP_COLOURS[i % len(GROUP_COLOURS)]), f"{g['name']}({g['id']})")
        for i, g in enumerate(plan["groups"])
    ] + [(colors.black, "当日实际叫号窗口")]
    d.add(legend)
    d.add(String(0, chart.y + chart.height + 4, "窗口数", fontName=font, fontSize=7))
    return d


def _wait_chart(plan: dict, result: dict, width: float, font: str):
    """The predicted wait per slot, the day's actual wait, and the target."""
    from reportlab.graphics.charts.legends import Legend
    from reportlab.graphics.charts.linecharts import HorizontalLineChart
    from reportlab.graphics.shapes import Drawing, String
    from reportlab.graphics.widgets.markers import makeMarker
    from reportlab.lib import colors

    slots = [s["slot"] for s in plan["slots"]]
    actual = _actual(result)
    pct = f"P{result['percentile']:g}"
    height = 135
    d = Drawing(width, height)
    chart = HorizontalLineChart()
    chart.x, chart.y, chart.width, chart.height = 30, 25, width - 40, height - 55
    chart.data = [
        [s["wait_pct"] for s in plan["slots"]],
        [actual[s]["wait_pct"] if s in actual else None for s in slots],
        [result["target_min"]] * len(slots),
    ]
    chart.categoryAxis.categoryNames = slots
    chart.categoryAxis.labels.fontName = font
    chart.categoryAxis.labels.fontSize = 7
    chart.valueAxis.labels.fontName = font
    chart.valueAxis.labels.fontSize = 7
    chart.valueAxis.valueMin = 0
    for i, colour in enumerate((WAIT_COLOUR, ACTUAL_COLOUR, "#999999")):
        chart.lines[i].strokeColor = colors.HexColor(colour)
        chart.lines[i].strokeWidth = 1.5
    chart.lines[2].strokeDashArray = (4, 3)
    for i in (0, 1):  # a slot alone between gaps (the day so far) still shows
        chart.lines[i].symbol = makeMarker("Circle", size=3)
        chart.lines[i].symbol.fillColor = chart.lines[i].strokeColor
        chart.lines[i].symbol.strokeColor = chart.lines[i].strokeColor
    d.add(chart)
    legend = Legend()
    legend.x, legend.y = 30, height - 6
    legend.fontName, legend.fontSize = font, 7
    legend.alignment = "right"
    legend.columnMaximum = 1
    legend.colorNamePairs = [
        (colors.HexColor(WAIT_COLOUR), f"预计{pct}等候(分) predicted"),
        (colors.HexColor(ACTUAL_COLOUR), f"当日实际{pct}等候(分) actual"),
        (colors.HexColor("#999999"), "目标 target"),
    ]
    d.add(legend)
    d.add(String(0, chart.y + chart.height + 4, "分钟", fontName=font, fontSize=7))
    return d


def _table(plan: dict, result: dict, width: float, font: str):
    from reportlab.platypus import Table

    pct = f"P{result['percentile']:g}"
    groups = plan["groups"]
    head = (
        ["时段"]
        + [g["id"] if g["id"] != "comprehensive" else "综合" for g in groups]
        + [
            "合计",
            f"预计{pct}\n等候(分)",
            "到达\n(人)",
            "把握",
            "实际\n窗口",
            f"实际{pct}\n等候(分)",
        ]
    )
    actual = _actual(result)
    body = []
    for s in plan["slots"]:
        a = actual.get(s["slot"])
        body.append(
            [s["slot"]]
            + [str(s["windows"][g["id"]]) for g in groups]
            + [
                str(s["total"]),
                f"{s['wait_pct']:.1f}",
                f"{s['arrivals']:.0f}",
                f"{s['confidence']:.0%}",
                _fmt(a["windows"] if a else None),
                _fmt(round(a["wait_pct"], 1) if a and a["wait_pct"] is not None else None),
            ]
        )
    # the slot and the figures wider than the windows of each kind
    narrow = min(26.0, width * 0.55 / (len(groups) + 1))
    wide = (width - 34.0 - narrow * (len(groups) + 1)) / 5
    widths = [34.0] + [narrow] * (len(groups) + 1) + [wide] * 5
    table = Table([head] + body, colWidths=widths, repeatRows=1)
    table.setStyle(grid_style(font, 7, 8.5))
    return table
