"""One serial line to a device: open lazily, report its state, reconnect when the port returns."""

from __future__ import annotations

import enum
import logging
import termios
import threading
import time
from typing import Callable

import serial

log = logging.getLogger(__name__)

RETRY_OPEN_AFTER_S = 1.0  # an unplugged port is tried again at most this often


class LinkState(enum.Enum):
    OFFLINE = "offline"
    READY = "ready"


class SerialLinkError(Exception):
    """The line could not be used; the message says which device, which port and why."""


class SerialLink:
    """A serial port that survives the cable being pulled.

    Every operation opens the port if it is closed (no more often than RETRY_OPEN_AFTER_S);
    an OS error closes it again and raises SerialLinkError, so a driver above only sees
    "worked" or "a reason a person can act on".
    """

    def __init__(
        self,
        port: str,
        baudrate: int = 9600,
        timeout: float = 1.0,
        name: str = "device",
        clock: Callable[[], float] = time.monotonic,
    ):
        self.port = port
        self.baudrate = baudrate
        self.timeout = timeout
        self.name = name
        self._clock = clock
        self._serial: serial.Serial | None = None
        self._last_try = float("-inf")
        self._lock = threading.RLock()
        self.state = LinkState.OFFLINE
        self.listeners: list[Callable[[LinkState], None]] = []

    def _set_state(self, state: LinkState) -> None:
        if state is self.state:
            return
        self.state = state
        log.info("%s on %s: %s", self.name, self.port, state.value)
        for listener in list(self.listeners):
            try:
                listener(state)
            except Exception:  # one bad listener must not break the line
                log.exception("serial state listener failed")

    def open(self) -> None:
        with self._lock:
            if self._serial is not None:
                return
            now = self._clock()
            if now - self._last_try < RETRY_OPEN_AFTER_S:
                raise SerialLinkError(f"{self.name}: port {self.port} is not available")
            self._last_try = now
            try:
                self._serial = serial.Serial(
                    self.port,
                    self.baudrate,
                    timeout=self.timeout,
                    write_timeout=max(self.timeout, 2.0),
                )
            except (serial.SerialException, OSError, ValueError) as exc:
                self._set_state(LinkState.OFFLINE)
                raise SerialLinkError(f"{self.name}: cannot open {self.port} ({exc})") from exc
            self._set_state(LinkState.READY)

    def close(self) -> None:
        with self._lock:
            if self._serial is not None:
                try:
                    self._serial.close()
                except (serial.SerialException, OSError):
                    pass
                self._serial = None
            self._set_state(LinkState.OFFLINE)

    def _fail(self, exc: Exception, doing: str) -> SerialLinkError:
        self.close()
        self._last_try = float("-inf")  # the next call tries to reopen at once
        return SerialLinkError(
            f"{self.name}: {doing} on {self.port} failed, cable unplugged? ({exc})"
        )

    def write(self, data: bytes) -> None:
        with self._lock:
            self.open()
            try:
                self._serial.write(data)
                self._serial.flush()
            except (serial.SerialException, OSError) as exc:
                raise self._fail(exc, "write") from exc

    def read(self, size: int, timeout: float | None = None) -> bytes:
        """Up to `size` bytes; fewer when the timeout runs out (the caller decides what that means)."""
        with self._lock:
            self.open()
            try:
                if timeout is not None:
                    self._serial.timeout = timeout
                data = self._serial.read(size)
            except (serial.SerialException, OSError, TypeError) as exc:
                # pyserial raises TypeError when the fd vanished under it
                raise self._fail(exc, "read") from exc
            finally:
                if timeout is not None and self._serial is not None:
                    self._serial.timeout = self.timeout
            return data

    def discard_input(self) -> None:
        with self._lock:
            self.open()
            try:
                self._serial.reset_input_buffer()
            except (
                serial.SerialException,
                OSError,
                termios.error,
            ) as exc:  # tcflush on a vanished tty
                raise self._fail(exc, "flush") from exc
