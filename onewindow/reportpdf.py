"""The printable 晒成绩单 (daily or monthly figures per window, service, department and staff
member) as a PDF made with reportlab: selectable text in an embedded Chinese TrueType font,
tables and bar charts, the hall's name and the period on every page, page numbers.

    report_pdf(collect(request, "2026-11"), "示范县政务服务中心")  -> b"%PDF-1.4 ..."
"""

from __future__ import annotations

import functools
import io

from .fonts import find_font
from .pdfparts import grid_style

FONT = "OneWindowCJK"
SECTIONS = (
    ("window", "各窗口", "By window"),
    ("service", "各事项", "By service"),
    ("department", "各部门", "By department"),
    ("staff", "各工作人员", "By staff member"),
)
COLUMNS = (
    ("name", "名称"),
    ("issued", "取号"),
    ("served", "办结"),
    ("no_show", "过号"),
    ("avg_wait_min", "平均等候(分)"),
    ("avg_handle_min", "平均办理(分)"),
    ("satisfaction", "满意率(%)"),
)
CHART_BAR_H = 14  # points per bar of a chart
LEVEL_NAMES = {5: "非常满意", 4: "满意", 3: "基本满意", 2: "不满意", 1: "非常不满意"}


class ReportFontMissing(RuntimeError):
    """No TrueType Chinese font: the PDF would show boxes, so none is made."""


@functools.cache
def register_font() -> str:
    """The report's font, embedded (subset) in every PDF: the `pdf` entry of assets/fonts.toml,
    face 0 of WenQuanYi Micro Hei (Debian's fonts-wqy-microhei), a Simplified Chinese
    TrueType face. Noto CJK cannot serve: its outlines are CFF, which reportlab does not embed."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    path = find_font("regular", "pdf")
    if path is None:
        raise ReportFontMissing(
            "no TrueType Chinese font for the PDF report: install Debian's "
            "fonts-wqy-microhei (scripts/setup.sh does)"
        )
    pdfmetrics.registerFont(TTFont(FONT, path, subfontIndex=0))
    return path


def _fmt(value) -> str:
    return "—" if value is None else f"{value:g}" if isinstance(value, float) else str(value)


def _styles():
    from reportlab.lib.styles import ParagraphStyle

    base = ParagraphStyle("base", fontName=FONT, fontSize=9, leading=12)
    return {
        "title": ParagraphStyle("title", parent=base, fontSize=18, leading=24, spaceAfter=4),
        "sub": ParagraphStyle("sub", parent=base, fontSize=10, textColor="#555555", spaceAfter=10),
        "h2": ParagraphStyle(
            "h2", parent=base, fontSize=13, leading=18, spaceBefore=12, spaceAfter=6
        ),
        "cell": base,
    }


def _table(rows: list[dict], styles, width: float):
    from reportlab.platypus import Paragraph, Table

    head = [label for _, label in COLUMNS]
    body = [
        [Paragraph(str(r.get("name") or r.get("key")), styles["cell"])]
        + [_fmt(r.get(k)) for k, _ in COLUMNS[1:]]
        for r in rows
    ]
    first = width * 0.34
    table = Table(
        [head] + body,
        colWidths=[first] + [(width - first) / (len(COLUMNS) - 1)] * (len(COLUMNS) - 1),
        repeatRows=1,
    )
    table.setStyle(grid_style(FONT, 9))
    return table


def _chart(rows: list[dict], title: str, width: float):
    """Served per row, as horizontal bars: names sit on their own line each, never overlap."""
    from reportlab.graphics.charts.barcharts import HorizontalBarChart
    from reportlab.graphics.shapes import Drawing, String
    from reportlab.lib import colors

    rows = rows[:30]
    height = len(rows) * CHART_BAR_H + 40
    d = Drawing(width, height)
    chart = HorizontalBarChart()
    chart.x, chart.y = 150, 10
    chart.width, chart.height = width - 190, len(rows) * CHART_BAR_H
    # reportlab draws the first category at the bottom: reversed, the chart reads like the table
    chart.data = [[r.get("served") or 0 for r in reversed(rows)]]
    chart.categoryAxis.categoryNames = [
        str(r.get("name") or r.get("key"))[:14] for r in reversed(rows)
    ]
    chart.categoryAxis.labels.fontName = FONT
    chart.categoryAxis.labels.fontSize = 8
    chart.categoryAxis.labels.boxAnchor = "e"
    chart.valueAxis.labels.fontName = FONT
    chart.valueAxis.labels.fontSize = 7
    chart.valueAxis.valueMin = 0
    chart.bars[0].fillColor = colors.HexColor("#1565c0")
    chart.barLabelFormat = "%d"
    chart.barLabels.fontName = FONT
    chart.barLabels.fontSize = 7
    chart.barLabels.boxAnchor = "w"
    chart.barLabels.dx = 3
    d.add(chart)
    d.add(
        String(
            0, height - 14, title, fontName=FONT, fontSize=9, fillColor=colors.HexColor("#555555")
        )
    )
    return d


def report_pdf(data: dict, hall_name: str = "") -> bytes:
    """The whole report: headline figures, then each grouping's table and chart, the ratings."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm
    from reportlab.platypus import KeepTogether, Paragraph, SimpleDocTemplate, Spacer, Table

    register_font()
    period = data["period"]
    kind = "日报" if len(period) == 10 else "月报"
    styles = _styles()
    buf = io.BytesIO()
    margin = 16 * mm
    doc = SimpleDocTemplate(
        buf,
        pagesize=A4,
        leftMargin=margin,
        rightMargin=margin,
        topMargin=margin,
        bottomMargin=margin + 4 * mm,
        title=f"{hall_name} 晒成绩单 {period}",
        author="OneWindow 一窗",
    )
    width = A4[0] - 2 * margin

    def footer(canvas, _doc):
        canvas.saveState()
        canvas.setFont(FONT, 8)
        canvas.setFillColorRGB(0.45, 0.45, 0.45)
        canvas.drawString(margin, margin - 2 * mm, f"{hall_name}  晒成绩单（{kind}）{period}")
        canvas.drawRightString(A4[0] - margin, margin - 2 * mm, f"第 {canvas.getPageNumber()} 页")
        canvas.restoreState()

    hall = (data["kpis"]["hall"].get("rows") or [{}])[0]
    story = [
        Paragraph(f"{hall_name} 晒成绩单（{kind}）", styles["title"]),
        Paragraph(f"统计期间 {period}　Service report, {period}", styles["sub"]),
    ]
    figures = [
        ("取号", hall.get("issued", 0)),
        ("办结", hall.get("served", 0)),
        ("过号", hall.get("no_show", 0)),
        ("平均等候(分)", hall.get("avg_wait_min")),
        ("平均办理(分)", hall.get("avg_handle_min")),
        ("满意率(%)", hall.get("satisfaction")),
    ]
    headline = Table(
        [[label for label, _ in figures], [_fmt(v) for _, v in figures]],
        colWidths=[width / len(figures)] * len(figures),
    )
    headline.setStyle(
        [
            ("FONTNAME", (0, 0), (-1, -1), FONT),
            ("FONTSIZE", (0, 0), (-1, 0), 9),
            ("FONTSIZE", (0, 1), (-1, 1), 16),
            ("LEADING", (0, 1), (-1, 1), 20),
            ("ALIGN", (0, 0), (-1, -1), "CENTER"),
            ("BACKGROUND", (0, 0), (-1, -1), "#e8f0fe"),
            ("TEXTCOLOR", (0, 1), (-1, 1), "#1565c0"),
        ]
    )
    story += [
        headline,
        Paragraph(
            "好差评 Ratings："
            + "　".join(
                f"{LEVEL_NAMES[n]} {(hall.get('ratings') or {}).get(str(n), 0)}"
                for n in range(5, 0, -1)
            ),
            styles["sub"],
        ),
    ]
    if data.get("plan"):  # a day's report: the day's 排班建议 on a page of its own
        from reportlab.platypus import PageBreak

        from .planpdf import plan_story

        story += [PageBreak(), *plan_story(data["plan"], styles, width), PageBreak()]
    for group, zh, en in SECTIONS:
        rows = [r for r in (data["kpis"].get(group) or {}).get("rows", [])]
        story.append(Paragraph(f"{zh} {en}", styles["h2"]))
        if not rows:
            story.append(Paragraph("本期无数据 No data", styles["cell"]))
            continue
        story.append(_table(rows, styles, width))
        story.append(Spacer(1, 6))
        story.append(KeepTogether(_chart(rows, f"{zh}办结量 Served", width)))
    doc.build(story, onFirstPage=footer, onLaterPages=footer)
    return buf.getvalue()
