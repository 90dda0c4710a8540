"""`onewindow entrance qr`: the day's entrance QR code for the door, as a PNG (a screen, a photo
frame) or an A4 PDF (to print each morning), since its token changes every day (docs/phone.md).

Run on the controller's machine: the token is the hall's key (beside the database) over the
hall's date, read without the controller (the key file is only read; the hall may be running).
`--day` makes tomorrow's the evening before. A hall that never ran there has no key yet, and a
hall file without `[mobile] entrance_url` takes no numbers from phones: both stop with a message.
"""

from __future__ import annotations

import io
import sys
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from .domain.entrance import entrance_token

TITLE = "扫码取号"
TITLE_EN = "Scan to take a number"


class EntranceError(Exception):
    pass


def entrance_link(data_dir: Path, hall, day: date) -> str:
    """The entrance page's address with that day's token."""
    from .startup import SECRET_FILE

    if not hall.mobile.entrance_url:
        raise EntranceError(
            "the hall file sets no [mobile] entrance_url: this hall takes no numbers from phones"
        )
    key = data_dir / SECRET_FILE
    if not key.is_file():
        raise EntranceError(
            f"{key} does not exist: no hall has run on {data_dir} yet (give the hall's "
            f"--data-dir; the code is made with its key)"
        )
    return hall.mobile.entrance_url.replace("{token}", entrance_token(day, key.read_bytes()))


def png(url: str, hall_name: str, day: date) -> bytes:
    """The code with the hall's name, what to do and the day it is good for, as a PNG."""
    import qrcode
    from PIL import Image, ImageDraw, ImageFont

    from .fonts import find_font

    code = qrcode.QRCode(border=4, box_size=16, error_correction=qrcode.constants.ERROR_CORRECT_M)
    code.add_data(url)
    code.make(fit=True)
    qr = code.make_image(fill_color="black", back_color="white").get_image().convert("RGB")
    width = max(qr.width, 900)
    lines = [
        (hall_name, 56),
        (f"{TITLE}  {TITLE_EN}", 48),
        (f"{day.isoformat()} 当日有效  valid on this day only", 34),
    ]
    font_path = find_font("bold") or find_font()
    fonts = [
        ImageFont.truetype(font_path, size) if font_path else ImageFont.load_default()
        for _, size in lines
    ]
    text_h = sum(size + 24 for _, size in lines) + 24
    img = Image.new("RGB", (width, qr.height + text_h), "white")
    draw = ImageDraw.Draw(img)
    y = 24
    for (text, size), font in zip(lines, fonts, strict=True):
        w = draw.textlength(text, font=font)
        draw.text(((width - w) / 2, y), text, fill="black", font=font)
        y += size + 24
    img.paste(qr, ((width - qr.width) // 2, text_h))
    out = io.BytesIO()
    img.save(out, "PNG")
    return out.getvalue()


def pdf(url: str, hall_name: str, day: date) -> bytes:
    """An A4 poster: the hall, what to do, the code (vector: sharp at any size), the day."""
    from reportlab.graphics import renderPDF
    from reportlab.graphics.barcode.qr import QrCodeWidget
    from reportlab.graphics.shapes import Drawing
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm
    from reportlab.pdfgen import canvas

    from .reportpdf import FONT, register_font

    register_font()
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4)
    c.setTitle(f"{hall_name} {TITLE} {day.isoformat()}")
    w, h = A4
    c.setFont(FONT, 30)
    c.drawCentredString(w / 2, h - 40 * mm, hall_name)
    c.setFont(FONT, 44)
    c.drawCentredString(w / 2, h - 62 * mm, TITLE)
    c.setFont(FONT, 20)
    c.drawCentredString(w / 2, h - 74 * mm, TITLE_EN)
    widget = QrCodeWidget(url, barLevel="M")
    x0, y0, x1, y1 = widget.getBounds()
    side = 130 * mm
    d = Drawing(side, side, transform=[side / (x1 - x0), 0, 0, side / (y1 - y0), 0, 0])
    d.add(widget)
    renderPDF.draw(d, c, (w - side) / 2, h - 80 * mm - side)
    c.setFont(FONT, 22)
    c.drawCentredString(w / 2, 52 * mm, f"{day.isoformat()} 当日有效")
    c.setFont(FONT, 14)
    c.drawCentredString(
        w / 2, 44 * mm, "Valid on this day only: a new code is posted every morning"
    )
    c.setFont(FONT, 9)
    c.drawCentredString(w / 2, 30 * mm, url)
    c.showPage()
    c.save()
    return buf.getvalue()


def register(sub, data_arg, config_arg, hall_of) -> None:
    """`hall_of(args)`: the hall a data dir serves (its live settings, else the hall file)."""
    p = sub.add_parser("entrance", help="the entrance QR code (numbers from phones)")
    psub = p.add_subparsers(dest="action", required=True)
    q = psub.add_parser(
        "qr", help="the day's entrance QR code as a PNG or an A4 PDF (to print or display)"
    )
    data_arg(q)
    config_arg(q)
    q.add_argument("--out", required=True, help="today.png or today.pdf")
    q.add_argument("--day", type=date.fromisoformat, help="YYYY-MM-DD (default: today at the hall)")
    q.set_defaults(func=cmd_qr, hall_of=hall_of)


def cmd_qr(args) -> int:
    from .reportpdf import ReportFontMissing

    out = Path(args.out)
    kind = out.suffix.lower()
    if kind not in (".png", ".pdf"):
        print("onewindow entrance qr: --out ends in .png or .pdf", file=sys.stderr)
        return 2
    hall = args.hall_of(args)
    day = args.day or datetime.now(ZoneInfo(hall.timezone)).date()
    try:
        url = entrance_link(Path(args.data_dir), hall, day)
    except EntranceError as exc:
        print(f"onewindow entrance qr: {exc}", file=sys.stderr)
        return 2
    try:
        data = (png if kind == ".png" else pdf)(url, hall.name, day)
    except ReportFontMissing as exc:
        print(f"onewindow entrance qr: {exc}", file=sys.stderr)
        return 3
    out.write_bytes(data)
    print(f"{out}: the entrance code of {day.isoformat()} ({url})")
    return 0
