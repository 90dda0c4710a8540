"""MQTT 3.1.1 on the wire, as the embedded broker needs it: packets out, fields in, topic rules."""
from __future__ import annotations

import struct

from .acl import topic_matches


class ProtocolError(Exception):
    pass


def _length(n: int) -> bytes:
    out = bytearray()
    while True:
        byte, n = n % 128, n // 128
        out.append(byte | 0x80 if n else byte)
        if not n:
            return bytes(out)


def packet(first: int, body: bytes = b"") -> bytes:
    return bytes((first,)) + _length(len(body)) + body


def u16str(data: bytes) -> bytes:
    return struct.pack("!H", len(data)) + data


def publish_packet(topic: bytes, payload: bytes, qos: int, retain: bool, pid: int = 0,
                    dup: bool = False) -> bytes:
    first = 0x30 | (qos << 1) | (1 if retain else 0) | (0x08 if dup else 0)
    body = u16str(topic) + (struct.pack("!H", pid) if qos else b"") + payload
    return packet(first, body)


class Reader:
    __slots__ = ("data", "i")

    def __init__(self, data: bytes):
        self.data, self.i = data, 0

    def u8(self) -> int:
        if self.i >= len(self.data):
            raise ProtocolError("packet ends early")
        self.i += 1
        return self.data[self.i - 1]

    def u16(self) -> int:
        if self.i + 2 > len(self.data):
            raise ProtocolError("packet ends early")
        self.i += 2
        return (self.data[self.i - 2] << 8) | self.data[self.i - 1]

    def blob(self) -> bytes:
        n = self.u16()
        if self.i + n > len(self.data):
            raise ProtocolError("string runs past the end of the packet")
        self.i += n
        return bytes(self.data[self.i - n:self.i])

    def text(self) -> str:
        raw = self.blob()
        try:
            s = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise ProtocolError("string is not UTF-8") from None
        if "\x00" in s:
            raise ProtocolError("string contains U+0000")
        return s

    def rest(self) -> bytes:
        out = bytes(self.data[self.i:])
        self.i = len(self.data)
        return out

    def done(self) -> bool:
        return self.i >= len(self.data)


def valid_topic(topic: str) -> bool:
    return bool(topic) and "+" not in topic and "#" not in topic


def valid_filter(filt: str) -> bool:
    if not filt:
        return False
    levels = filt.split("/")
    for i, level in enumerate(levels):
        if "#" in level and (level != "#" or i != len(levels) - 1):
            return False
        if "+" in level and level != "+":
            return False
    return True


def filter_matches(filt: str, topic: str) -> bool:
    """A subscription filter against a concrete topic; `$` topics are not caught by wildcards."""
    if topic.startswith("$") and filt[:1] in ("+", "#"):
        return False
    return topic_matches(filt, topic)
