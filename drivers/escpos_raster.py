"""Lines an ESC/POS printer has no font for (Tibetan), drawn here and sent as a raster image.

A receipt printer's character generator holds ASCII and GB18030 Chinese, never Tibetan, so a
Tibetan line is drawn with Pillow, shaped by HarfBuzz (Pillow's libraqm layout: without it the
stacked letters come apart), in the Tibetan font of assets/fonts.toml, and sent as `GS v 0`
(`1D 76 30 m xL xH yL yH data`, one bit a dot, 1 = black). Digits, Latin and Chinese in such a
line are drawn in the CJK font. The image is cropped to its ink, because every byte crosses a
9600-baud line: a 58 mm-wide Tibetan line is ~1.7 KB.

    img = line_image("ཐོ་འགོད་ལས་དོན།")   -> a 1-bit image, ink only
    raster(img)                         -> the GS v 0 bytes
    decode(data)                        -> the image back (the preview and the tests)
"""

from __future__ import annotations

import functools

from PIL import Image, ImageDraw, ImageFont, features

from onewindow.fonts import find_font
from onewindow.scriptruns import script_runs

DOTS = 384  # 58 mm paper at 203 dpi (drivers.escpos.LINE_CHARS full-width characters of 24)
PX = 22  # Tibetan's font size in dots: its letters then stand as tall as the 24-dot Chinese
RASTER = b"\x1dv0"
GAP = 0  # no white rows in the image: spacing is fed (ESC J), 3 bytes instead of 4 rows


class RasterError(RuntimeError):
    """No shaping engine or no Tibetan font: printing Tibetan unshaped would print nonsense."""


@functools.cache
def _font(script: str, px: int, bold: bool) -> ImageFont.FreeTypeFont:
    weight = "bold" if bold else "regular"
    family = script or "cjk"
    path = find_font(weight, family) or find_font("regular", family)
    if not path:
        raise RasterError(
            f"no {script or 'CJK'} font installed (assets/fonts.toml): "
            + ("install fonts-noto-core" if script else "install fonts-noto-cjk")
        )
    if script and not features.check("raqm"):
        raise RasterError(
            "Pillow has no libraqm layout (HarfBuzz shaping): install libraqm0 and libfribidi0"
        )
    engine = ImageFont.Layout.RAQM if script else ImageFont.Layout.BASIC
    return ImageFont.truetype(path, px, layout_engine=engine)


def wrap_points(text: str) -> list[int]:
    """Where a Tibetan line may break: after a tsheg (་), a shad (།) or a space."""
    return [i + 1 for i, ch in enumerate(text) if ch in "\u0f0b\u0f0d "]


def width(text: str, px: int = PX, bold: bool = False) -> int:
    """`text`'s width in dots on one line, laid out but not drawn (no image: cheap)."""
    runs = script_runs(" ".join(text.split()))
    return int(sum(_font(script, px, bold).getlength(run) for script, run in runs))


def _draw(text: str, px: int, bold: bool) -> Image.Image:
    """One line, each script run in its own font on a common baseline, cropped to its ink."""
    runs = [(_font(script, px, bold), run) for script, run in script_runs(text)]
    ascent = max(f.getmetrics()[0] for f, _ in runs)
    descent = max(f.getmetrics()[1] for f, _ in runs)
    width = int(sum(f.getlength(run) for f, run in runs)) + px
    img = Image.new("1", (width, ascent + descent + px), 1)
    draw = ImageDraw.Draw(img)
    x = 0.0
    for font, run in runs:
        draw.text((x, ascent + px // 2), run, font=font, fill=0, anchor="ls")
        x += font.getlength(run)
    box = Image.eval(img.convert("L"), lambda v: 255 - v).getbbox()
    if box is None:
        return Image.new("1", (1, px), 1)
    left, top, right, bottom = box
    out = Image.new("1", (right - left, bottom - top + 2 * GAP), 1)
    out.paste(img.crop((left, top, right, bottom)), (0, GAP))
    return out


def line_images(
    text: str, px: int = PX, bold: bool = False, width: int = DOTS
) -> list[Image.Image]:
    """`text` as one image per printed line, broken between syllables where it is too wide."""
    text = " ".join(text.split())
    img = _draw(text, px, bold)
    if img.width <= width:
        return [img]
    points = [p for p in wrap_points(text) if p < len(text)]
    fit = [p for p in points if _draw(text[:p].rstrip(), px, bold).width <= width]
    cut = fit[-1] if fit else (points[0] if points else len(text))
    if cut >= len(text):  # one syllable wider than the paper: the printer would clip it
        return [img.crop((0, 0, width, img.height))]
    return [_draw(text[:cut].rstrip(), px, bold)] + line_images(text[cut:], px, bold, width)


def line_image(text: str, px: int = PX, bold: bool = False) -> Image.Image:
    """A line known to fit (one image); a longer text: line_images."""
    return line_images(text, px, bold)[0]


def _packed(img: Image.Image) -> tuple[int, bytes]:
    """Rows of whole bytes, MSB the leftmost dot, 1 = black (PIL's "1" mode stores 1 = white)."""
    xbytes = (img.width + 7) // 8
    padded = Image.new("1", (xbytes * 8, img.height), 1)
    padded.paste(img, (0, 0))
    data = bytes(b ^ 0xFF for b in padded.tobytes())
    return xbytes, data


def raster(img: Image.Image) -> bytes:
    """GS v 0, normal density. The printer answers DLE EOT n (10 04 01..04) even inside image
    data (Epson's manual warns of it): such a byte pair in the dots loses its one stray dot so
    the image never asks the printer for its status."""
    xbytes, data = _packed(img)
    body = bytearray(data)
    i = body.find(b"\x10\x04")
    while 0 <= i < len(body) - 2:
        if 1 <= body[i + 2] <= 4:
            body[i + 1] = 0x00  # 0x04 is one dot: the sixth of that byte
        i = body.find(b"\x10\x04", i + 1)
    height = img.height
    return (
        RASTER
        + b"\x00"
        + bytes((xbytes & 0xFF, xbytes >> 8, height & 0xFF, height >> 8))
        + bytes(body)
    )


def raster_length(data: bytes, at: int = 0) -> int:
    """Bytes of the GS v 0 command starting at `at` (header and dots), or -1 while incomplete."""
    if len(data) < at + 8:
        return -1
    xbytes = data[at + 4] | (data[at + 5] << 8)
    height = data[at + 6] | (data[at + 7] << 8)
    total = 8 + xbytes * height
    return total if len(data) >= at + total else -1


def decode(data: bytes, at: int = 0) -> Image.Image:
    """The image of the GS v 0 command at `at`, as the printer would print it."""
    if data[at : at + 3] != RASTER:
        raise ValueError("not a GS v 0 raster command")
    xbytes = data[at + 4] | (data[at + 5] << 8)
    height = data[at + 6] | (data[at + 7] << 8)
    dots = bytes(b ^ 0xFF for b in data[at + 8 : at + 8 + xbytes * height])
    if len(dots) != xbytes * height:
        raise ValueError("GS v 0 raster cut short")
    return Image.frombytes("1", (xbytes * 8, height), dots)


def lines_bytes(text: str, px: int = PX, bold: bool = False) -> bytes:
    """`text` as raster lines, ready to send."""
    return b"".join(raster(img) for img in line_images(text, px, bold))
