"""A GSM modem (a hall's SMS "cat") on a serial line: AT commands, PDU mode, UCS-2 text.

The modem is set up once per connection (ATE0, AT+CMEE=1, AT+CREG=0, AT+CMGF=0). Before every
message it is asked how it is: SIM present and unlocked (AT+CPIN?), signal (AT+CSQ, 99 = none)
and registration (AT+CREG?), so that a fault is named before a message is lost in it. A
message is sent part by part (AT+CMGS=<n>, the "> " prompt, the PDU, Ctrl-Z); a part the
network refuses (+CMS ERROR) or a line gone quiet before the part was handed over is tried
again from that part, with the same concatenation reference, up to `attempts` times. A part
handed over (Ctrl-Z written) and never confirmed is not: it may have gone, and a second copy
would reach the citizen too (`unconfirmed`). Faults raise ModemError with a code, and words in
Chinese and English for the installer and the managers' alerts.

Neither a number nor a text is ever logged: only how many parts went and what failed.
"""

from __future__ import annotations

import logging
import secrets
import time
from dataclasses import dataclass
from typing import Callable

from .serialport import SerialLink, SerialLinkError
from .smspdu import PduError, submit_pdus

log = logging.getLogger(__name__)

COMMAND_TIMEOUT_S = 3.0
SEND_TIMEOUT_S = 60.0  # a part waits for the network's answer; real modems take seconds
CTRL_Z = b"\x1a"
FINAL = ("OK", "ERROR", "+CME ERROR", "+CMS ERROR", "NO CARRIER")

# code -> (Chinese, English); `retry`: worth trying again in a moment
REASONS = {
    "ready": ("正常", "ready"),
    "offline": ("短信猫未连接或无应答", "modem not connected or not answering"),
    "no_sim": ("短信猫未插SIM卡", "no SIM card in the modem"),
    "sim_locked": ("SIM卡需要PIN码", "the SIM card needs its PIN"),
    "no_signal": ("短信猫无信号", "no mobile signal"),
    "not_registered": ("短信猫未注册到移动网络", "not registered on the mobile network"),
    "rejected": ("短信被网络拒绝", "the network refused the message"),
    "bad_number": ("手机号码有误", "not a valid phone number"),
    "timeout": ("短信发送超时", "the modem did not confirm the message in time"),
    "unconfirmed": (
        "短信已交给短信猫但未获确认，可能已发出；为免重复，不再重发",
        "the modem took the message but never confirmed it; it may have been sent, "
        "so it is not sent again",
    ),
}
RETRY = frozenset({"offline", "no_signal", "not_registered", "rejected", "timeout"})
# +CMS ERROR codes (27.005 §3.2.5, 23.040 §9.2.3.22) that no retry cures: the number or the
# message itself is wrong, or the SIM is missing
CMS_FINAL = {1: "bad_number", 28: "bad_number", 304: "rejected", 310: "no_sim", 311: "sim_locked"}
# +CPIN: answers that mean no usable SIM rather than a PIN to type: SIMCom and Quectel modems
# answer so instead of +CME ERROR: 10 (and NOT READY where the card is missing or unseated)
CPIN_NO_SIM = ("NOT INSERTED", "NOT READY")
CME_SIM = {10: "no_sim", 11: "sim_locked", 12: "sim_locked", 13: "no_sim", 15: "no_sim"}


class ModemError(Exception):
    def __init__(self, code: str, detail: str = ""):
        zh, en = REASONS[code]
        super().__init__(f"{en} ({zh}){f': {detail}' if detail else ''}")
        self.code = code
        self.detail = detail
        self.message_zh, self.message_en = zh, en

    @property
    def retry(self) -> bool:
        return self.code in RETRY and not self.detail.startswith("CMS final")


@dataclass(frozen=True)
class ModemStatus:
    signal: int  # AT+CSQ rssi 0..31
    operator: str = ""

    @property
    def signal_dbm(self) -> int:
        return -113 + 2 * self.signal


class GsmModem:
    def __init__(
        self,
        port: str,
        baudrate: int = 115200,
        attempts: int = 3,
        retry_after_s: float = 2.0,
        send_timeout_s: float = SEND_TIMEOUT_S,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.link = SerialLink(port, baudrate, timeout=0.2, name="GSM modem")
        self.attempts = attempts
        self.retry_after_s = retry_after_s
        self.send_timeout_s = send_timeout_s
        self._sleep = sleep
        self._ready = False  # echo off, numeric errors, PDU mode set since the port opened
        self.link.listeners.append(self._on_link)

    def _on_link(self, state) -> None:
        self._ready = False  # a replugged modem starts again with echo on and text mode

    # -- the AT line ------------------------------------------------------------------------

    def _read_until(self, done: Callable[[bytes], bool], timeout: float) -> bytes:
        buf = b""
        deadline = time.monotonic() + timeout
        while not done(buf):
            if time.monotonic() > deadline:
                raise ModemError("timeout" if buf else "offline", "no final answer")
            # byte by byte: a read of more waits out its timeout; answers are a few dozen bytes
            buf += self.link.read(1, timeout=0.1)
        return buf

    def command(self, cmd: str, timeout: float = COMMAND_TIMEOUT_S) -> list[str]:
        """The answer lines of one command (echo and blank lines dropped), up to its final one."""
        try:
            self.link.discard_input()
            self.link.write(cmd.encode("ascii") + b"\r")
            raw = self._read_until(lambda b: _final_line(b) is not None, timeout)
        except SerialLinkError as exc:
            raise ModemError("offline", str(exc)) from None
        lines = [ln.strip() for ln in raw.decode("ascii", "replace").splitlines()]
        return [ln for ln in lines if ln and ln != cmd]

    def _setup(self) -> None:
        if self._ready:
            return
        self.command("ATE0")  # no echo: answers are only answers
        self.command("AT+CMEE=1")  # numbered errors, not a bare ERROR
        self._registration_mode()
        _check(self.command("AT+CMGF=0"), "AT+CMGF=0")  # PDU mode
        self._ready = True

    def _registration_mode(self) -> None:
        """AT+CREG=0: the short answer to AT+CREG? (`+CREG: 0,<stat>`) and no unsolicited
        +CREG lines in among the answers, whatever mode other software or the last power cycle
        left. Some modems refuse it (ERROR, +CME ERROR: 3 or 4); a hall still wants its SMS
        then, and it can have them: AT+CREG? answers in every mode and registration() reads its
        <stat> in each, so a refusal is noted in the log and the modem used as it is. A modem
        that does not answer at all is offline, as for any other command."""
        lines = self.command("AT+CREG=0")
        refused = next((ln for ln in lines if ln.startswith(("ERROR", "+CME ERROR"))), None)
        if refused is not None:
            log.info(
                "GSM modem: AT+CREG=0 refused (%s): registration read in its own mode", refused
            )

    def status(self) -> ModemStatus:
        """SIM, signal and network, or the ModemError naming what is wrong."""
        self._setup()
        lines = self.command("AT+CPIN?")
        _check(lines, "AT+CPIN?")
        pin = next((ln for ln in lines if ln.startswith("+CPIN:")), "")
        state = pin.partition(":")[2].strip()
        if state in CPIN_NO_SIM:
            raise ModemError("no_sim", pin)
        if state != "READY":
            raise ModemError("sim_locked", pin)
        lines = self.command("AT+CSQ")
        _check(lines, "AT+CSQ")
        csq = next((ln for ln in lines if ln.startswith("+CSQ:")), "+CSQ: 99,99")
        rssi = int(csq.split(":")[1].split(",")[0])
        if rssi == 99 or rssi == 0:
            raise ModemError("no_signal", csq)
        lines = self.command("AT+CREG?")
        _check(lines, "AT+CREG?")
        creg = next((ln for ln in lines if ln.startswith("+CREG:")), "")
        if registration(creg) not in ("1", "5"):  # home or roaming
            raise ModemError("not_registered", creg)
        return ModemStatus(rssi)

    def _send_part(self, length: int, pdu: str) -> None:
        try:
            self.link.discard_input()
            self.link.write(f"AT+CMGS={length}\r".encode("ascii"))
            got = self._read_until(lambda b: b">" in b or _final_line(b) is not None, 5.0)
            if b">" not in got:
                _check(got.decode("ascii", "replace").splitlines(), "AT+CMGS")
                raise ModemError("rejected", "no prompt")
        except SerialLinkError as exc:
            raise ModemError("offline", str(exc)) from None
        try:
            self.link.write(pdu.encode("ascii") + CTRL_Z)
            raw = self._read_until(lambda b: _final_line(b) is not None, self.send_timeout_s)
        except (ModemError, SerialLinkError) as exc:
            # the part is the modem's from Ctrl-Z on and may be on its way: sent again, the
            # citizen could get it twice; said so, and not retried
            raise ModemError("unconfirmed", f"AT+CMGS: {exc}") from None
        _check(raw.decode("ascii", "replace").splitlines(), "AT+CMGS")

    def send(self, number: str, text: str) -> int:
        """Send one message (split into parts as needed); the number of parts sent. Raises
        ModemError once `attempts` tries of a part have failed, or at once for a fault that
        no retry cures (no SIM, a wrong number)."""
        try:
            parts = submit_pdus(number, text, secrets.randbelow(256))
        except PduError as exc:
            raise ModemError(
                "bad_number" if "number" in str(exc) else "rejected", str(exc)
            ) from None
        done, tries = 0, 0
        while done < len(parts):
            try:
                if done == 0 or tries:
                    self.status()  # before the message, and again before a retry
                self._send_part(*parts[done])
                done, tries = done + 1, 0
            except ModemError as exc:
                tries += 1
                log.warning(
                    "GSM modem: part %d/%d, try %d/%d failed: %s",
                    done + 1,
                    len(parts),
                    tries,
                    self.attempts,
                    exc.message_en,
                )
                if exc.code in ("offline", "unconfirmed"):
                    self._ready = False  # set the modem up again before the next message
                if not exc.retry or tries >= self.attempts:
                    raise
                self._sleep(self.retry_after_s)
        log.info("GSM modem: a message of %d part(s) sent", len(parts))
        return len(parts)

    def close(self) -> None:
        self.link.close()


def _final_line(buf: bytes) -> str | None:
    """The final answer line, once it is whole (read byte by byte, "+CME ERROR" comes before
    its number)."""
    text = buf.decode("ascii", "replace")
    whole = text[: max(text.rfind("\r"), text.rfind("\n")) + 1]
    for ln in whole.splitlines():
        ln = ln.strip()
        if ln.startswith(FINAL):
            return ln
    return None


def _check(lines, cmd: str) -> None:
    """Raise the ModemError an error line stands for."""
    for ln in lines:
        ln = ln.strip()
        if ln.startswith("+CME ERROR:"):
            code = _num(ln)
            if code in CME_SIM:
                raise ModemError(CME_SIM[code], ln)
            if code == 30:
                raise ModemError("no_signal", ln)
            raise ModemError("rejected", f"{cmd}: {ln}")
        if ln.startswith("+CMS ERROR:"):
            code = _num(ln)
            if code in CMS_FINAL:
                raise ModemError(CMS_FINAL[code], f"CMS final {ln}")
            raise ModemError("rejected", f"{cmd}: {ln}")
        if ln == "ERROR":
            raise ModemError("rejected", f"{cmd}: ERROR")


def registration(line: str) -> str:
    """The <stat> of a +CREG (or +CGREG) line, whichever of its forms (27.007 §7.2): "1" home,
    "5" roaming, "" for none. The answer to AT+CREG? puts the mode <n> first, the unsolicited
    line does not, and mode 2 adds the cell's quoted area and id (and the access technology):

        registration("+CREG: 0,1")                         -> "1"
        registration('+CREG: 2,5,"1A2B","00C3D4E5",7')     -> "5"
        registration("+CREG: 3")                           -> "3"   (unsolicited, mode 1)
        registration('+CREG: 1,"1A2B","00C3D4E5"')         -> "1"   (unsolicited, mode 2)
    """
    fields = [f.strip() for f in line.partition(":")[2].split(",")]
    if len(fields) >= 2 and fields[1].isdigit():
        return fields[1]  # <n>,<stat>[,...]: the answer to the query
    return fields[0] if fields[0].isdigit() else ""


def _num(line: str) -> int:
    try:
        return int(line.split(":", 1)[1].strip())
    except ValueError:
        return -1
