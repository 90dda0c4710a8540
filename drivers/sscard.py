"""Social security card (社会保障卡) reader over PC/SC: card number, ID number and name."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import Callable

from smartcard import scard as sc

from onewindow.domain.identity import mask_id_number, mask_name, valid_id_number

log = logging.getLogger(__name__)

# DDF "sx1.sh.社会保障" (the name is GBK inside the AID), then its two EFs.
SELECT_SSSE = bytes.fromhex("00A404000F7378312E73682EC9E7BBE1B1A3D5CF")
SELECT_EF05 = bytes.fromhex("00A4020002EF05")
SELECT_EF06 = bytes.fromhex("00A4020002EF06")
# P2 0x2C = SFI 5 (5 << 3) | "P1 is a record number" (4).
READ_CARD_NUMBER = bytes.fromhex("00B2072C0B")
# P2 0x00 = "first record whose identifier is P1"; records are tagged with their own number.
READ_ID_NUMBER = bytes.fromhex("00B2080014")
READ_NAME = bytes.fromhex("00B2090020")

SW_OK = 0x9000
# The card does answer, but the issuer forbids reading without a PIN or has blocked the file.
_LOCKED_SW = {0x6982, 0x6983, 0x6984, 0x6985}
# On Chinese (PBOC-style) COS a SELECT that answers 6A81 or 6283 names a blocked application,
# not a missing one: that citizen has a social security card, it is locked.
_APP_BLOCKED_SW = {0x6A81, 0x6283}

_MSG = {
    "no_reader": (
        "读卡器未连接，请联系工作人员",
        "no card reader: pcscd is not running or no reader is attached",
    ),
    "no_card": ("请插入社保卡", "no card in the reader"),
    "card_removed": (
        "读卡时卡片被拔出，请重新插入社保卡，读完之前不要拔卡",
        "card removed during the read",
    ),
    "not_sscard": ("这不是社保卡，请插入社会保障卡", "not a social security card"),
    "locked": ("社保卡信息无法读取，卡片可能已锁定，请到人工窗口办理", "card or record is locked"),
    "bad_data": ("社保卡信息有误，请到人工窗口办理", "card data is malformed or fails its checks"),
    "card_error": ("无法读取卡片，请取出后按提示方向重新插入", "the card does not answer properly"),
}


class SSCardError(Exception):
    """A failure to read, with a message for the citizen (zh) and one for the log (en)."""

    def __init__(self, code: str, message_zh: str, message_en: str):
        super().__init__(f"{code}: {message_en}")
        self.code = code
        self.message_zh = message_zh
        self.message_en = message_en


def _error(code: str, detail: str = "") -> SSCardError:
    zh, en = _MSG[code]
    return SSCardError(code, zh, f"{en} ({detail})" if detail else en)


def _pcsc(hresult: int) -> str:
    return f"{sc.SCardGetErrorMessage(hresult).strip()} 0x{hresult & 0xFFFFFFFF:08X}"


_SERVICE_GONE = {
    sc.SCARD_E_NO_SERVICE,
    sc.SCARD_E_SERVICE_STOPPED,
    sc.SCARD_E_NO_READERS_AVAILABLE,
    sc.SCARD_E_UNKNOWN_READER,
    sc.SCARD_E_READER_UNAVAILABLE,
}
_CARD_GONE = {sc.SCARD_W_REMOVED_CARD, sc.SCARD_E_NO_SMARTCARD}


@dataclass(frozen=True)
class SSCard:
    card_number: str
    id_number: str
    name: str

    def masked(self) -> dict[str, str]:
        return {"name": mask_name(self.name), "id_number": mask_id_number(self.id_number)}

    def __repr__(self) -> str:
        # A card object ends up in logs and tracebacks; the full ID number must not.
        m = self.masked()
        return f"SSCard(name={m['name']!r}, id_number={m['id_number']!r})"


class _Context:
    """One PC/SC context; pcscd not running shows up here, so it becomes `no_reader`."""

    def __init__(self) -> None:
        hr, self.handle = sc.SCardEstablishContext(sc.SCARD_SCOPE_USER)
        if hr != sc.SCARD_S_SUCCESS:
            raise _error("no_reader", _pcsc(hr))

    def __enter__(self) -> _Context:
        return self

    def __exit__(self, *exc) -> None:
        sc.SCardReleaseContext(self.handle)

    def readers(self) -> list[str]:
        hr, names = sc.SCardListReaders(self.handle, [])
        if hr == sc.SCARD_E_NO_READERS_AVAILABLE:
            return []
        if hr != sc.SCARD_S_SUCCESS:
            raise _error("no_reader", _pcsc(hr))
        return list(names)


class _Card:
    """A connected card: APDU exchange with the T=0 status words handled."""

    def __init__(self, ctx: _Context, reader: str):
        self.reader = reader
        hr, self.handle, self.protocol = sc.SCardConnect(
            ctx.handle, reader, sc.SCARD_SHARE_SHARED, sc.SCARD_PROTOCOL_T0 | sc.SCARD_PROTOCOL_T1
        )
        if hr in _CARD_GONE:
            raise _error("no_card", _pcsc(hr))
        if hr in _SERVICE_GONE:
            raise _error("no_reader", _pcsc(hr))
        if hr != sc.SCARD_S_SUCCESS:
            raise _error("card_error", _pcsc(hr))
        # Our APDUs are a sequence (SELECT then READ): another program must not move the card
        # to another file in between.
        self._in_transaction = sc.SCardBeginTransaction(self.handle) == sc.SCARD_S_SUCCESS

    def close(self) -> None:
        if self._in_transaction:
            sc.SCardEndTransaction(self.handle, sc.SCARD_LEAVE_CARD)
        sc.SCardDisconnect(self.handle, sc.SCARD_LEAVE_CARD)

    def _raw(self, apdu: bytes) -> tuple[bytes, int]:
        hr, resp = sc.SCardTransmit(self.handle, self.protocol, list(apdu))
        if hr != sc.SCARD_S_SUCCESS:
            raise _TransmitFailed(hr, _pcsc(hr))
        if len(resp) < 2:
            raise _TransmitFailed(
                hr, f"{apdu[:4].hex()}: {len(resp)}-byte response, no status word"
            )
        return bytes(resp[:-2]), resp[-2] << 8 | resp[-1]

    def exchange(self, apdu: bytes) -> tuple[bytes, int]:
        data, sw = self._raw(apdu)
        if sw >> 8 == 0x6C:
            # T=0 cards refuse an Le that is not the record's length and tell us the right one.
            data, sw = self._raw(apdu[:-1] + bytes([sw & 0xFF]))
        out = bytearray(data)
        for _ in range(64):  # bounded: a faulty card must not keep us here forever
            if sw >> 8 != 0x61:
                break
            # T=0 cannot return data for a command that also sends data; it is fetched separately.
            data, sw = self._raw(bytes([0x00, 0xC0, 0x00, 0x00, sw & 0xFF]))
            out += data
        return bytes(out), sw


class _TransmitFailed(Exception):
    def __init__(self, hresult: int, detail: str):
        super().__init__(detail)
        self.hresult = hresult


def _present(state: int) -> bool:
    return bool(state & sc.SCARD_STATE_PRESENT)


def _tlv_value(data: bytes, tag: int, what: str) -> bytes:
    if len(data) < 2 or data[0] != tag or data[1] > len(data) - 2:
        raise _error("bad_data", f"{what}: record {tag:02X} is not tag-length-value: {data.hex()}")
    return data[2 : 2 + data[1]]


def _text(value: bytes, what: str, encoding: str) -> str:
    # Fixed-width fields: numeric ones are padded with F (0xFF bytes), text ones with 00.
    try:
        return value.rstrip(b"\x00\xff").decode(encoding).strip()
    except UnicodeDecodeError:
        raise _error("bad_data", f"{what} is not {encoding}: {value.hex()}") from None


class SocialSecurityReader:
    """Reads a social security card in `reader_name`, or in whichever reader holds a card."""

    def __init__(self, reader_name: str | None = None):
        self.reader_name = reader_name
        self._watcher: _Watcher | None = None

    def readers(self) -> list[str]:
        with _Context() as ctx:
            return ctx.readers()

    def card_present(self) -> bool:
        with _Context() as ctx:
            names = self._names(ctx)
            hr, states = sc.SCardGetStatusChange(
                ctx.handle, 0, [(n, sc.SCARD_STATE_UNAWARE) for n in names]
            )
            if hr != sc.SCARD_S_SUCCESS:
                raise _error("no_reader", _pcsc(hr))
            return any(_present(state) for _, state, _ in states)

    def read(self, timeout: float = 0.0) -> SSCard:
        """Read the card, waiting up to `timeout` seconds for one to be inserted."""
        with _Context() as ctx:
            reader = self._wait_for_card(ctx, timeout)
            card = _Card(ctx, reader)
            try:
                return self._read(card)
            except _TransmitFailed as e:
                raise self._why_failed(ctx, reader, e) from None
            finally:
                card.close()

    def watch(
        self,
        on_inserted: Callable[[str], None],
        on_removed: Callable[[str], None],
        poll: float = 0.5,
    ) -> None:
        """Call on_inserted(reader) / on_removed(reader) from a background thread until stop().

        A card already in the reader when watching starts is reported as inserted.
        """
        if self._watcher is not None:
            raise RuntimeError("already watching")
        self._watcher = _Watcher(self.reader_name, on_inserted, on_removed, poll)
        self._watcher.start()

    def stop(self) -> None:
        watcher, self._watcher = self._watcher, None
        if watcher is not None:
            watcher.stop()

    def _names(self, ctx: _Context) -> list[str]:
        names = ctx.readers()
        if self.reader_name is not None:
            names = [n for n in names if n == self.reader_name]
        if not names:
            raise _error(
                "no_reader",
                f"reader {self.reader_name!r} not found"
                if self.reader_name
                else "pcscd lists no reader",
            )
        return names

    def _wait_for_card(self, ctx: _Context, timeout: float) -> str:
        names = self._names(ctx)
        states = [(n, sc.SCARD_STATE_UNAWARE) for n in names]
        deadline = time.monotonic() + timeout
        wait_ms = 0  # the first call only asks how things are now
        while True:
            hr, result = sc.SCardGetStatusChange(ctx.handle, wait_ms, states)
            if hr == sc.SCARD_E_TIMEOUT:
                raise _error("no_card", f"waited {timeout:g} s")
            if hr != sc.SCARD_S_SUCCESS:
                raise _error("no_reader", _pcsc(hr))
            mute = False
            for name, state, _atr in result:
                if state & (sc.SCARD_STATE_UNKNOWN | sc.SCARD_STATE_UNAVAILABLE):
                    raise _error("no_reader", f"reader {name!r} went away")
                if _present(state) and not state & sc.SCARD_STATE_MUTE:
                    return name
                mute = mute or (_present(state) and bool(state & sc.SCARD_STATE_MUTE))
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                # A card that gives no ATR is most often one inserted the wrong way round.
                raise _error("card_error", "card gives no ATR") if mute else _error("no_card")
            states = [(name, state) for name, state, _ in result]
            wait_ms = max(1, int(remaining * 1000))

    def _why_failed(self, ctx: _Context, reader: str, failure: _TransmitFailed) -> SSCardError:
        if failure.hresult in _CARD_GONE:
            return _error("card_removed", str(failure))
        # A pulled card first looks like a broken exchange; pcscd notices the empty slot only at
        # its next presence poll, so give it a moment before calling the card faulty.
        hr, result = sc.SCardGetStatusChange(ctx.handle, 0, [(reader, sc.SCARD_STATE_UNAWARE)])
        deadline = time.monotonic() + 1.5
        while hr == sc.SCARD_S_SUCCESS and _present(result[0][1]):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return _error("card_error", str(failure))
            hr, result = sc.SCardGetStatusChange(
                ctx.handle, int(remaining * 1000), [(reader, result[0][1])]
            )
        if hr == sc.SCARD_E_TIMEOUT:
            return _error("card_error", str(failure))
        if hr != sc.SCARD_S_SUCCESS:
            return _error("no_reader", _pcsc(hr))
        return _error("card_removed", str(failure))

    def _read(self, card: _Card) -> SSCard:
        _, sw = card.exchange(SELECT_SSSE)
        if sw in _APP_BLOCKED_SW:
            raise _error("locked", f"SELECT SSSE: SW {sw:04X}")
        if sw != SW_OK:
            raise _error("not_sscard", f"SELECT SSSE: SW {sw:04X}")

        # Some issuers' COS ignore the SFI in READ RECORD unless the EF is also selected.
        self._select_ef(card, SELECT_EF05, "EF05")
        card_number = _text(
            self._record(card, READ_CARD_NUMBER, "card number"), "card number", "ascii"
        )
        self._select_ef(card, SELECT_EF06, "EF06")
        id_number = _text(
            self._record(card, READ_ID_NUMBER, "ID number"), "ID number", "ascii"
        ).upper()
        name = _text(self._record(card, READ_NAME, "name"), "name", "gbk")

        if not card_number.isalnum():
            raise _error("bad_data", f"card number {card_number!r}")
        if not valid_id_number(id_number):
            raise _error(
                "bad_data", f"ID number {mask_id_number(id_number)} fails its check digit or date"
            )
        if not name:
            raise _error("bad_data", "empty name")
        return SSCard(card_number=card_number, id_number=id_number, name=name)

    @staticmethod
    def _select_ef(card: _Card, apdu: bytes, what: str) -> None:
        _, sw = card.exchange(apdu)
        if sw in _LOCKED_SW:
            raise _error("locked", f"SELECT {what}: SW {sw:04X}")
        if sw != SW_OK:
            raise _error("bad_data", f"SELECT {what}: SW {sw:04X}")

    @staticmethod
    def _record(card: _Card, apdu: bytes, what: str) -> bytes:
        data, sw = card.exchange(apdu)
        if sw in _LOCKED_SW:
            raise _error("locked", f"READ RECORD {what}: SW {sw:04X}")
        if sw in (0x6A82, 0x6A83):
            raise _error("bad_data", f"READ RECORD {what}: SW {sw:04X}")
        if sw != SW_OK:
            raise _error("card_error", f"READ RECORD {what}: SW {sw:04X}")
        return _tlv_value(data, apdu[2], what)


class _Watcher:
    """A thread on its own PC/SC context, blocked in SCardGetStatusChange; stop() cancels it."""

    def __init__(
        self,
        reader_name: str | None,
        on_inserted: Callable[[str], None],
        on_removed: Callable[[str], None],
        poll: float,
    ):
        self.reader_name = reader_name
        self.on_inserted = on_inserted
        self.on_removed = on_removed
        self.poll = poll
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._ctx: int | None = None
        self._thread = threading.Thread(target=self._run, name="sscard-watch", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        with self._lock:
            if self._ctx is not None:
                sc.SCardCancel(self._ctx)
        self._thread.join(5)

    def _fire(self, callback: Callable[[str], None], reader: str) -> None:
        try:
            callback(reader)
        except Exception:  # a broken callback must not end card watching for the kiosk
            log.exception("card event callback failed for %s", reader)

    def _run(self) -> None:
        # reader -> last event state; the upper 16 bits count card events, so a card pulled and
        # reinserted between two polls still shows up as a removal plus an insertion.
        known: dict[str, int] = {}
        try:
            while not self._stop.is_set():
                if self._ctx is None and not self._connect():
                    self._stop.wait(self.poll)
                    continue
                hr, names = sc.SCardListReaders(self._ctx, [])
                if hr not in (sc.SCARD_S_SUCCESS, sc.SCARD_E_NO_READERS_AVAILABLE):
                    self._lost(known)  # pcscd went away: every card is gone with it
                    continue
                names = [n for n in (names or []) if self.reader_name in (None, n)]
                for gone in [n for n in known if n not in names]:
                    if _present(known.pop(gone)):
                        self._fire(self.on_removed, gone)
                if not names:
                    self._stop.wait(self.poll)
                    continue
                states = [(n, known.get(n, sc.SCARD_STATE_UNAWARE)) for n in names]
                hr, result = sc.SCardGetStatusChange(self._ctx, int(self.poll * 1000), states)
                if hr in (sc.SCARD_E_TIMEOUT, sc.SCARD_E_CANCELLED):
                    continue
                if hr != sc.SCARD_S_SUCCESS:
                    self._lost(known)
                    continue
                for name, state, _atr in result:
                    before = known.get(name)
                    known[name] = state & ~sc.SCARD_STATE_CHANGED
                    was_in = before is not None and _present(before)
                    is_in = _present(state)
                    missed = was_in and is_in and (before >> 16) != (state >> 16)
                    if was_in and (not is_in or missed):
                        self._fire(self.on_removed, name)
                    if is_in and (not was_in or missed):
                        self._fire(self.on_inserted, name)
        finally:
            self._release()

    def _connect(self) -> bool:
        hr, ctx = sc.SCardEstablishContext(sc.SCARD_SCOPE_USER)
        if hr != sc.SCARD_S_SUCCESS:
            return False
        with self._lock:
            self._ctx = ctx
        if self._stop.is_set():  # stop() came before there was a context to cancel
            return False
        return True

    def _lost(self, known: dict[str, int]) -> None:
        for name, state in known.items():
            if _present(state):
                self._fire(self.on_removed, name)
        known.clear()
        self._release()
        self._stop.wait(self.poll)

    def _release(self) -> None:
        with self._lock:
            ctx, self._ctx = self._ctx, None
        if ctx is not None:
            sc.SCardReleaseContext(ctx)
