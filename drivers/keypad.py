"""Window caller keypads and rating pads on one RS-485 bus (`FF 68` frames, 9600 8N1).

Frame: FF 68 | L | L | 68 | ADDR | CMD | DATA... | CS | 16, where L counts ADDR..end of DATA and
CS = (ADDR + CMD + sum(DATA)) mod 256. The host acknowledges a keypad's frame by echoing it.
Several pads share the bus, each at its own address; the bridge maps an address to a window.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import Callable, Optional

from onewindow import lograte

from .serialport import SerialLink, SerialLinkError

log = logging.getLogger(__name__)

HEAD = b"\xff\x68"
END = 0x16
CMD_KEY, CMD_RATING_START, CMD_SHOW, CMD_BEEP, CMD_RATING = 0x01, 0x01, 0x02, 0x03, 0x11
BLANK = 0x0A

# last DATA byte of a key frame -> caller action (the same names as the window.* ops)
KEYS = {0x0C: "call_next", 0x0D: "recall", 0x0B: "invite_rating", 0x12: "pause", 0x13: "transfer"}
# 0F (confirm) after a digit: 6 give up (过号), 0 hang up (finish), 3 call back (recall)
CONFIRMED = {6: "skip", 0: "finish", 3: "recall"}

# rating pad keys 0..3 -> the five-level scale (5 非常满意 ... 1 非常不满意); models differ,
# so the mapping is configuration, and this default is the common four-key pad
DEFAULT_RATING_MAP = {0: 5, 1: 4, 2: 2, 3: 1}


class FrameError(ValueError):
    pass


def checksum(addr: int, cmd: int, data: bytes) -> int:
    return (addr + cmd + sum(data)) & 0xFF


def build(addr: int, cmd: int, data: bytes = b"") -> bytes:
    n = 2 + len(data)
    return HEAD + bytes((n, n, 0x68, addr, cmd)) + data + bytes((checksum(addr, cmd, data), END))


@dataclass(frozen=True)
class Frame:
    addr: int
    cmd: int
    data: bytes
    raw: bytes


def parse_stream(buf: bytearray) -> list[Frame]:
    """Take every complete frame out of `buf`, leaving an unfinished one there for the next read.

    A broken frame (cut off, garbled, stray header bytes) costs only itself: it gives up its
    two header bytes and the search goes on from there, never skipping the length it claimed,
    which may reach into the next real frame. A header inside a frame's claimed length means
    that frame was cut off, so the parser moves on to that header at once instead of waiting
    for the length to fill up. No real frame is given up that way: FF 68 never occurs past
    the start of a frame of this protocol (no command is 68, keys and digits are below 20,
    a checksum is followed by 16, and L = FF would claim more than any pad sends).

    A noisy line breaks frames by the thousand: the warnings are rate-limited (one line per kind
    a minute, then its count; onewindow/lograte.py), and KeypadBus.run tells the counts.
    """
    frames = []
    while True:
        start = buf.find(HEAD)
        if start < 0:
            del buf[: max(0, len(buf) - 1)]  # keep a trailing FF: it may start a frame
            return frames
        if start:
            lograte.warn(log, "noise", "keypad bus: %d bytes of noise skipped", start)
            del buf[:start]
        if len(buf) < 5:
            return frames
        n, n2, mark = buf[2], buf[3], buf[4]
        if n != n2 or mark != 0x68 or n < 2:
            lograte.warn(
                log,
                "header",
                "keypad bus: bad frame header %s; resynchronising",
                bytes(buf[:5]).hex(" "),
            )
            del buf[:2]
            continue
        total = 5 + n + 2
        inner = buf.find(HEAD, 2, total)
        if inner >= 0:
            lograte.warn(
                log, "cut", "keypad bus: frame cut off after %d bytes; resynchronising", inner
            )
            del buf[:inner]
            continue
        if len(buf) < total:
            return frames
        raw = bytes(buf[:total])
        addr, cmd, data = raw[5], raw[6], raw[7 : 5 + n]
        if raw[-1] != END or raw[-2] != checksum(addr, cmd, data):
            lograte.warn(
                log, ("corrupt", addr), "keypad bus: corrupt frame from address %d dropped", addr
            )
            del buf[:2]
            continue
        del buf[:total]
        frames.append(Frame(addr, cmd, data, raw))


def show_frame(addr: int, waiting: Optional[int], ticket: str | None) -> bytes:
    """Six digits: waiting count on the left three, the ticket's digits on the right three."""

    def digits(value: str) -> list[int]:
        d = [int(c) for c in value if c.isdigit()][-3:]
        return [BLANK] * (3 - len(d)) + d

    left = digits(str(min(waiting, 999))) if waiting is not None else [BLANK] * 3
    right = digits(ticket or "")
    return build(addr, CMD_SHOW, bytes(left + right))


def beep_frame(addr: int) -> bytes:
    return build(addr, CMD_BEEP)


def rating_start_frame(addr: int) -> bytes:
    return build(addr, CMD_RATING_START, b"\x0b")


@dataclass(frozen=True)
class KeyEvent:
    addr: int
    action: str  # call_next, recall, skip, finish, pause, transfer, invite_rating, rating
    level: Optional[int] = None  # 1..5 for a rating
    position: Optional[int] = None  # a rating pad's key, 0 = first (it also picks a reason)


class KeypadBus:
    """Reads every pad on one line, acknowledges keypad frames, sends displays and beeps."""

    def __init__(
        self, port: str, baudrate: int = 9600, rating_map: Optional[dict[int, int]] = None
    ):
        self.link = SerialLink(port, baudrate, timeout=0.1, name="keypad bus")
        self.rating_map = rating_map or DEFAULT_RATING_MAP
        self._buf = bytearray()
        self._last_digit: dict[int, int] = {}
        self._stop = threading.Event()
        self._thread: Optional[threading.Thread] = None

    def decode(self, f: Frame) -> Optional[KeyEvent]:
        if f.cmd == CMD_RATING and f.data:
            level = self.rating_map.get(f.data[0])
            if level is None:
                log.warning("rating pad %d: unknown key %d", f.addr, f.data[0])
                return None
            return KeyEvent(f.addr, "rating", level, sorted(self.rating_map).index(f.data[0]))
        if f.cmd != CMD_KEY or not f.data:
            return None
        key = f.data[-1]
        if key <= 9:
            self._last_digit[f.addr] = key
            return None
        if key == 0x0F:
            action = CONFIRMED.get(self._last_digit.pop(f.addr, -1))
            return KeyEvent(f.addr, action) if action else None
        action = KEYS.get(key)
        return KeyEvent(f.addr, action) if action else None

    def poll(self, timeout: float = 0.1) -> list[KeyEvent]:
        """Frames that arrived within `timeout`, acknowledged and decoded."""
        data = self.link.read(256, timeout=timeout)
        self._buf += data
        events = []
        for f in parse_stream(self._buf):
            if f.cmd == CMD_KEY:
                self.link.write(f.raw)  # the echo tells the pad its key was heard
            ev = self.decode(f)
            if ev:
                events.append(ev)
        return events

    def show(self, addr: int, waiting: Optional[int], ticket: Optional[str]) -> None:
        self.link.write(show_frame(addr, waiting, ticket))

    def beep(self, addr: int) -> None:
        self.link.write(beep_frame(addr))

    def start_rating(self, addr: int) -> None:
        self.link.write(rating_start_frame(addr))

    def run(self, on_event: Callable[[KeyEvent], None]) -> None:
        """Read until stop(); an unplugged line is retried, never fatal."""
        while not self._stop.is_set():
            lograte.flush()  # the counts of a minute's held-back warnings, once it is over
            try:
                events = self.poll()
            except SerialLinkError as exc:
                lograte.warn(log, ("link", str(exc)), "%s", exc)  # retried every second
                self._stop.wait(1.0)
                continue
            for ev in events:
                try:
                    on_event(ev)
                except Exception:
                    log.exception("keypad event handler failed")

    def start(self, on_event: Callable[[KeyEvent], None]) -> "KeypadBus":
        self._thread = threading.Thread(
            target=self.run, args=(on_event,), name="keypad-bus", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(3)
        self.link.close()
