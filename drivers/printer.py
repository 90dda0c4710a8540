"""The ticket printer: ESC/POS over a serial line (or a USB printer device file).

Before every job the printer is asked how it is (DLE EOT): a kiosk must know that the paper is
out before the citizen chooses, not after. A job that could not be printed raises PrinterError
with a reason the kiosk can show and report; the ticket itself stands (the controller issued it).
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from typing import Optional

from . import escpos
from .serialport import SerialLink, SerialLinkError

log = logging.getLogger(__name__)

STATUS_TIMEOUT_S = 0.5

# reason -> (Chinese for the citizen/staff, English)
REASONS = {
    "ready": ("正常", "ready"),
    "paper_near_end": ("纸将用尽，请及时更换", "paper nearly out"),
    "paper_end": ("打印纸已用完", "out of paper"),
    "cover_open": ("打印机盖未关好", "cover open"),
    "error": ("打印机故障", "printer error"),
    "offline": ("打印机未连接", "printer not connected"),
}


@dataclass(frozen=True)
class PrinterStatus:
    reason: str  # a key of REASONS

    @property
    def can_print(self) -> bool:
        return self.reason in ("ready", "paper_near_end")

    @property
    def message(self) -> str:
        return REASONS[self.reason][0]

    @property
    def message_en(self) -> str:
        return REASONS[self.reason][1]


class PrinterError(Exception):
    def __init__(self, status: PrinterStatus):
        super().__init__(f"{status.message_en} ({status.message})")
        self.status = status


def decode_status(b1: int, b2: int, b3: int, b4: int) -> PrinterStatus:
    """The four DLE EOT answers; every valid status byte has bits 1 and 4 set (0x12)."""
    if any(b & 0x93 != 0x12 for b in (b1, b2, b3, b4)):
        return PrinterStatus("error")  # not a status byte: noise on the line
    if b2 & 0x04:
        return PrinterStatus("cover_open")
    if b4 & 0x60 or b2 & 0x20:
        return PrinterStatus("paper_end")
    if b2 & 0x40 or b3 & 0x28:
        return PrinterStatus("error")
    if b1 & 0x08:
        return PrinterStatus("offline")
    if b4 & 0x0C:
        return PrinterStatus("paper_near_end")
    return PrinterStatus("ready")


class SerialPrinter:
    def __init__(self, port: str, baudrate: int = 9600):
        self.link = SerialLink(port, baudrate, timeout=STATUS_TIMEOUT_S, name="ticket printer")

    def status(self) -> PrinterStatus:
        try:
            self.link.discard_input()
            answers = []
            for n in (1, 2, 3, 4):
                self.link.write(escpos.status_request(n))
                got = self.link.read(1, timeout=STATUS_TIMEOUT_S)
                if not got:
                    return PrinterStatus("offline")  # powered off or wrong port/baud
                answers.append(got[0])
        except SerialLinkError as exc:
            log.warning("%s", exc)
            return PrinterStatus("offline")
        return decode_status(*answers)

    def print_job(self, data: bytes) -> PrinterStatus:
        before = self.status()
        if not before.can_print:
            raise PrinterError(before)
        try:
            self.link.write(data)
        except SerialLinkError as exc:
            log.warning("%s", exc)
            raise PrinterError(PrinterStatus("offline")) from None
        after = self.status()  # paper can run out half way through a ticket
        if after.reason in ("paper_end", "cover_open", "error", "offline"):
            raise PrinterError(after)
        return after

    def close(self) -> None:
        self.link.close()


class FilePrinter:
    """A USB printer as a device file (/dev/usb/lp0): no status channel, so write errors tell."""

    def __init__(self, path: str):
        self.path = path

    def status(self) -> PrinterStatus:
        return PrinterStatus("ready" if os.access(self.path, os.W_OK) else "offline")

    def print_job(self, data: bytes) -> PrinterStatus:
        try:
            with open(self.path, "ab", buffering=0) as f:
                f.write(data)
        except OSError as exc:
            log.warning("ticket printer %s: %s", self.path, exc)
            raise PrinterError(PrinterStatus("offline")) from None
        return PrinterStatus("ready")

    def close(self) -> None:
        pass


def open_printer(port: str, baudrate: int = 9600):
    """`/dev/usb/lp*` or a regular file: FilePrinter; anything else is a serial line."""
    if port.startswith("/dev/usb/lp") or (os.path.exists(port) and os.path.isfile(port)):
        return FilePrinter(port)
    return SerialPrinter(port, baudrate)


Printer = Optional[SerialPrinter | FilePrinter]
