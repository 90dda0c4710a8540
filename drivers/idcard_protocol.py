"""The resident ID card reader's protocol (SAM module, GB/T 35569 style frames): commands and
replies as bytes, the module's status words as errors in words, the card's text block as
IdCardInfo. Pure: no serial line here (drivers/idcard.py is the transport, drivers/idcard_sim.py
answers the same frames), so the driver, its simulator and the tests share it.
"""

from __future__ import annotations

import logging
import re
import struct
from dataclasses import dataclass, field
from datetime import date

from drivers.cardtext import clean_text
from onewindow.domain.identity import mask_id_number, mask_name, valid_id_number

log = logging.getLogger("drivers.idcard")  # one log for the reader, whichever half speaks


PREAMBLE = b"\xaa\xaa\xaa\x96\x69"
HEADER_LEN = len(PREAMBLE) + 2  # preamble + LEN_H LEN_L
MAX_LEN = 0x1000  # longest reply (text+photo+fingerprint) is < 2.4 KB

# (CMD, PARA)
RESET_SAM = (0x10, 0xFF)
SAM_STATUS = (0x11, 0xFF)
SAM_ID = (0x12, 0xFF)
FIND_CARD = (0x20, 0x01)
SELECT_CARD = (0x20, 0x02)
READ_TEXT_PHOTO = (0x30, 0x01)
READ_TEXT_PHOTO_FP = (0x30, 0x10)
READ_NEW_ADDRESS = (0x30, 0x03)

SW_OK = 0x90
SW_CARD_FOUND = 0x9F
SW_EMPTY = 0x91

TEXT_LEN = 256
PHOTO_LEN = 1024

# GB 3304 nation codes; the card stores the two-digit code, people expect the name.
NATIONS = {
    f"{i:02d}": n
    for i, n in enumerate(
        (
            "汉",
            "蒙古",
            "回",
            "藏",
            "维吾尔",
            "苗",
            "彝",
            "壮",
            "布依",
            "朝鲜",
            "满",
            "侗",
            "瑶",
            "白",
            "土家",
            "哈尼",
            "哈萨克",
            "傣",
            "黎",
            "傈僳",
            "佤",
            "畲",
            "高山",
            "拉祜",
            "水",
            "东乡",
            "纳西",
            "景颇",
            "柯尔克孜",
            "土",
            "达斡尔",
            "仫佬",
            "羌",
            "布朗",
            "撒拉",
            "毛南",
            "仡佬",
            "锡伯",
            "阿昌",
            "普米",
            "塔吉克",
            "怒",
            "乌孜别克",
            "俄罗斯",
            "鄂温克",
            "德昂",
            "保安",
            "裕固",
            "京",
            "塔塔尔",
            "独龙",
            "鄂伦春",
            "赫哲",
            "门巴",
            "珞巴",
            "基诺",
        ),
        start=1,
    )
}
assert len(NATIONS) == 56

SEXES = {"1": "男", "2": "女", "0": "未知", "9": "未说明"}

# Text block layouts: field -> (offset, length) in bytes of UTF-16LE.
RESIDENT_LAYOUT = {
    "name": (0, 30),
    "sex": (30, 2),
    "nation": (32, 4),
    "birth": (36, 16),
    "address": (52, 70),
    "id_number": (122, 36),
    "authority": (158, 30),
    "valid_from": (188, 16),
    "valid_to": (204, 16),
    "reserved": (220, 36),
}
# Foreign permanent resident card (2017 format). UNVERIFIED: taken from open-source reader
# code, not from a GA standard or a real card; kept in this one table so it can be corrected.
FOREIGN_LAYOUT = {
    "english_name": (0, 120),
    "sex": (120, 2),
    "id_number": (122, 30),
    "nationality": (152, 6),
    "name": (158, 30),
    "valid_from": (188, 16),
    "valid_to": (204, 16),
    "birth": (220, 16),
    "version": (236, 4),
    "authority": (240, 8),
    "card_type": (248, 2),
    "reserved": (250, 6),
}
CARD_TYPE_AT = (248, 2)
FOREIGN_CARD_TYPE = "I"
LONG_TERM = "长期"
# Numbers, dates and codes: ASCII only (\d and str.isdigit() would take ١٢٣ or full-width １２３)
_RESIDENT_ID = re.compile(r"[0-9]{17}[0-9X]")
_OLD_FOREIGN_ID = re.compile(r"[A-Z]{3}[0-9]{12}")
_DATE = re.compile(r"[0-9]{8}")
_NATION = re.compile(r"[0-9]{2}")
_NATIONALITY = re.compile(r"[A-Z]{3}")


# --- errors -------------------------------------------------------------------------------

_AGAIN = "请重新放置身份证"
_STAFF = "请联系工作人员"

# SW3 -> (Chinese for the citizen at the kiosk, English for the log and the staff)
SW_MESSAGES: dict[int, tuple[str, str]] = {
    0x10: ("读卡器通信出错，请稍后再试", "module reports a checksum error in the command"),
    0x11: ("读卡器通信出错，请稍后再试", "module reports a length error in the command"),
    0x21: ("读卡器不支持此操作，" + _STAFF, "module does not know the command"),
    0x23: ("读卡器暂不能操作，" + _STAFF, "command not permitted"),
    0x24: ("读卡器出现未知错误，" + _STAFF, "unknown module error"),
    0x31: ("身份证认证失败，" + _AGAIN, "card failed to authenticate the reader"),
    0x32: ("身份证认证失败，" + _AGAIN, "reader failed to authenticate the card"),
    0x33: ("身份证信息验证失败，" + _AGAIN, "card data verification failed"),
    0x40: ("无法识别此证件，请放置居民身份证", "unknown card type"),
    0x41: ("读卡失败，" + _AGAIN + "，读完前不要移开", "card read failed"),
    0x47: ("读卡失败，" + _AGAIN, "random number failed"),
    0x60: ("读卡器自检失败，" + _STAFF, "SAM self-test failed"),
    0x66: ("读卡器未授权，" + _STAFF, "SAM not authorised"),
    0x80: ("请将身份证放到读卡区", "no card on the reader"),
    0x81: ("读卡失败，请将身份证平放在读卡区", "card select failed"),
    0x91: ("此证件没有该项信息", "field empty"),
}
# The driver's own conditions, by code.
OWN_MESSAGES: dict[str, tuple[str, str]] = {
    "offline": ("读卡器未连接，" + _STAFF, "card reader offline (port unavailable)"),
    "timeout": ("读卡器没有响应，请稍后再试", "no complete reply from the card reader"),
    "corrupt": ("读卡器通信出错，请稍后再试", "reply failed its checksum"),
    "card_moved": (
        "读卡未完成，请重新放置身份证，读完前不要移开",
        "card was taken away or moved during the read",
    ),
    "bad_id": ("无法核验此身份证号码，请到人工窗口办理", "ID number fails its check digit"),
    "bad_data": ("无法读取此身份证信息，请到人工窗口办理", "card text block is malformed"),
}
# Worth another go: noise on the line or a card not yet lying still.
TRANSPORT_RETRY = {"timeout", "corrupt", "10", "11"}
CARD_RETRY = TRANSPORT_RETRY | {"31", "32", "33", "41", "47", "80", "81"}
# After a card answered, these mean it has left the field or was moved.
CARD_GONE = {"timeout", "41", "80", "81"}


class IdCardError(Exception):
    """A reason to show the citizen (message_zh) and to log (message_en); never personal data."""

    def __init__(self, code: str, message_zh: str, message_en: str):
        super().__init__(f"{code}: {message_en}")
        self.code = code
        self.message_zh = message_zh
        self.message_en = message_en

    @classmethod
    def from_status(cls, sw3: int) -> "IdCardError":
        zh, en = SW_MESSAGES.get(
            sw3, ("读卡器出现未知错误，" + _STAFF, f"unexpected status 0x{sw3:02X}")
        )
        return cls(f"{sw3:02X}", zh, en)

    @classmethod
    def own(cls, code: str) -> "IdCardError":
        return cls(code, *OWN_MESSAGES[code])

    @classmethod
    def bad_field(cls, code: str, name: str, problem: str) -> "IdCardError":
        """bad_data or bad_id naming the field and what is wrong with it, never what it holds."""
        return cls(code, OWN_MESSAGES[code][0], f"card field {name} {problem}")


class FrameError(ValueError):
    """A frame that cannot be trusted (checksum, length)."""


# --- frames -------------------------------------------------------------------------------


def xor(data: bytes) -> int:
    x = 0
    for b in data:
        x ^= b
    return x


def _envelope(body: bytes) -> bytes:
    """PREAMBLE | LEN | body | CHK, where LEN counts body + CHK and CHK covers LEN..body."""
    head = struct.pack(">H", len(body) + 1)
    return PREAMBLE + head + body + bytes([xor(head + body)])


def build_frame(cmd: int, para: int, data: bytes = b"") -> bytes:
    """A host command frame."""
    return _envelope(bytes([cmd, para]) + data)


def build_reply(sw3: int, data: bytes = b"", sw1: int = 0x00, sw2: int = 0x00) -> bytes:
    """A module reply frame (used by the simulator and tests)."""
    return _envelope(bytes([sw1, sw2, sw3]) + data)


def frame_ok(raw: bytes) -> bool:
    return (
        len(raw) >= HEADER_LEN + 1
        and raw.startswith(PREAMBLE)
        and struct.unpack(">H", raw[5:7])[0] == len(raw) - HEADER_LEN
        and xor(raw[5:-1]) == raw[-1]
    )


@dataclass(frozen=True)
class ModuleFrame:
    sw1: int
    sw2: int
    sw3: int
    data: bytes = field(repr=False)


def parse_reply(raw: bytes) -> ModuleFrame:
    if not frame_ok(raw) or len(raw) < HEADER_LEN + 4:
        raise FrameError("bad module frame")
    return ModuleFrame(raw[7], raw[8], raw[9], bytes(raw[10:-1]))


def parse_command(raw: bytes) -> tuple[int, int, bytes]:
    """(CMD, PARA, DATA) of a host frame."""
    if not frame_ok(raw) or len(raw) < HEADER_LEN + 3:
        raise FrameError("bad host frame")
    return raw[7], raw[8], bytes(raw[9:-1])


class FrameAssembler:
    """Cuts whole frames out of a byte stream.

    Bytes before a preamble are dropped, and a preamble with an impossible LEN is taken for
    noise, so the stream resynchronises by itself. Checksums are left to the caller, who
    knows whether to retry or to answer "checksum error".
    """

    def __init__(self, max_len: int = MAX_LEN):
        self.max_len = max_len
        self._buf = bytearray()

    def clear(self) -> None:
        self._buf.clear()

    def feed(self, data: bytes) -> list[bytes]:
        self._buf += data
        frames: list[bytes] = []
        while True:
            start = self._buf.find(PREAMBLE)
            if start < 0:
                # keep a tail that may be the start of a preamble split across reads
                del self._buf[: max(0, len(self._buf) - (len(PREAMBLE) - 1))]
                return frames
            del self._buf[:start]
            if len(self._buf) < HEADER_LEN:
                return frames
            length = struct.unpack(">H", self._buf[5:7])[0]
            if not 3 <= length <= self.max_len:
                del self._buf[:1]
                continue
            if len(self._buf) < HEADER_LEN + length:
                return frames
            frames.append(bytes(self._buf[: HEADER_LEN + length]))
            del self._buf[: HEADER_LEN + length]

    def missing(self) -> int:
        """Bytes still needed before the frame being assembled can be complete (at least 1)."""
        start = self._buf.find(PREAMBLE)
        if start < 0 or len(self._buf) - start < HEADER_LEN:
            have = 0 if start < 0 else len(self._buf) - start
            return HEADER_LEN - have
        length = struct.unpack(">H", self._buf[start + 5 : start + 7])[0]
        return max(1, HEADER_LEN + length - (len(self._buf) - start))


# --- card data ----------------------------------------------------------------------------


@dataclass(repr=False)
class IdCardInfo:
    name: str
    sex: str
    nation: str
    birth: date
    address: str
    id_number: str
    authority: str
    valid_from: date
    valid_to: date | None  # None: 长期 (no expiry)
    foreign: bool = False
    english_name: str = ""
    nationality: str = ""  # ISO 3166 alpha-3, foreign cards only
    photo: bytes = field(default=b"", compare=False)

    def masked(self) -> dict:
        """What may appear on a screen, a ticket or in a log: no address, no birth date."""
        return {
            "name": mask_name(self.name or self.english_name),
            "sex": self.sex,
            "nation": self.nation,
            "id_number": mask_id_number(self.id_number),
            "valid_to": self.valid_to.isoformat() if self.valid_to else LONG_TERM,
            "foreign": self.foreign,
        }

    def __repr__(self) -> str:
        # an IdCardInfo that reaches a log line or a traceback must not leak the citizen
        return f"IdCardInfo({self.masked()})"


class _Block:
    """A text block read field by field: names and addresses cleaned, numbers and dates ASCII only."""

    def __init__(self, text: bytes, layout: dict):
        self.text, self.layout = text, layout

    def raw(self, name: str) -> str:
        off, size = self.layout[name]
        try:
            return self.text[off : off + size].decode("utf-16-le").replace("\x00", " ")
        except UnicodeDecodeError:  # a lone surrogate: no genuine card writes one
            raise IdCardError.bad_field("bad_data", name, "is not UTF-16 text") from None

    def words(self, name: str) -> str:
        raw = self.raw(name)
        text = clean_text(raw)
        if text != raw.strip():
            log.warning("ID card: control, escape or bidi characters removed from the %s", name)
        return text

    def code(self, name: str, pattern: re.Pattern, what: str) -> str:
        value = self.raw(name).strip(" ")
        if not pattern.fullmatch(value):
            raise IdCardError.bad_field("bad_data", name, f"is not {what}")
        return value

    def calendar_date(self, name: str) -> date:
        value = self.code(name, _DATE, "a date of 8 ASCII digits (YYYYMMDD)")
        try:
            return date(int(value[:4]), int(value[4:6]), int(value[6:]))
        except ValueError:
            raise IdCardError.bad_field("bad_data", name, "is not a calendar date") from None

    def valid_to(self) -> date | None:
        return (
            None if self.raw("valid_to").strip(" ") == LONG_TERM else self.calendar_date("valid_to")
        )

    def sex(self) -> str:
        value = self.raw("sex").strip(" ")
        if value not in SEXES:
            raise IdCardError.bad_field(
                "bad_data", "sex", f"is not one of the codes {'/'.join(SEXES)}"
            )
        return SEXES[value]

    def id_number(self, foreign: bool) -> str:
        value = self.raw("id_number").strip(" ")
        # ASCII checked before upper(): "ﬀ".upper() is "FF" and "ſ".upper() is "S"
        number = value.upper() if value.isascii() else ""
        if _RESIDENT_ID.fullmatch(number):
            if not valid_id_number(number):
                raise IdCardError.own("bad_id")
            return number
        # 2017 foreign cards carry 3 letters + 12 digits with no GB 11643 check digit (unverified).
        # The 2023 card (18 digits, MOD 11-2) has another layout and card type, not handled here.
        if foreign and _OLD_FOREIGN_ID.fullmatch(number):
            return number
        raise IdCardError.bad_field(
            "bad_id",
            "id_number",
            "is not 17 ASCII digits and a check digit"
            + (", nor 3 letters and 12 digits" if foreign else ""),
        )


def card_type(text: bytes) -> str:
    off, size = CARD_TYPE_AT
    return text[off : off + size].decode("utf-16-le", errors="replace").strip()


def parse_text_block(text: bytes, photo: bytes = b"") -> IdCardInfo:
    """The 256-byte UTF-16LE block -> IdCardInfo; IdCardError bad_data / bad_id when it cannot be trusted.

    Whatever the bytes, the only exception is IdCardError, and its message names the field.
    """
    if len(text) < TEXT_LEN:
        raise IdCardError.own("bad_data")
    if card_type(text) == FOREIGN_CARD_TYPE:
        b = _Block(text, FOREIGN_LAYOUT)
        info = IdCardInfo(
            name=b.words("name"),
            sex=b.sex(),
            nation="",
            birth=b.calendar_date("birth"),
            address="",
            id_number=b.id_number(foreign=True),
            authority=b.words("authority"),
            valid_from=b.calendar_date("valid_from"),
            valid_to=b.valid_to(),
            foreign=True,
            english_name=b.words("english_name"),
            nationality=b.code("nationality", _NATIONALITY, "3 ASCII capital letters"),
            photo=photo,
        )
    else:
        b = _Block(text, RESIDENT_LAYOUT)
        info = IdCardInfo(
            name=b.words("name"),
            sex=b.sex(),
            nation=NATIONS.get(b.code("nation", _NATION, "a nation code of 2 ASCII digits"), ""),
            birth=b.calendar_date("birth"),
            address=b.words("address"),
            id_number=b.id_number(foreign=False),
            authority=b.words("authority"),
            valid_from=b.calendar_date("valid_from"),
            valid_to=b.valid_to(),
            photo=photo,
        )
    if not (info.name or info.english_name):
        raise IdCardError.bad_field(
            "bad_data", "name", "is empty once control characters are removed"
        )
    return info


def parse_read_data(data: bytes) -> tuple[bytes, bytes]:
    """DATA of a `30 01` reply -> (text block, photo)."""
    if len(data) < 4:
        raise IdCardError.own("bad_data")
    text_len, photo_len = struct.unpack(">HH", data[:4])
    if len(data) < 4 + text_len + photo_len:
        raise IdCardError.own("bad_data")
    return data[4 : 4 + text_len], data[4 + text_len : 4 + text_len + photo_len]


def parse_new_address(data: bytes) -> str | None:
    """DATA of a `30 03` reply -> the address added after issue (住址变更), None when empty."""
    return _Block(data, {"new_address": (0, len(data))}).words("new_address") or None
