"""Run a device simulator on the far end of a pseudo-terminal, so drivers talk to a real tty."""

from __future__ import annotations

import logging
import os
import select
import threading
import tty
from pathlib import Path
from typing import Protocol

log = logging.getLogger(__name__)


class Simulator(Protocol):
    def on_bytes(self, data: bytes) -> bytes:
        """Bytes the host sent; returns the bytes the device answers (may be empty)."""


class PtyDevice:
    """A simulator behind a stable path (a symlink to the pty) that can be unplugged and replugged.

    The driver opens `path` exactly as it would open /dev/ttyUSB0. `unplug()` closes the pty
    and removes the link (the port disappears, as when a USB cable is pulled); `plug()` makes
    a fresh pty behind the same path.
    """

    def __init__(self, simulator: Simulator, path: str | os.PathLike):
        self.simulator = simulator
        self.path = Path(path)
        self._master = self._slave = -1
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._wake_r, self._wake_w = os.pipe()
        self.plug()

    def plug(self) -> None:
        if self._thread is not None:
            return
        self._master, self._slave = os.openpty()
        tty.setraw(self._slave)  # no echo, no CR/LF translation: bytes pass as they are
        if self.path.is_symlink() or self.path.exists():
            self.path.unlink()
        self.path.symlink_to(os.ttyname(self._slave))
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name=f"pty-{self.path.name}", daemon=True)
        self._thread.start()

    def unplug(self) -> None:
        if self._thread is None:
            return
        self._stop.set()
        os.write(self._wake_w, b"x")
        self._thread.join(2)
        self._thread = None
        for fd in (self._master, self._slave):
            try:
                os.close(fd)
            except OSError:
                pass
        self._master = self._slave = -1
        if self.path.is_symlink():
            self.path.unlink()

    def close(self) -> None:
        self.unplug()
        for fd in (self._wake_r, self._wake_w):
            try:
                os.close(fd)
            except OSError:
                pass

    def send(self, data: bytes) -> None:
        """Unsolicited bytes from the device (a key pressed on a keypad, a card laid down)."""
        os.write(self._master, data)

    def _run(self) -> None:
        while not self._stop.is_set():
            ready, _, _ = select.select([self._master, self._wake_r], [], [], 0.5)
            if self._wake_r in ready:
                os.read(self._wake_r, 64)
                continue
            if self._master not in ready:
                continue
            try:
                data = os.read(self._master, 4096)
            except OSError:
                continue  # nobody has the slave open right now
            if not data:
                continue
            try:
                answer = self.simulator.on_bytes(data)
            except Exception:
                log.exception("simulator failed on %r", data[:32])
                continue
            if answer:
                os.write(self._master, answer)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
