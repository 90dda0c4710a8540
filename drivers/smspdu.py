"""SMS-SUBMIT PDUs (3GPP TS 23.040) in UCS-2, split into concatenated parts, and read back.

A hall's notices are Chinese, so every message goes as UCS-2 (data coding 0x08): 70 UTF-16
code units in one SMS, 67 per part once a message needs several (the 6-octet concatenation
header, IEI 0x00, takes the rest). A character outside the BMP (a rare name character) is a
surrogate pair and is never cut between two parts. No I/O here: the modem driver sends what
`submit_pdus` makes, the simulator reads it with `parse_submit`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

SINGLE_UNITS = 70  # UTF-16 code units in one UCS-2 SMS (140 octets)
PART_UNITS = 67  # ... in one part of a concatenated SMS (134 octets after the UDH)
MAX_PARTS = 255  # the UDH's part counter is one octet
DCS_UCS2 = 0x08
NUMBER = re.compile(r"\+?[0-9]{3,20}")


class PduError(ValueError):
    """A number or a text that cannot go in an SMS, or a PDU that is not one."""


def _semi_octets(digits: str) -> str:
    if len(digits) % 2:
        digits += "F"
    return "".join(digits[i + 1] + digits[i] for i in range(0, len(digits), 2))


def _address(number: str) -> str:
    """The destination: a mainland mobile (11 digits) goes international, +86."""
    number = number.replace(" ", "").replace("-", "")
    if not NUMBER.fullmatch(number):
        raise PduError("not a phone number")
    if number.startswith("+"):
        digits, kind = number[1:], 0x91
    elif len(number) == 11 and number.startswith("1"):
        digits, kind = "86" + number, 0x91
    else:
        digits, kind = number, 0x81
    return f"{len(digits):02X}{kind:02X}{_semi_octets(digits)}"


def split_units(text: str) -> list[bytes]:
    """The UCS-2 (UTF-16-BE) payloads, one per SMS; surrogate pairs kept whole."""
    data = text.encode("utf-16-be")
    if len(data) <= SINGLE_UNITS * 2:
        return [data]
    parts, i = [], 0
    while i < len(data):
        end = min(i + PART_UNITS * 2, len(data))
        if end < len(data) and 0xD8 <= data[end - 2] <= 0xDB:  # a high surrogate at the cut
            end -= 2
        parts.append(data[i:end])
        i = end
    if len(parts) > MAX_PARTS:
        raise PduError(f"a message of {len(parts)} parts is too long (at most {MAX_PARTS})")
    return parts


def submit_pdus(number: str, text: str, ref: int) -> list[tuple[int, str]]:
    """(TPDU length for AT+CMGS, PDU hex with the SIM's own SMSC) for each part, in order."""
    if not text:
        raise PduError("an empty message")
    dest = _address(number)
    payloads = split_units(text)
    out = []
    for seq, payload in enumerate(payloads, 1):
        if len(payloads) == 1:
            first, udh = 0x01, b""  # SMS-SUBMIT, no validity period
        else:
            first, udh = 0x41, bytes((5, 0, 3, ref & 0xFF, len(payloads), seq))  # UDHI set
        ud = udh + payload
        tpdu = f"{first:02X}00{dest}00{DCS_UCS2:02X}{len(ud):02X}{ud.hex().upper()}"
        out.append((len(tpdu) // 2, "00" + tpdu))
    return out


@dataclass(frozen=True)
class Part:
    number: str  # as dialled: +8613812341234
    text: str  # this part's characters (a lone surrogate half stays as the byte pair)
    raw: bytes  # this part's UCS-2 payload
    ref: int | None  # concatenation: reference, total, sequence (None for a single SMS)
    total: int
    seq: int


def parse_submit(pdu_hex: str) -> Part:
    """One SMS-SUBMIT PDU (with its SMSC prefix) as a modem receives it after AT+CMGS."""
    try:
        b = bytes.fromhex(pdu_hex)
        i = 1 + b[0]  # skip the SMSC
        first = b[i]
        if first & 0x03 != 0x01:
            raise PduError("not an SMS-SUBMIT")
        i += 2  # first octet, message reference
        ndigits, kind = b[i], b[i + 1]
        octets = (ndigits + 1) // 2
        swapped = b[i + 2 : i + 2 + octets].hex().upper()
        digits = "".join(swapped[j + 1] + swapped[j] for j in range(0, len(swapped), 2))
        number = ("+" if kind == 0x91 else "") + digits[:ndigits]
        i += 2 + octets
        i += 1  # protocol identifier
        dcs = b[i]
        i += 1
        vpf = (first >> 3) & 0x03
        i += {0: 0, 2: 1}.get(vpf, 7)
        udl = b[i]
        ud = b[i + 1 : i + 1 + udl]
        if len(ud) != udl:
            raise PduError("user data shorter than its length")
    except (ValueError, IndexError) as exc:
        raise PduError(f"malformed PDU ({exc})") from None
    if dcs & 0x0C != DCS_UCS2:
        raise PduError(f"data coding {dcs:#04x} is not UCS-2")
    ref, total, seq = None, 1, 1
    if first & 0x40:
        hl = ud[0]
        header, ud = ud[1 : 1 + hl], ud[1 + hl :]
        j = 0
        while j < len(header):
            iei, ln = header[j], header[j + 1]
            if iei == 0x00 and ln == 3:
                ref, total, seq = header[j + 2], header[j + 3], header[j + 4]
            j += 2 + ln
    return Part(number, ud.decode("utf-16-be", "surrogatepass"), ud, ref, total, seq)


class Reassembler:
    """Parts of concatenated messages in, whole messages out (as a phone shows them)."""

    def __init__(self) -> None:
        self._pending: dict[tuple[str, int, int], dict[int, bytes]] = {}

    def add(self, part: Part) -> tuple[str, str] | None:
        """(number, text) once every part of its message is in; None while some are missing."""
        if part.ref is None:
            return part.number, part.raw.decode("utf-16-be")
        key = (part.number, part.ref, part.total)
        got = self._pending.setdefault(key, {})
        got[part.seq] = part.raw  # a part sent twice (a retry) counts once
        if len(got) < part.total:
            return None
        del self._pending[key]
        data = b"".join(got[s] for s in range(1, part.total + 1))
        return part.number, data.decode("utf-16-be")
