"""A SAM ID card module in software, for a pty (drivers.ptysim.PtyDevice) or direct calls.

It speaks the same frames as the real module, checks the host's checksums, keeps one card (or
none) on its reading area, and can be told to misbehave once so the driver's recovery is tested
through a real tty. The card data is made up; nothing here is a real person.
"""

from __future__ import annotations

import threading
from datetime import date

from drivers.idcard_protocol import (
    FIND_CARD,
    FOREIGN_CARD_TYPE,
    FOREIGN_LAYOUT,
    PHOTO_LEN,
    READ_NEW_ADDRESS,
    READ_TEXT_PHOTO,
    RESET_SAM,
    RESIDENT_LAYOUT,
    SAM_ID,
    SAM_STATUS,
    SELECT_CARD,
    SW_CARD_FOUND,
    SW_EMPTY,
    SW_OK,
    TEXT_LEN,
    FrameAssembler,
    build_reply,
    frame_ok,
    parse_command,
)

SW_CHECKSUM, SW_BAD_COMMAND, SW_READ_FAILED, SW_NO_CARD, SW_SELECT_FAILED = (
    0x10,
    0x21,
    0x41,
    0x80,
    0x81,
)

SAMPLE_PHOTO = bytes((i * 7) & 0xFF for i in range(PHOTO_LEN))  # stands in for a wlt image


def _fmt(value) -> str:
    if value is None:
        return "长期"
    if isinstance(value, date):
        return value.strftime("%Y%m%d")
    return str(value)


def _layout_block(layout: dict, values: dict) -> bytes:
    block = bytearray(" ".encode("utf-16-le") * (TEXT_LEN // 2))
    for name, value in values.items():
        off, size = layout[name]
        raw = _fmt(value).encode("utf-16-le")
        if len(raw) > size:
            raise ValueError(f"{name} does not fit in {size} bytes")
        block[off : off + len(raw)] = raw
    return bytes(block)


# Made-up holders; tests override single fields.
RESIDENT_SAMPLE = dict(
    name="张小三",
    sex="1",
    nation="01",
    birth=date(1990, 3, 7),
    address="甘肃省兰州市城关区示范路1号",
    id_number="620102199003070018",
    authority="兰州市公安局城关分局",
    valid_from=date(2015, 6, 1),
    valid_to=None,
)
FOREIGN_SAMPLE = dict(
    english_name="SMITH, JOHN",
    name="史密斯",
    sex="1",
    nationality="GBR",
    id_number="GBR110085030720",
    birth=date(1985, 3, 7),
    valid_from=date(2018, 1, 2),
    valid_to=date(2028, 1, 1),
    version="01",
    authority="1500",
)


def make_text_block(*, foreign: bool = False, **fields) -> bytes:
    """The 256-byte UTF-16LE text block from fields (dates as date or YYYYMMDD, valid_to=None for 长期).

    Missing fields come from RESIDENT_SAMPLE, or with foreign=True from FOREIGN_SAMPLE, whose
    block follows the (unverified) foreign permanent resident layout.
    """
    sample, layout = (
        (FOREIGN_SAMPLE, FOREIGN_LAYOUT) if foreign else (RESIDENT_SAMPLE, RESIDENT_LAYOUT)
    )
    unknown = set(fields) - set(sample)
    if unknown:
        raise TypeError(f"unknown card fields: {sorted(unknown)}")
    values = {**sample, **fields}
    if foreign:
        values["card_type"] = FOREIGN_CARD_TYPE
    return _layout_block(layout, values)


def make_foreign_text_block(**fields) -> bytes:
    return make_text_block(foreign=True, **fields)


class IdCardSimulator:
    """Answers host frames like a SAM module with an optional card on it."""

    def __init__(self):
        self._lock = threading.Lock()
        self._frames = FrameAssembler()
        self._text: bytes | None = None
        self._photo = b""
        self.commands: list[tuple[int, int]] = []  # what the host asked, for assertions
        # one-shot faults: command they hit (None = the next reply of any command) -> remaining
        self._corrupt: list[tuple[int, int] | None] = []
        self._truncate: list[tuple[int, int] | None] = []
        self._garbage: bytes = b""
        self._pull_on_read = False

    # the card -------------------------------------------------------------------------

    def insert(
        self, text_block: bytes | None = None, photo: bytes = SAMPLE_PHOTO, **fields
    ) -> None:
        """Lay a card down: a ready text block, or fields for make_text_block."""
        text = text_block if text_block is not None else make_text_block(**fields)
        if len(text) != TEXT_LEN or len(photo) != PHOTO_LEN:
            raise ValueError("text block must be 256 bytes and photo 1024")
        with self._lock:
            self._text, self._photo = text, photo

    def remove(self) -> None:
        with self._lock:
            self._text, self._photo = None, b""

    @property
    def has_card(self) -> bool:
        return self._text is not None

    # faults ---------------------------------------------------------------------------

    def corrupt_checksum_once(self, command: tuple[int, int] | None = None) -> None:
        with self._lock:
            self._corrupt.append(command)

    def truncate_reply_once(self, command: tuple[int, int] | None = None) -> None:
        with self._lock:
            self._truncate.append(command)

    def garbage_before_next_reply(self, noise: bytes = b"\x00\xaa\x96\x13") -> None:
        with self._lock:
            self._garbage = noise

    def pull_card_mid_read(self) -> None:
        """The next read fails (0x41) and the card is gone, as when it is lifted too early."""
        with self._lock:
            self._pull_on_read = True

    # the wire -------------------------------------------------------------------------

    def on_bytes(self, data: bytes) -> bytes:
        with self._lock:
            out = bytearray()
            for raw in self._frames.feed(data):
                out += self._answer(raw)
            return bytes(out)

    def _answer(self, raw: bytes) -> bytes:
        if not frame_ok(raw):
            return build_reply(SW_CHECKSUM)
        cmd, para, _ = parse_command(raw)
        command = (cmd, para)
        self.commands.append(command)
        reply = self._reply(command)
        if self._take(self._corrupt, command):
            reply = reply[:-1] + bytes([reply[-1] ^ 0xFF])
        if self._take(self._truncate, command):
            reply = reply[: len(reply) // 2]
        if self._garbage:
            reply, self._garbage = self._garbage + reply, b""
        return reply

    @staticmethod
    def _take(faults: list, command: tuple[int, int]) -> bool:
        for i, target in enumerate(faults):
            if target is None or target == command:
                del faults[i]
                return True
        return False

    def _reply(self, command: tuple[int, int]) -> bytes:
        if command in (RESET_SAM, SAM_STATUS):
            return build_reply(SW_OK)
        if command == SAM_ID:
            return build_reply(SW_OK, bytes(range(16)))
        if command == FIND_CARD:
            return build_reply(SW_CARD_FOUND, bytes(4)) if self._text else build_reply(SW_NO_CARD)
        if command == SELECT_CARD:
            return build_reply(SW_OK, bytes(8)) if self._text else build_reply(SW_SELECT_FAILED)
        if command == READ_TEXT_PHOTO:
            if self._pull_on_read:
                self._pull_on_read = False
                self._text, self._photo = None, b""
            if not self._text:
                return build_reply(SW_READ_FAILED)
            lengths = len(self._text).to_bytes(2, "big") + len(self._photo).to_bytes(2, "big")
            return build_reply(SW_OK, lengths + self._text + self._photo)
        if command == READ_NEW_ADDRESS:
            return build_reply(SW_EMPTY) if self._text else build_reply(SW_READ_FAILED)
        return build_reply(SW_BAD_COMMAND)
