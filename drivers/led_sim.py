"""Simulated LED strips on one line: they answer ACK/NAK and show what a strip would show."""

from __future__ import annotations

import threading

from PIL import Image, ImageDraw, ImageFont

from onewindow.fonts import find_font

from .led import ACK, CMD_BRIGHTNESS, CMD_CLEAR, CMD_TEXT, ETX, NAK, STX, LedError, parse_frame


class StripState:
    def __init__(self):
        self.text = ""
        self.effect = 0
        self.brightness = 16
        self.frames = 0


class LedLineSimulator:
    def __init__(self, addresses=(1,), corrupt_next: int = 0):
        self.strips = {a: StripState() for a in addresses}
        self.naks = 0
        self._buf = bytearray()
        self.changed = threading.Condition()

    def on_bytes(self, data: bytes) -> bytes:
        self._buf += data
        out = bytearray()
        while True:
            start = self._buf.find(bytes((STX,)))
            if start < 0:
                self._buf.clear()
                break
            del self._buf[:start]
            if len(self._buf) < 8:
                break
            n = (self._buf[4] << 8) | self._buf[5]
            total = 1 + 5 + n + 2
            if len(self._buf) < total:
                break
            raw = bytes(self._buf[:total])
            del self._buf[:total]
            try:
                if raw[-1] != ETX:
                    raise LedError("no ETX")
                addr, cmd, effect, text = parse_frame(raw)
            except LedError:
                self.naks += 1
                out += bytes((NAK, raw[1]))
                continue
            strip = self.strips.get(addr)
            if strip is None:
                continue
            with self.changed:
                if cmd == CMD_TEXT:
                    strip.text, strip.effect = text.decode("gb2312", "replace"), effect
                elif cmd == CMD_CLEAR:
                    strip.text = ""
                elif cmd == CMD_BRIGHTNESS and text:
                    strip.brightness = text[0]
                strip.frames += 1
                self.changed.notify_all()
            out += bytes((ACK, addr))
        return bytes(out)

    def wait(self, pred, timeout: float = 3.0) -> bool:
        with self.changed:
            return self.changed.wait_for(pred, timeout)


def render_strip(
    text: str, width_dots: int = 192, height_dots: int = 32, pitch: int = 4
) -> Image.Image:
    """A picture of the strip: red dots where the 16- or 32-dot font lights them."""
    font_path = find_font("bold") or find_font("regular")
    font = ImageFont.truetype(font_path, height_dots - 2) if font_path else ImageFont.load_default()
    mask = Image.new("1", (width_dots, height_dots), 0)
    ImageDraw.Draw(mask).text((0, -4), text, font=font, fill=1)
    img = Image.new("RGB", (width_dots * pitch, height_dots * pitch), (20, 0, 0))
    d = ImageDraw.Draw(img)
    px = mask.load()
    for y in range(height_dots):
        for x in range(width_dots):
            if px[x, y]:
                d.ellipse(
                    (x * pitch, y * pitch, x * pitch + pitch - 2, y * pitch + pitch - 2),
                    fill=(255, 40, 20),
                )
    return img
