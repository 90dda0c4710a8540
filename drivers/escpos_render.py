"""A PNG of what an ESC/POS printer would print, rendered from the very bytes sent to it.

Interprets the subset `drivers.escpos` emits (and common printers accept): init, alignment,
size, bold, Chinese mode, feed, cut, native QR, raster images (`GS v 0`, the Tibetan lines). Anything else is skipped, not guessed at, so a
preview that looks right means the bytes are right.
"""

from __future__ import annotations

import io

import qrcode
from PIL import Image, ImageDraw, ImageFont

from onewindow.fonts import find_font

from . import escpos_raster

DOTS = 384  # 58 mm paper at 203 dpi
BASE = 24  # a full-width character is 24 dots on most heads


class _Page:
    def __init__(self):
        self.rows: list[Image.Image] = []
        self.align = 0
        self.w = self.h = 1
        self.bold = False
        self.chinese = False
        self.line = bytearray()
        self.qr_data = b""
        self.qr_module = 3
        path = find_font("regular")
        bold = find_font("bold") or path
        self.fonts = {}
        self.paths = (path, bold)

    def font(self) -> ImageFont.ImageFont:
        key = (self.h, self.bold)
        if key not in self.fonts:
            path = self.paths[1 if self.bold else 0]
            self.fonts[key] = (
                ImageFont.truetype(path, BASE * self.h) if path else ImageFont.load_default()
            )
        return self.fonts[key]

    def place(self, img: Image.Image) -> None:
        row = Image.new("L", (DOTS, img.height), 255)
        x = {0: 0, 1: (DOTS - img.width) // 2, 2: DOTS - img.width}[self.align]
        row.paste(img, (max(0, x), 0))
        self.rows.append(row)

    def flush(self, force: bool = False) -> None:
        if not self.line and not force:
            return
        s = bytes(self.line).decode("gb18030" if self.chinese else "latin-1", errors="replace")
        self.line.clear()
        font = self.font()
        if not s.strip():
            self.rows.append(Image.new("L", (DOTS, BASE * self.h + 6), 255))
            return
        scale = self.w / self.h
        if font.getlength(s) * scale > DOTS:  # the printer wraps at the paper's edge
            cut = len(s)
            while cut > 1 and font.getlength(s[:cut]) * scale > DOTS:
                cut -= 1
            self.line[:] = s[:cut].encode("gb18030" if self.chinese else "latin-1", "replace")
            self.flush()
            self.line[:] = s[cut:].encode("gb18030" if self.chinese else "latin-1", "replace")
            self.flush()
            return
        _, _, right, bottom = font.getbbox(s)
        img = Image.new("L", (right + 2, bottom + 6), 255)
        ImageDraw.Draw(img).text((1, 2), s, font=font, fill=0)
        if self.w != self.h:  # ESC/POS scales width and height independently
            img = img.resize((max(1, img.width * self.w // self.h), img.height))
        if img.width > DOTS:
            img = img.resize((DOTS, img.height))
        self.place(img)

    def print_qr(self) -> None:
        q = qrcode.QRCode(
            border=0, box_size=self.qr_module, error_correction=qrcode.constants.ERROR_CORRECT_M
        )
        q.add_data(self.qr_data.decode("utf-8", "replace"))
        q.make(fit=True)
        self.place(q.make_image(fill_color="black", back_color="white").get_image().convert("L"))

    def image(self) -> Image.Image:
        self.flush()
        total = sum(r.height for r in self.rows) + 40
        page = Image.new("L", (DOTS + 40, total), 255)
        y = 20
        for r in self.rows:
            page.paste(r, (20, y))
            y += r.height
        return page


def render(data: bytes) -> Image.Image:
    p = _Page()
    i, n = 0, len(data)
    while i < n:
        b = data[i]
        if b == 0x0A:
            p.flush(force=True)
            i += 1
        elif b == 0x1B and i + 1 < n:
            cmd = data[i + 1]
            if cmd == 0x40:  # ESC @
                p.flush()
                p.align, p.w, p.h, p.bold, p.chinese = 0, 1, 1, False, False
                i += 2
            elif cmd == 0x61:  # ESC a n
                p.flush()
                p.align = data[i + 2] % 48 if i + 2 < n else 0
                i += 3
            elif cmd == 0x45:  # ESC E n
                p.flush()
                p.bold = bool(data[i + 2] & 1) if i + 2 < n else False
                i += 3
            elif cmd == 0x4A:  # ESC J n: feed n dots
                p.flush()
                if i + 2 < n and data[i + 2]:
                    p.rows.append(Image.new("L", (DOTS, data[i + 2]), 255))
                i += 3
            elif cmd == 0x64:  # ESC d n
                p.flush()
                for _ in range(data[i + 2] if i + 2 < n else 0):
                    p.rows.append(Image.new("L", (DOTS, BASE), 255))
                i += 3
            else:
                i += 3
        elif b == 0x1D and i + 1 < n:
            cmd = data[i + 1]
            if cmd == 0x21:  # GS ! n
                p.flush()
                v = data[i + 2] if i + 2 < n else 0
                p.w, p.h = (v >> 4) + 1, (v & 0x0F) + 1
                i += 3
            elif cmd == 0x76 and i + 2 < n and data[i + 2] == 0x30:  # GS v 0: a raster image
                p.flush()
                length = escpos_raster.raster_length(data, i)
                if length < 0:
                    break  # cut short: the printer would wait for the rest
                p.place(escpos_raster.decode(data, i).convert("L"))
                i += length
            elif cmd == 0x56:  # GS V m [n]: cut, the job ends
                p.flush()
                break
            elif cmd == 0x28 and i + 4 < n and data[i + 2] == 0x6B:  # GS ( k pL pH cn fn ...
                length = data[i + 3] | (data[i + 4] << 8)
                body = data[i + 5 : i + 5 + length]
                if len(body) >= 2 and body[0] == 0x31:
                    fn = body[1]
                    if fn == 0x43 and len(body) > 2:
                        p.qr_module = body[2]
                    elif fn == 0x50:
                        p.qr_data = bytes(body[3:])
                    elif fn == 0x51:
                        p.flush()
                        p.print_qr()
                i += 5 + length
            else:
                i += 3
        elif b == 0x1C and i + 1 < n:
            if data[i + 1] == 0x26:
                p.chinese = True
            elif data[i + 1] == 0x2E:
                p.chinese = False
            i += 2
        elif b == 0x10 and i + 2 < n and data[i + 1] == 0x04:  # DLE EOT n: no ink
            i += 3
        else:
            p.line.append(b)
            i += 1
    return p.image()


def render_png(data: bytes) -> bytes:
    buf = io.BytesIO()
    render(data).save(buf, "PNG")
    return buf.getvalue()
