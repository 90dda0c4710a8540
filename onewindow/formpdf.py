"""The 一表申请 form on A4 as a PDF made with reportlab, laid out like a government form: the
title, the hall and the ticket number, a QR code to the guide of what is applied for, the items applied for,
boxed fields (the applicant's basic data, then the items' own), blank boxes for what is written
by hand, and the signature line. Selectable text in the embedded Chinese TrueType font of the
reports (reportpdf.register_font).

    form_pdf(form_get_reply["form"])  -> b"%PDF-1.4 ..."
"""

from __future__ import annotations

import io
from xml.sax.saxutils import escape

from .reportpdf import FONT, register_font

SECTIONS = (
    (("card", "contact"), "申请人基本信息"),
    (("item",), "办理事项信息"),
)
NOTE = "本表由自助服务终端根据居民身份证信息预填，请核对；空白处请手写填写。"
PROMISE = "本人承诺以上所填信息真实、准确，所提交材料真实有效，如有不实，愿承担相应法律责任。"
QR_SIZE_MM = 26


def _qr(url: str, size: float):
    from reportlab.graphics.barcode.qr import QrCodeWidget
    from reportlab.graphics.shapes import Drawing

    widget = QrCodeWidget(url, barLevel="M")
    x0, y0, x1, y1 = widget.getBounds()
    d = Drawing(size, size, transform=[size / (x1 - x0), 0, 0, size / (y1 - y0), 0, 0])
    d.add(widget)
    return d


def form_pdf(form: dict) -> bytes:
    """One A4 page (more when the items ask for many fields) for the citizen to check and sign."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    register_font()
    base = ParagraphStyle("base", fontName=FONT, fontSize=10.5, leading=15)
    title = ParagraphStyle("title", parent=base, fontSize=20, leading=28, alignment=1)
    small = ParagraphStyle("small", parent=base, fontSize=8.5, leading=12, textColor="#444444")
    label = ParagraphStyle("label", parent=base, fontSize=10, leading=13)
    margin = 16 * mm
    width = A4[0] - 2 * margin
    buf = io.BytesIO()
    doc = SimpleDocTemplate(
        buf,
        pagesize=A4,
        leftMargin=margin,
        rightMargin=margin,
        topMargin=14 * mm,
        bottomMargin=16 * mm,
        title=form.get("title", ""),
        author=form.get("hall", ""),
        subject=f"{form.get('number', '')}",
    )
    story: list = []
    # Paragraph reads its text as markup: what the hall's configuration and the citizen wrote
    # is escaped, so "R&D" and "a<b" print as written and a device cannot set fonts
    hall, number = escape(str(form.get("hall", ""))), escape(str(form.get("number", "")))
    head_left = [
        Paragraph(escape(str(form.get("title", ""))), title),
        Spacer(1, 3 * mm),
        Paragraph(f"{hall}　　　　排队号：<b>{number}</b>", base),
    ]
    url = form.get("guide_url") or ""
    qr_cell = [_qr(url, QR_SIZE_MM * mm), Paragraph("扫码查看办事指南", small)] if url else ""
    head = Table(
        [[head_left, qr_cell]],
        colWidths=[width - (QR_SIZE_MM + 8) * mm, (QR_SIZE_MM + 8) * mm],
    )
    head.setStyle(
        TableStyle([("VALIGN", (0, 0), (-1, -1), "MIDDLE"), ("ALIGN", (1, 0), (1, 0), "CENTER")])
    )
    story += [head, Spacer(1, 3 * mm)]
    items = "　".join(f"√ {escape(str(i['name']))}" for i in form.get("items") or [])
    if items:
        story += [Paragraph(f"申请事项：{items}", base), Spacer(1, 2 * mm)]
    rows: list[list] = []
    style = [
        ("FONT", (0, 0), (-1, -1), FONT, 10.5),
        ("GRID", (0, 0), (-1, -1), 0.8, colors.black),
        ("BOX", (0, 0), (-1, -1), 1.6, colors.black),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("TOPPADDING", (0, 0), (-1, -1), 5),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 5),
    ]
    fields = form.get("fields") or []
    for sources, heading in SECTIONS:
        chosen = [f for f in fields if f.get("source") in sources]
        if not chosen:
            continue
        style += [
            ("SPAN", (0, len(rows)), (-1, len(rows))),
            ("BACKGROUND", (0, len(rows)), (-1, len(rows)), colors.HexColor("#e8e8e8")),
        ]
        rows.append([Paragraph(f"<b>{heading}</b>", label), ""])
        for f in chosen:
            value = escape(str(f.get("value") or ""))
            if not value and f.get("type") == "choice":
                value = "　".join(f"□ {escape(str(o))}" for o in f.get("options") or [])
            rows.append([Paragraph(escape(str(f.get("label", ""))), label), Paragraph(value, base)])
            if not f.get("value"):  # room for the citizen's hand
                style.append(("BOTTOMPADDING", (0, len(rows) - 1), (-1, len(rows) - 1), 14))
    table = Table(rows, colWidths=[42 * mm, width - 42 * mm], repeatRows=0)
    style.append(("BACKGROUND", (0, 1), (0, -1), colors.HexColor("#f6f6f6")))
    table.setStyle(TableStyle(style))
    story += [table, Spacer(1, 4 * mm), Paragraph(PROMISE, base), Spacer(1, 12 * mm)]
    sign = Table(
        [["申请人（签字）：", "", "日期：　　　年　　月　　日"]],
        colWidths=[32 * mm, 70 * mm, width - 102 * mm],
    )
    sign.setStyle(
        TableStyle(
            [
                ("FONT", (0, 0), (-1, -1), FONT, 11),
                ("LINEBELOW", (1, 0), (1, 0), 0.8, colors.black),
                ("ALIGN", (2, 0), (2, 0), "RIGHT"),
            ]
        )
    )
    story += [sign, Spacer(1, 8 * mm), Paragraph(NOTE, small)]

    def footer(canvas, _doc):
        canvas.saveState()
        canvas.setFont(FONT, 8)
        canvas.setFillColorRGB(0.4, 0.4, 0.4)
        canvas.drawString(margin, 9 * mm, f"{form.get('hall', '')}  {form.get('number', '')}")
        canvas.drawRightString(A4[0] - margin, 9 * mm, f"第 {canvas.getPageNumber()} 页")
        canvas.restoreState()

    doc.build(story, onFirstPage=footer, onLaterPages=footer)
    return buf.getvalue()
