"""LED window strips and hall LED screens: a pluggable interface and one concrete serial protocol.

There is no public standard for LED text strips. `GbTextStrip` speaks the common shape of the
vendor protocols found in halls (an addressed frame, GB2312 text, an additive checksum, ACK/NAK):

    STX 02 | ADDR | CMD | EFFECT | LEN_H LEN_L | GB2312 text | SUM | ETX 03
    SUM = (ADDR + CMD + EFFECT + LEN_H + LEN_L + sum(text)) mod 256
    CMD: 31 show text, 32 clear, 33 brightness (text = one byte 1..16)
    EFFECT: 00 static, 01 scroll left, 02 flash
    reply: ACK 06 ADDR, or NAK 15 ADDR (bad checksum / length)

It is marked unverified against any one vendor: a hall with another model adds a class with the
same three methods and names it in the device config (`--protocol`).
"""

from __future__ import annotations

import logging
from typing import Protocol

from .serialport import SerialLink, SerialLinkError

log = logging.getLogger(__name__)

STX, ETX, ACK, NAK = 0x02, 0x03, 0x06, 0x15
CMD_TEXT, CMD_CLEAR, CMD_BRIGHTNESS = 0x31, 0x32, 0x33
STATIC, SCROLL, FLASH = 0, 1, 2
MAX_TEXT = 512


class LedError(Exception):
    pass


class LedDisplay(Protocol):
    def show(self, text: str, effect: int = STATIC) -> None: ...
    def clear(self) -> None: ...
    def close(self) -> None: ...


def encode_text(text: str) -> bytes:
    """GB2312, which every strip's font ROM holds; anything outside it shows as a full-width ？."""
    out = bytearray()
    for ch in text:
        try:
            out += ch.encode("gb2312")
        except UnicodeEncodeError:
            out += "？".encode("gb2312")
    return bytes(out[:MAX_TEXT])


def frame(addr: int, cmd: int, effect: int = STATIC, data: bytes = b"") -> bytes:
    body = bytes((addr, cmd, effect, len(data) >> 8, len(data) & 0xFF)) + data
    return bytes((STX,)) + body + bytes((sum(body) & 0xFF, ETX))


def parse_frame(raw: bytes) -> tuple[int, int, int, bytes]:
    """(addr, cmd, effect, data) of one complete frame; LedError when it is damaged."""
    if len(raw) < 8 or raw[0] != STX or raw[-1] != ETX:
        raise LedError("not a frame")
    body, total = raw[1:-2], raw[-2]
    n = (body[3] << 8) | body[4]
    if len(body) != 5 + n:
        raise LedError("length mismatch")
    if sum(body) & 0xFF != total:
        raise LedError("checksum mismatch")
    return body[0], body[1], body[2], bytes(body[5:])


class GbTextStrip:
    """One strip (or a hall screen) at `addr` on a serial line; several may share the line."""

    def __init__(self, port: str, addr: int = 1, baudrate: int = 9600, retries: int = 2):
        self.link = SerialLink(port, baudrate, timeout=0.3, name=f"LED strip {addr}")
        self.addr = addr
        self.retries = retries

    def _send(self, raw: bytes) -> None:
        last = "no answer"
        for _ in range(1 + self.retries):
            try:
                self.link.discard_input()
                self.link.write(raw)
                reply = self.link.read(2, timeout=0.3)
            except SerialLinkError as exc:
                raise LedError(str(exc)) from None
            if reply == bytes((ACK, self.addr)):
                return
            last = "refused the frame (NAK)" if reply[:1] == bytes((NAK,)) else "no answer"
        raise LedError(f"LED strip {self.addr} on {self.link.port}: {last}")

    def show(self, text: str, effect: int = STATIC) -> None:
        self._send(frame(self.addr, CMD_TEXT, effect, encode_text(text)))

    def clear(self) -> None:
        self._send(frame(self.addr, CMD_CLEAR))

    def brightness(self, level: int) -> None:
        self._send(frame(self.addr, CMD_BRIGHTNESS, STATIC, bytes((max(1, min(16, level)),))))

    def close(self) -> None:
        self.link.close()


PROTOCOLS = {"gbtext": GbTextStrip}
