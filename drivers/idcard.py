"""Resident ID card reader (SAM module behind a serial line): the driver, the transport half.

The protocol (frames, status words, the card's text block) is pure and lives in
drivers/idcard_protocol.py, shared with the simulator and the tests; its names are imported
from here too. Only `IdCardReader` touches the line. A card read holds personal data: this
module logs what it did (found, read, retried), never names or numbers, and the photo stays in
memory.
"""

from __future__ import annotations

import logging
import time

from drivers.idcard_protocol import (
    CARD_GONE,
    CARD_RETRY,
    CARD_TYPE_AT,
    FIND_CARD,
    FOREIGN_CARD_TYPE,
    FOREIGN_LAYOUT,
    HEADER_LEN,
    LONG_TERM,
    MAX_LEN,
    NATIONS,
    OWN_MESSAGES,
    PHOTO_LEN,
    PREAMBLE,
    READ_NEW_ADDRESS,
    READ_TEXT_PHOTO,
    READ_TEXT_PHOTO_FP,
    RESET_SAM,
    RESIDENT_LAYOUT,
    SAM_ID,
    SAM_STATUS,
    SELECT_CARD,
    SEXES,
    SW_CARD_FOUND,
    SW_EMPTY,
    SW_MESSAGES,
    SW_OK,
    TEXT_LEN,
    TRANSPORT_RETRY,
    FrameAssembler,
    FrameError,
    IdCardError,
    IdCardInfo,
    ModuleFrame,
    build_frame,
    build_reply,
    card_type,
    frame_ok,
    parse_command,
    parse_new_address,
    parse_read_data,
    parse_reply,
    parse_text_block,
    xor,
)
from drivers.serialport import SerialLink, SerialLinkError

log = logging.getLogger(__name__)

# the protocol's names, imported from here by the apps, the simulator's users and the tests
__all__ = [
    "PREAMBLE",
    "HEADER_LEN",
    "MAX_LEN",
    "RESET_SAM",
    "SAM_STATUS",
    "SAM_ID",
    "FIND_CARD",
    "SELECT_CARD",
    "READ_TEXT_PHOTO",
    "READ_TEXT_PHOTO_FP",
    "READ_NEW_ADDRESS",
    "SW_OK",
    "SW_CARD_FOUND",
    "SW_EMPTY",
    "TEXT_LEN",
    "PHOTO_LEN",
    "NATIONS",
    "SEXES",
    "RESIDENT_LAYOUT",
    "FOREIGN_LAYOUT",
    "CARD_TYPE_AT",
    "FOREIGN_CARD_TYPE",
    "LONG_TERM",
    "SW_MESSAGES",
    "OWN_MESSAGES",
    "TRANSPORT_RETRY",
    "CARD_RETRY",
    "CARD_GONE",
    "IdCardError",
    "FrameError",
    "xor",
    "build_frame",
    "build_reply",
    "frame_ok",
    "ModuleFrame",
    "parse_reply",
    "parse_command",
    "FrameAssembler",
    "IdCardInfo",
    "card_type",
    "parse_text_block",
    "parse_new_address",
    "parse_read_data",
    "IdCardReader",
]


# --- driver -------------------------------------------------------------------------------


class IdCardReader:
    """The ID card reader on a serial port.

    `read_card()` is what a kiosk calls: IdCardInfo, or IdCardError whose message_zh can be
    shown as it is. A pulled cable gives code "offline"; the next call reopens the port.
    """

    def __init__(
        self,
        port: str,
        baudrate: int = 115200,
        *,
        timeout: float = 0.5,
        read_timeout: float = 3.0,
        attempts: int = 3,
    ):
        self._link = SerialLink(port, baudrate, timeout=timeout, name="ID card reader")
        self.timeout = timeout
        self.read_timeout = read_timeout  # the module reads the card (~1 s) before it answers
        self.attempts = attempts

    def close(self) -> None:
        self._link.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    @property
    def state(self):
        return self._link.state

    # one exchange -------------------------------------------------------------------------

    def _exchange(self, command: tuple[int, int], timeout: float) -> ModuleFrame:
        asm = FrameAssembler()
        try:
            self._discard_input()
            self._link.write(build_frame(*command))
            deadline = time.monotonic() + timeout
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise IdCardError.own("timeout")
                for raw in asm.feed(self._link.read(asm.missing(), timeout=left)):
                    try:
                        return parse_reply(raw)
                    except FrameError:
                        raise IdCardError.own("corrupt") from None
        except SerialLinkError as exc:
            raise IdCardError.own("offline") from exc

    def _discard_input(self) -> None:
        """Drop a late or partial answer to an earlier try, so it is not taken for this one."""
        self._link.discard_input()

    def _command(
        self, command: tuple[int, int], ok: int, timeout: float | None = None
    ) -> ModuleFrame:
        """Send until an answer arrives intact; IdCardError for any status but `ok`."""
        for attempt in range(1, self.attempts + 1):
            try:
                reply = self._exchange(command, timeout or self.timeout)
                if reply.sw3 != ok:
                    raise IdCardError.from_status(reply.sw3)
                return reply
            except IdCardError as exc:
                if exc.code not in TRANSPORT_RETRY or attempt == self.attempts:
                    raise
                log.info(
                    "ID card reader: command %02X %02X gave %s, sending again",
                    command[0],
                    command[1],
                    exc.code,
                )
        raise AssertionError("unreachable")

    # commands -----------------------------------------------------------------------------

    def sam_status(self) -> None:
        self._command(SAM_STATUS, SW_OK)

    def find(self) -> None:
        self._command(FIND_CARD, SW_CARD_FOUND)

    def select(self) -> None:
        self._command(SELECT_CARD, SW_OK)

    def read(self) -> IdCardInfo:
        reply = self._command(READ_TEXT_PHOTO, SW_OK, self.read_timeout)
        text, photo = parse_read_data(reply.data)
        info = parse_text_block(text, photo)
        log.info("ID card read (%s)", "foreign permanent resident" if info.foreign else "resident")
        return info

    def read_new_address(self) -> str | None:
        """The address added after issue (住址变更), or None when there is none."""
        try:
            reply = self._command(READ_NEW_ADDRESS, SW_OK, self.read_timeout)
        except IdCardError as exc:
            if exc.code == f"{SW_EMPTY:02X}":
                return None
            raise
        return parse_new_address(reply.data)

    def read_card(self) -> IdCardInfo:
        """Find, select and read, trying again while the card settles; IdCardError otherwise."""
        seen = False
        last: IdCardError | None = None
        for attempt in range(1, self.attempts + 1):
            try:
                try:
                    self.find()
                except IdCardError as exc:
                    # A card that was found before stays silent to "find" until it leaves the
                    # field, so a card still lying there is only reachable by "select".
                    if exc.code != "80":
                        raise
                    try:
                        self.select()
                    except IdCardError:
                        raise exc from None
                else:
                    self.select()
                seen = True
                return self.read()
            except IdCardError as exc:
                # before any card answered, "no card" and a silent reader are final answers
                if exc.code not in CARD_RETRY or (
                    not seen and exc.code in TRANSPORT_RETRY | {"80"}
                ):
                    raise
                last = exc
                log.info("ID card read attempt %d failed (%s)", attempt, exc.code)
        if seen and last.code in CARD_GONE:
            raise IdCardError.own("card_moved") from last
        raise last
