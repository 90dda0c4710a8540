"""Simulated keypads and rating pads sharing one RS-485 line (the far end of a pty)."""

from __future__ import annotations

import threading

from .keypad import (
    BLANK,
    CMD_BEEP,
    CMD_KEY,
    CMD_RATING,
    CMD_RATING_START,
    CMD_SHOW,
    build,
    parse_stream,
)


class PadState:
    def __init__(self):
        self.digits = [BLANK] * 6
        self.beeps = 0
        self.acks = 0
        self.rating_requested = 0

    @property
    def shown(self) -> str:
        """What the six-digit display shows, blanks as spaces: '  5012'."""
        return "".join(" " if d == BLANK else str(d) for d in self.digits)


class KeypadBusSimulator:
    def __init__(self, addresses=(1,)):
        self.pads = {a: PadState() for a in addresses}
        self._buf = bytearray()
        self.changed = threading.Condition()
        self.device = None  # the PtyDevice, to send key presses

    def on_bytes(self, data: bytes) -> bytes:
        self._buf += data
        for f in parse_stream(self._buf):
            pad = self.pads.get(f.addr)
            if pad is None:
                continue  # another device's address: not ours to answer
            with self.changed:
                if f.cmd == CMD_KEY and len(f.data) == 1 and f.data[0] != 0x0B:
                    pad.acks += 1  # the host's echo of a key frame
                elif f.cmd == CMD_RATING_START and f.data == b"\x0b":
                    pad.rating_requested += 1
                elif f.cmd == CMD_SHOW and len(f.data) == 6:
                    pad.digits = list(f.data)
                elif f.cmd == CMD_BEEP:
                    pad.beeps += 1
                self.changed.notify_all()
        return b""

    # what a person does at the pad
    def press(self, addr: int, key: int) -> bytes:
        frame = build(addr, CMD_KEY, bytes((key,)))
        self.device.send(frame)
        return frame

    def rate(self, addr: int, key: int) -> None:
        self.device.send(build(addr, CMD_RATING, bytes((key,))))

    # what goes wrong on an RS-485 line
    def press_cut(self, addr: int, key: int, keep: int) -> bytes:
        """A key frame that stops after `keep` bytes (a pad losing power, two pads colliding)."""
        part = build(addr, CMD_KEY, bytes((key,)))[:keep]
        self.device.send(part)
        return part

    def noise(self, data: bytes) -> None:
        """Bytes no pad meant to send: line noise, a stray byte, a foreign device on the bus."""
        self.device.send(data)

    def wait(self, pred, timeout: float = 3.0) -> bool:
        with self.changed:
            return self.changed.wait_for(pred, timeout)
