"""The kiosk's hardware: ticket printer, ID card reader, social security card reader, and the
in-process simulators behind ptys for `--simulate`.

Everything here runs off the UI thread: a serial exchange can take seconds when a cable is
pulled, and a citizen's screen must never freeze for it. Callbacks are called from these
threads; the app hops them to Kivy's main thread.

Personal data: a card read is handed to the app once and not kept; to tell "the same card still
lying there" from "a new card" only a keyed hash of the number is held, and only while the card
stays on the reader.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import tempfile
import threading
from datetime import date, datetime
from pathlib import Path
from typing import Callable, Optional

from drivers.printer import PrinterError, PrinterStatus, open_printer

log = logging.getLogger(__name__)

PRINTER_POLL_S = 3.0
IDCARD_POLL_S = 0.4
SAMPLE_CARD_SECONDS = 4.0  # a demo card "lies" on the reader this long

# made-up holders for the demo button; valid GB 11643 numbers, nobody real
SAMPLE_CARDS = {
    "adult": dict(name="张小三", birth=date(1990, 3, 7), id_number="620102199003070018"),
    "elder": dict(name="王淑芬", sex="2", birth=date(1950, 3, 7), id_number="620102195003070028"),
}


class TicketPrinter:
    """One printer on one line: status polls and jobs take turns under a lock."""

    def __init__(
        self, port: str, baud: int, on_status: Callable[[str], None], poll_s: float = PRINTER_POLL_S
    ):
        self.printer = open_printer(port, baud)
        self.on_status = on_status
        self.poll_s = poll_s
        self.reason: Optional[str] = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, name="printer-status", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(3)
        with self._lock:
            self.printer.close()

    def status(self) -> PrinterStatus:
        with self._lock:
            status = self.printer.status()
        self._report(status.reason)
        return status

    def print_job(self, data: bytes) -> PrinterStatus:
        """The status after the job; PrinterError when it did not (wholly) come out."""
        try:
            with self._lock:
                status = self.printer.print_job(data)
        except PrinterError as exc:
            self._report(exc.status.reason)
            raise
        self._report(status.reason)
        return status

    def _report(self, reason: str) -> None:
        if reason != self.reason:
            self.reason = reason
            try:
                self.on_status(reason)
            except Exception:
                log.exception("printer status listener failed")

    def _poll(self) -> None:
        while not self._stop.is_set():
            try:
                self.status()
            except Exception:  # the poll must outlive any driver surprise
                log.exception("printer status poll failed")
            self._stop.wait(self.poll_s)


class IdCardWatch:
    """Polls the ID card reader; a card newly laid down is read once and handed over."""

    def __init__(
        self,
        port: str,
        on_card: Callable[[dict], None],
        on_error: Callable[[str, str], None],
        poll_s: float = IDCARD_POLL_S,
    ):
        from drivers.idcard import IdCardReader

        self.reader = IdCardReader(port)
        self.on_card, self.on_error = on_card, on_error
        self.poll_s = poll_s
        self._salt = os.urandom(16)
        self._present: Optional[bytes] = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="idcard-watch", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)
        self.reader.close()

    def _run(self) -> None:
        from drivers.idcard import IdCardError

        last_error = None
        while not self._stop.is_set():
            wait = self.poll_s
            try:
                info = self.reader.read_card()
            except IdCardError as exc:
                if exc.code in ("80", "81"):  # nothing on the reader
                    self._present = None
                    last_error = None
                elif exc.code == "offline":
                    wait = 2.0
                    if last_error != exc.code:
                        log.warning("ID card reader: %s", exc.message_en)
                    last_error = exc.code
                else:
                    self._present = None
                    if last_error != exc.code:
                        self.on_error(exc.message_zh, exc.message_en)
                    last_error = exc.code
            except Exception:
                log.exception("ID card reader failed")
                wait = 2.0
            else:
                last_error = None
                key = hashlib.blake2b(info.id_number.encode(), key=self._salt).digest()
                if key != self._present:
                    self._present = key
                    self.on_card(
                        {
                            "id_number": info.id_number,
                            "name": info.name or info.english_name,
                            # for the 一表申请 form only (kept in memory for the transaction)
                            "sex": info.sex,
                            "nation": info.nation,
                            "birth": info.birth.isoformat(),
                            "address": info.address,
                            "source": "idcard",
                        }
                    )
                del info
            self._stop.wait(wait)


class SSCardWatch:
    """The social security card reader (PC/SC): read once when a card goes in."""

    def __init__(self, on_card: Callable[[dict], None], on_error: Callable[[str, str], None]):
        from drivers.sscard import SocialSecurityReader

        self.reader = SocialSecurityReader()
        self.on_card, self.on_error = on_card, on_error

    def start(self) -> None:
        try:
            self.reader.watch(self._inserted, lambda reader: None)
        except Exception as exc:  # no pcscd: the kiosk works on without the reader
            log.warning("social security card reader unavailable: %s", exc)

    def _inserted(self, reader: str) -> None:
        from drivers.sscard import SSCardError

        try:
            card = self.reader.read(timeout=1.0)
        except SSCardError as exc:
            self.on_error(exc.message_zh, exc.message_en)
            return
        self.on_card({"id_number": card.id_number, "name": card.name, "source": "sscard"})

    def stop(self) -> None:
        try:
            self.reader.stop()
        except Exception:
            log.exception("stopping the social security card watch failed")


class Simulation:
    """A PrinterSimulator and an IdCardSimulator on ptys, for demos without hardware."""

    def __init__(self, preview_dir: Optional[Path]):
        from drivers.idcard_sim import IdCardSimulator
        from drivers.printer_sim import PrinterSimulator
        from drivers.ptysim import PtyDevice

        self.dir = Path(tempfile.mkdtemp(prefix="onewindow-kiosk-"))
        self.printer = PrinterSimulator()
        self.idcard = IdCardSimulator()
        self.printer_pty = PtyDevice(self.printer, self.dir / "printer")
        self.idcard_pty = PtyDevice(self.idcard, self.dir / "idcard")
        self.preview_dir = preview_dir
        self._remove_timer: Optional[threading.Timer] = None

    @property
    def printer_port(self) -> str:
        return str(self.dir / "printer")

    @property
    def idcard_port(self) -> str:
        return str(self.dir / "idcard")

    def insert_sample(self, kind: str = "adult") -> None:
        self.idcard.insert(**SAMPLE_CARDS[kind])
        if self._remove_timer:
            self._remove_timer.cancel()
        self._remove_timer = threading.Timer(SAMPLE_CARD_SECONDS, self.idcard.remove)
        self._remove_timer.daemon = True
        self._remove_timer.start()

    def jobs_so_far(self) -> int:
        return len(self.printer.jobs)

    def save_preview(self, before: int, label: str, now: datetime) -> Optional[Path]:
        """The PNG of the job that came out after `before` jobs (what the citizen would hold),
        named by `now`, the hall's time (as on the ticket), not this box's zone."""
        if not self.preview_dir:
            return None
        jobs = self.printer.wait_jobs(before + 1, 3.0)
        if len(jobs) <= before:
            return None
        from drivers.escpos_render import render_png

        self.preview_dir.mkdir(parents=True, exist_ok=True)
        path = self.preview_dir / f"{now.strftime('%Y%m%d-%H%M%S')}-{label}.png"
        path.write_bytes(render_png(jobs[before]))
        log.info("ticket preview saved: %s", path)
        return path

    def close(self) -> None:
        if self._remove_timer:
            self._remove_timer.cancel()
        self.printer_pty.close()
        self.idcard_pty.close()
        shutil.rmtree(self.dir, ignore_errors=True)


class KioskDevices:
    """What the app talks to: `print(data, label)`, printer status, cards arriving."""

    def __init__(
        self,
        args,
        on_printer: Callable[[str], None],
        on_card: Callable[[dict], None],
        on_card_error: Callable[[str, str], None],
        clock: Callable[[], datetime],
    ):
        self.clock = clock  # the hall's time
        self.sim: Optional[Simulation] = None
        preview = Path(args.preview_dir) if getattr(args, "preview_dir", None) else None
        printer_port, idcard_port = args.printer, args.idcard
        if args.simulate:
            self.sim = Simulation(preview or Path("data/kiosk-previews"))
            printer_port = printer_port or self.sim.printer_port
            idcard_port = idcard_port or self.sim.idcard_port
        self.printer = (
            TicketPrinter(printer_port, args.printer_baud, on_printer) if printer_port else None
        )
        self.idcard = IdCardWatch(idcard_port, on_card, on_card_error) if idcard_port else None
        self.sscard = SSCardWatch(on_card, on_card_error) if args.sscard else None

    def start(self) -> None:
        for part in (self.printer, self.idcard, self.sscard):
            if part:
                part.start()

    def stop(self) -> None:
        for part in (self.idcard, self.sscard, self.printer):
            if part:
                try:
                    part.stop()
                except Exception:
                    log.exception("stopping a device failed")
        if self.sim:
            self.sim.close()

    def printer_status(self) -> str:
        """'none' when this kiosk has no printer; otherwise a drivers.printer REASONS key."""
        return self.printer.status().reason if self.printer else "none"

    def print(self, data: bytes, label: str) -> str:
        """Blocking (call from a worker): the status reason; raises PrinterError on a failed job."""
        if not self.printer:
            raise PrinterError(PrinterStatus("offline"))
        before = self.sim.jobs_so_far() if self.sim else 0
        status = self.printer.print_job(data)
        if self.sim:
            self.sim.save_preview(before, label, self.clock())
        return status.reason
