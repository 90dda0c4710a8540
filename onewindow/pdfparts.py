"""What the printed reports' tables share (reportpdf.py, planpdf.py): one look for every table."""

from __future__ import annotations


def grid_style(font: str, size: float, leading: float | None = None):
    """A table with a tinted head row, figures right-aligned, a light grid and striped rows."""
    from reportlab.lib import colors
    from reportlab.platypus import TableStyle

    return TableStyle(
        [
            ("FONTNAME", (0, 0), (-1, -1), font),
            ("FONTSIZE", (0, 0), (-1, -1), size),
            *([("LEADING", (0, 0), (-1, -1), leading)] if leading else []),
            ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8f0fe")),
            ("ALIGN", (1, 0), (-1, -1), "RIGHT"),
            ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
            ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#bbbbbb")),
            ("ROWBACKGROUNDS", (0, 1), (-1, -1), [colors.white, colors.HexColor("#f7f7f7")]),
        ]
    )
