"""A simulated ESC/POS ticket printer for the far end of a pty: answers DLE EOT, collects jobs.

A job ends at a cut command. Paper can be set to run out (now, or after N more jobs), the cover
opened, or the printer taken offline, as a hall's printer does at the worst moment.
"""

from __future__ import annotations

import threading

from .escpos_raster import RASTER, raster_length

PAPER_OK, PAPER_NEAR_END, PAPER_END = "ok", "near_end", "end"
CUT = (b"\x1dV\x00", b"\x1dV\x01", b"\x1dVA", b"\x1dVB")


class PrinterSimulator:
    def __init__(self):
        self.paper = PAPER_OK
        self.cover_open = False
        self.offline = False  # no answer at all: powered off
        self.paper_left: int | None = None  # whole jobs before the paper runs out mid-job
        self.jobs: list[bytes] = []
        self.received = 0  # bytes, for the benchmark
        self._buf = bytearray()
        self._carry = b""
        self.job_done = threading.Condition()

    def _status(self, n: int) -> bytes:
        b = 0x12
        if n == 1:
            b |= 0x08 if self.cover_open else 0
        elif n == 2:
            b |= (0x04 if self.cover_open else 0) | (0x20 if self.paper == PAPER_END else 0)
        elif n == 4:
            b |= {PAPER_OK: 0, PAPER_NEAR_END: 0x0C, PAPER_END: 0x6C}[self.paper]
        return bytes((b,))

    def on_bytes(self, data: bytes) -> bytes:
        if self.offline:
            return b""
        # DLE EOT n is a real-time command: answered wherever it appears in the stream, even
        # when it arrives glued to the tail of a job (ESC/POS data never holds 10 04 01..04)
        data = self._carry + data
        self._carry = b""
        answer = bytearray()
        while True:
            i = data.find(b"\x10\x04")
            if i < 0 or i + 2 >= len(data):
                break
            self._print(data[:i])
            if 1 <= data[i + 2] <= 4:
                answer += self._status(data[i + 2])
            data = data[i + 3 :]
        keep = 2 if data.endswith(b"\x10\x04") else 1 if data.endswith(b"\x10") else 0
        if keep:
            data, self._carry = data[:-keep], data[-keep:]
        self._print(data)
        return bytes(answer)

    def _print(self, data: bytes) -> None:
        if not data:
            return
        if self.paper_left == 0:
            self.paper = PAPER_END  # runs out as this job starts: it comes out torn
        if self.paper == PAPER_END or self.cover_open:
            return  # the head does not move; the bytes are lost
        self.received += len(data)
        self._buf += data
        while True:
            end = _job_end(self._buf)
            if end < 0:
                break
            job = bytes(self._buf[:end])
            del self._buf[:end]
            with self.job_done:
                self.jobs.append(job)
                self.job_done.notify_all()
            if self.paper_left:
                self.paper_left -= 1

    def wait_jobs(self, count: int, timeout: float = 5.0) -> list[bytes]:
        with self.job_done:
            self.job_done.wait_for(lambda: len(self.jobs) >= count, timeout)
            return list(self.jobs)


def _job_end(buf: bytes | bytearray) -> int:
    """Where the first job ends (after its cut), or -1: a raster image's dots are data, not
    commands, so a cut's bytes inside them do not end the job."""
    at = 0
    while True:
        cuts = [i for i in (buf.find(c, at) for c in CUT) if i >= 0]
        image = buf.find(RASTER, at)
        if image >= 0 and (not cuts or image < min(cuts)):
            length = raster_length(bytes(buf), image)
            if length < 0:
                return -1  # the rest of the image is still on its way
            at = image + length
            continue
        return min(cuts) + 3 if cuts else -1
