"""A simulated GSM modem for the far end of a pty: the AT commands the driver uses, PDUs decoded,
concatenated parts reassembled into the messages a phone would show.

Faults as a hall meets them: no SIM (`sim = "absent"` -> +CME ERROR: 10), a SIM waiting for its
PIN, no signal (`signal = 99`), not registered, registration answered in the long form of
`AT+CREG=2` (`creg_mode = 2`: `+CREG: 2,1,"1A2B","00C3D4E5"`, as a modem another program set
up, or one that keeps its mode across power cycles, answers; with `creg_settable = False` it
refuses AT+CREG=<n> and keeps that mode, as some modems do), the network refusing the next N
parts (`refuse = (N, cms_code)`), the next N parts delivered but never confirmed
(`unconfirmed = N`: the network's answer lost), and silence (`silent`: powered off). Like a real
modem it echoes commands until ATE0 and answers errors as a bare ERROR until AT+CMEE=1.
"""

from __future__ import annotations

import threading

from .smspdu import PduError, Reassembler, parse_submit


class ModemSimulator:
    def __init__(self) -> None:
        self.sim = "ready"  # "ready", "absent", "pin", or +CPIN's words: "NOT INSERTED"...
        self.signal = 21  # AT+CSQ rssi; 99: none
        self.registered = True
        self.creg_mode = 0  # AT+CREG=<n>: 2 adds the cell's area and id to every +CREG answer
        self.creg_settable = True  # False: AT+CREG=<n> is refused (+CME ERROR: 4), mode kept
        self.silent = False
        self.refuse: tuple[int, int] = (0, 0)  # the next N parts get +CMS ERROR: code
        self.unconfirmed = 0  # the next N parts are delivered and answered with nothing
        self.echo = True
        self.cmee = 0
        self.pdu_mode = False
        self.parts: list = []  # every part accepted (smspdu.Part)
        self.messages: list[tuple[str, str]] = []  # whole messages: (number, text)
        self.commands: list[str] = []
        self._mr = 0
        self._line = b""
        self._awaiting: int | None = None  # AT+CMGS length: the PDU comes next, up to Ctrl-Z
        self._reassembler = Reassembler()
        self.arrived = threading.Condition()

    def _error(self, cme: int) -> bytes:
        return f"\r\n+CME ERROR: {cme}\r\n".encode() if self.cmee else b"\r\nERROR\r\n"

    def on_bytes(self, data: bytes) -> bytes:
        if self.silent:
            return b""
        out = b""
        for byte in data:
            ch = bytes((byte,))
            if self._awaiting is not None:
                if ch == b"\x1a":
                    out += self._submit(
                        self._line.decode("ascii", "replace").strip(), self._awaiting
                    )
                    self._line, self._awaiting = b"", None
                elif ch == b"\x1b":  # ESC: the host gave up on this part
                    self._line, self._awaiting = b"", None
                    out += b"\r\nOK\r\n"
                else:
                    self._line += ch
                continue
            if ch in (b"\r", b"\n"):
                if self._line.strip():
                    out += self._command(self._line.decode("ascii", "replace").strip())
                self._line = b""
            else:
                self._line += ch
        return out

    def _command(self, cmd: str) -> bytes:
        self.commands.append(cmd)
        echo = (cmd + "\r").encode() if self.echo else b""
        up = cmd.upper()
        ok = b"\r\nOK\r\n"
        if up == "AT":
            return echo + ok
        if up == "ATE0":
            self.echo = False
            return echo + ok
        if up.startswith("AT+CMEE="):
            self.cmee = int(up.split("=")[1] or 0)
            return echo + ok
        if up == "AT+CMGF=0":
            self.pdu_mode = True
            return echo + ok
        if up == "AT+CPIN?":
            if self.sim == "absent":
                return echo + self._error(10)
            # "pin", or the state as some modems word it ("NOT INSERTED", "NOT READY")
            state = {"ready": "READY", "pin": "SIM PIN"}.get(self.sim, self.sim)
            return echo + f"\r\n+CPIN: {state}\r\n".encode() + ok
        if up == "AT+CSQ":
            return echo + f"\r\n+CSQ: {self.signal},99\r\n".encode() + ok
        if up.startswith("AT+CREG="):
            if not self.creg_settable:
                return echo + self._error(4)  # operation not supported
            self.creg_mode = int(up.split("=")[1] or 0)
            return echo + ok
        if up == "AT+CREG?":
            stat = 1 if self.registered and self.signal != 99 else 2
            cell = ',"1A2B","00C3D4E5"' if self.creg_mode == 2 and stat == 1 else ""
            return echo + f"\r\n+CREG: {self.creg_mode},{stat}{cell}\r\n".encode() + ok
        if up.startswith("AT+CMGS="):
            if self.sim != "ready":
                return echo + self._error(10)
            if not self.pdu_mode:
                return echo + b"\r\n+CMS ERROR: 302\r\n"  # text mode needs a number, not a length
            self._awaiting = int(up.split("=")[1])
            return echo + b"\r\n> "
        return echo + b"\r\nERROR\r\n"

    def _submit(self, pdu: str, length: int) -> bytes:
        count, code = self.refuse
        if count:
            self.refuse = (count - 1, code)
            return f"\r\n+CMS ERROR: {code}\r\n".encode()
        if self.signal == 99 or not self.registered:
            return b"\r\n+CMS ERROR: 331\r\n"  # no network service
        try:
            part = parse_submit(pdu)
        except PduError:
            return b"\r\n+CMS ERROR: 304\r\n"  # invalid PDU mode parameter
        if len(pdu) // 2 - 1 - int(pdu[:2], 16) != length:  # AT+CMGS counts the TPDU only
            return b"\r\n+CMS ERROR: 304\r\n"
        self._mr = (self._mr + 1) % 256
        with self.arrived:
            self.parts.append(part)
            whole = self._reassembler.add(part)
            if whole is not None:
                self.messages.append(whole)
            self.arrived.notify_all()
        if self.unconfirmed:
            self.unconfirmed -= 1
            return b""
        return f"\r\n+CMGS: {self._mr}\r\n\r\nOK\r\n".encode()

    def wait_messages(self, count: int, timeout: float = 5.0) -> list[tuple[str, str]]:
        with self.arrived:
            self.arrived.wait_for(lambda: len(self.messages) >= count, timeout)
            return list(self.messages)
