"""A social security card emulator behind vsmartcard's vpcd, so the driver talks to a real pcscd.

vpcd (the pcscd reader driver) listens on 127.0.0.1:35963 for slot "Virtual PCD 00 00"; the
card connects to it. Each message is a 2-byte big-endian length and a payload. A one-byte
payload is control (0 power off, 1 power on, 2 reset, 4 "send your ATR"); anything longer is a
command APDU, answered with data + SW1 SW2. Closing the connection is pulling the card out.
"""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass, field

from onewindow.domain.identity import birth_date_from_id

# T=0 only (TB1, TC1 present and zero), 12 historical bytes. Direct convention, like most
# domestic COS; no TCK because only T=0 is offered.
ATR = bytes.fromhex("3B6C0000") + b"CN-SSCARD3.0"
SSSE_AID = bytes.fromhex("7378312E73682EC9E7BBE1B1A3D5CF")  # "sx1.sh.社会保障" in GBK

_POWER_OFF, _POWER_ON, _RESET, _GET_ATR = 0, 1, 2, 4


def _sw(sw: int) -> bytes:
    return sw.to_bytes(2, "big")


def _tlv(tag: int, value: bytes) -> bytes:
    return bytes([tag, len(value)]) + value


def _cn(digits: str) -> bytes:
    """Compressed numeric: BCD, an odd digit count padded with F."""
    return bytes.fromhex(digits + "F" * (len(digits) % 2))


@dataclass
class _EF:
    fid: int
    sfi: int
    records: dict[int, bytes] = field(default_factory=dict)  # record number -> TLV
    locked: bool = False


class VirtualSSCard:
    """One emulated card. insert() connects to vpcd and serves it from a thread; remove() pulls it.

    not_sscard: a card without the SSSE application (a bank card, a transport card): SELECT by
    name answers 6A82. lock_ef06: EF06 (ID number, name) answers READ RECORD with 6982.
    name_field_len: the fixed width of the name field; a width other than 30 makes the reader's
    Le wrong, which a T=0 card answers with 6Cxx.
    """

    def __init__(
        self,
        card_number: str,
        id_number: str,
        name: str,
        port: int = 35963,
        *,
        host: str = "127.0.0.1",
        not_sscard: bool = False,
        lock_ef06: bool = False,
        name_field_len: int = 30,
        atr: bytes = ATR,
    ):
        self.host, self.port, self.atr = host, port, atr
        self.not_sscard = not_sscard
        self.apdus: list[
            tuple[bytes, bytes]
        ] = []  # (command, response) seen, for tests and debugging
        self._efs = self._file_system(card_number, id_number, name, name_field_len, lock_ef06)
        self._lock = threading.Lock()
        self._sock: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._seen = threading.Event()
        self._drop_after: int | None = None
        self._reset_state()

    @staticmethod
    def _file_system(
        card_number: str, id_number: str, name: str, name_len: int, lock_ef06: bool
    ) -> dict[int, _EF]:
        gbk_name = name.encode("gbk")
        if len(gbk_name) > name_len:
            raise ValueError(f"name takes {len(gbk_name)} bytes in GBK, the field has {name_len}")
        birth = birth_date_from_id(id_number)
        ef05 = _EF(
            0xEF05,
            5,
            {
                1: _tlv(
                    1, bytes.fromhex("1100000000000000D156000005") + b"\x00\x00\x01"
                ),  # card identifier
                2: _tlv(2, b"1"),  # card category
                3: _tlv(3, b"3.00"),  # specification version
                5: _tlv(5, _cn("20240101")),  # issued
                6: _tlv(6, _cn("20340101")),  # valid until
                7: _tlv(7, card_number.encode("ascii").ljust(9, b"\x00")),
            },
        )
        ef06 = _EF(
            0xEF06,
            6,
            {
                8: _tlv(8, id_number.encode("ascii")),
                9: _tlv(9, gbk_name.ljust(name_len, b"\x00")),
                10: _tlv(10, b"1" if int(id_number[16]) % 2 else b"2"),  # sex, from the ID number
                11: _tlv(11, _cn("01")),  # ethnic group
                13: _tlv(13, _cn(birth.strftime("%Y%m%d"))),
            },
            locked=lock_ef06,
        )
        return {ef.fid: ef for ef in (ef05, ef06)}

    # -- the card in the reader ---------------------------------------------------------------

    def insert(self, timeout: float = 5.0) -> None:
        """Put the card in the reader; returns once vpcd has asked for the ATR (the reader sees it)."""
        if self._thread is not None and self._thread.is_alive():
            return
        self._join()
        deadline = time.monotonic() + timeout
        while True:
            try:
                sock = socket.create_connection((self.host, self.port), timeout=1.0)
                break
            except OSError:
                # vpcd opens its port only once pcscd has loaded the driver.
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        sock.settimeout(None)
        self._seen.clear()
        with self._lock:
            self._sock = sock
            self._reset_state()
        self._thread = threading.Thread(
            target=self._serve, args=(sock,), name="sscard-sim", daemon=True
        )
        self._thread.start()
        if not self._seen.wait(timeout):
            self.remove()
            raise TimeoutError(f"vpcd on {self.host}:{self.port} never asked for the card's ATR")

    def remove(self) -> None:
        """Pull the card out: vpcd sees its connection closed and reports the slot empty."""
        with self._lock:
            sock = self._sock
        if sock is not None:
            try:
                # Wakes the serving thread out of recv(); it closes the socket itself.
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self._join()

    def remove_after(self, apdus: int) -> None:
        """Answer `apdus` more commands, then pull the card when the next one arrives."""
        with self._lock:
            self._drop_after = apdus

    @property
    def inserted(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def __enter__(self) -> VirtualSSCard:
        self.insert()
        return self

    def __exit__(self, *exc) -> None:
        self.remove()

    def _join(self) -> None:
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None

    def _serve(self, sock: socket.socket) -> None:
        try:
            while True:
                msg = self._recv(sock)
                if msg is None:
                    return
                reply = self._on_message(msg)
                if reply is None and len(msg) > 1:
                    return  # pulled mid-command: no answer, connection closed
                if reply is not None:
                    sock.sendall(len(reply).to_bytes(2, "big") + reply)
        except OSError:
            pass
        finally:
            with self._lock:
                if self._sock is sock:
                    self._sock = None
            sock.close()

    @staticmethod
    def _recv(sock: socket.socket) -> bytes | None:
        def exactly(n: int) -> bytes | None:
            buf = b""
            while len(buf) < n:
                chunk = sock.recv(n - len(buf))
                if not chunk:
                    return None
                buf += chunk
            return buf

        head = exactly(2)
        return None if head is None else exactly(int.from_bytes(head, "big"))

    def _on_message(self, msg: bytes) -> bytes | None:
        if len(msg) == 1:
            if msg[0] == _GET_ATR:
                self._seen.set()
                return self.atr
            if msg[0] in (_POWER_OFF, _POWER_ON, _RESET):
                with self._lock:
                    self._reset_state()
            return None
        with self._lock:
            if self._drop_after is not None:
                if self._drop_after == 0:
                    self._drop_after = None
                    return None
                self._drop_after -= 1
            response = self._apdu(msg)
        self.apdus.append((msg, response))
        return response

    # -- the card's file system ---------------------------------------------------------------

    def _reset_state(self) -> None:
        self._in_ssse = False
        self._current: _EF | None = None
        self._pending = b""  # data waiting for GET RESPONSE

    def _apdu(self, apdu: bytes) -> bytes:
        if len(apdu) < 4:
            return _sw(0x6700)
        cla, ins = apdu[0], apdu[1]
        pending, self._pending = self._pending, b""
        if cla != 0x00:
            return _sw(0x6E00)
        if ins == 0xA4:
            return self._select(apdu)
        if ins == 0xB2:
            return self._read_record(apdu)
        if ins == 0xC0:
            return self._get_response(apdu, pending)
        return _sw(0x6D00)

    def _select(self, apdu: bytes) -> bytes:
        p1, p2 = apdu[2], apdu[3]
        if len(apdu) < 5 or len(apdu) < 5 + apdu[4]:
            return _sw(0x6700)
        data = apdu[5 : 5 + apdu[4]]
        if p1 == 0x04:
            if self.not_sscard or data != SSSE_AID:
                return _sw(0x6A82)
            self._in_ssse, self._current = True, None
            if p2 & 0x0C == 0x0C:  # "no response data" asked
                return _sw(0x9000)
            fci = _tlv(
                0x6F, _tlv(0x84, SSSE_AID) + _tlv(0xA5, bytes.fromhex("9F080103"))
            )  # 9F08: app version
            # T=0: a command carrying data cannot also return data; announce it for GET RESPONSE.
            self._pending = fci
            return _sw(0x6100 | len(fci))
        if p1 == 0x00 and data == b"\x3f\x00":
            self._reset_state()
            return _sw(0x9000)
        if p1 in (0x00, 0x02) and len(data) == 2:
            ef = self._efs.get(int.from_bytes(data, "big")) if self._in_ssse else None
            if ef is None:
                return _sw(0x6A82)
            self._current = ef
            return _sw(0x9000)
        return _sw(0x6A86)

    def _read_record(self, apdu: bytes) -> bytes:
        p1, p2 = apdu[2], apdu[3]
        sfi, mode = p2 >> 3, p2 & 0x07
        if sfi:
            ef = (
                next((e for e in self._efs.values() if e.sfi == sfi), None)
                if self._in_ssse
                else None
            )
            if ef is None:
                return _sw(0x6A82)
            self._current = ef
        ef = self._current
        if ef is None:
            return _sw(0x6986)  # no current EF
        if mode not in (0x00, 0x04):  # record identifier (tag = number here) or record number
            return _sw(0x6A86)
        if ef.locked:
            return _sw(0x6982)
        record = ef.records.get(p1)
        if record is None:
            return _sw(0x6A83)
        if len(apdu) != 5:
            return _sw(0x6700)
        le = apdu[4] or 256
        if le != len(record):
            return _sw(0x6C00 | len(record))
        return record + _sw(0x9000)

    def _get_response(self, apdu: bytes, pending: bytes) -> bytes:
        if not pending:
            return _sw(0x6985)
        le = (apdu[4] if len(apdu) == 5 else 0) or 256
        if le > len(pending):
            self._pending = pending
            return _sw(0x6C00 | len(pending))
        rest, self._pending = pending[le:], pending[le:]
        return pending[:le] + _sw(0x6100 | min(len(rest), 0xFF) if rest else 0x9000)
