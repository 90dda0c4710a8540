"""The end state of one CUPS job, asked over IPP (Get-Job-Attributes, RFC 8011 4.3.4), because
the cups-client commands cannot tell a printed job from one CUPS aborted: `lpstat -W completed`
lists both. A few dozen bytes each way over HTTP, to the server `lp` used (`lpstat -H` names
it: host:port or the local socket's path).

    job_state("127.0.0.1:631", "hall-a4-12")
    -> JobState(state=9, reasons=[...], message="", preserved=False)
    job_state(None, "hall-a4-13")  -> None when CUPS no longer knows the job
"""

from __future__ import annotations

import getpass
import http.client
import socket
import struct
from dataclasses import dataclass, field
from typing import Optional

TIMEOUT_S = 10.0
GET_JOB_ATTRIBUTES = 0x0009
NOT_FOUND = 0x0406  # client-error-not-found: purged, PreserveJobHistory No
# job-state (RFC 8011 5.3.7)
PENDING, HELD, PROCESSING, STOPPED, CANCELED, ABORTED, COMPLETED = range(3, 10)
# value tags and delimiters (RFC 8010 3.5)
END, OPERATION = 0x03, 0x01
BOOLEAN, ENUM, TEXT, NAME, KEYWORD, URI, CHARSET, LANGUAGE = (
    0x22,
    0x23,
    0x41,
    0x42,
    0x44,
    0x45,
    0x47,
    0x48,
)


class IppError(Exception):
    """The print service could not be asked, or answered what is not IPP."""


@dataclass
class JobState:
    state: int
    reasons: list[str] = field(default_factory=list)
    message: str = ""
    preserved: bool = False  # its document kept in the spool (cupsd.conf PreserveJobFiles)


def _attr(tag: int, name: str, value: bytes) -> bytes:
    n = name.encode()
    return struct.pack(">BH", tag, len(n)) + n + struct.pack(">H", len(value)) + value


def request(job_id: int, user: str) -> bytes:
    """The Get-Job-Attributes request for job `job_id` of this server."""
    body = struct.pack(">BBHI", 2, 0, GET_JOB_ATTRIBUTES, 1) + bytes([OPERATION])
    body += _attr(CHARSET, "attributes-charset", b"utf-8")
    body += _attr(LANGUAGE, "attributes-natural-language", b"en")
    body += _attr(URI, "job-uri", f"ipp://localhost/jobs/{job_id}".encode())
    body += _attr(NAME, "requesting-user-name", user.encode())
    wanted = ("job-state", "job-state-reasons", "job-printer-state-message", "job-preserved")
    body += _attr(KEYWORD, "requested-attributes", wanted[0].encode())
    for name in wanted[1:]:  # further values of the same attribute have an empty name
        body += _attr(KEYWORD, "", name.encode())
    return body + bytes([END])


def parse(data: bytes) -> tuple[int, dict[str, list[tuple[int, bytes]]]]:
    """(status-code, {name: [(value tag, value)]}) of an IPP response; IppError if it is not
    one."""
    if len(data) < 9:
        raise IppError(f"short IPP response ({len(data)} bytes)")
    status = struct.unpack(">H", data[2:4])[0]
    attrs: dict[str, list[tuple[int, bytes]]] = {}
    name, i = "", 8
    try:
        while True:
            tag = data[i]
            i += 1
            if tag == END:
                return status, attrs
            if tag < 0x10:  # the start of the next attribute group
                continue
            (n,) = struct.unpack(">H", data[i : i + 2])
            name = data[i + 2 : i + 2 + n].decode("utf-8", "replace") or name
            i += 2 + n
            (n,) = struct.unpack(">H", data[i : i + 2])
            attrs.setdefault(name, []).append((tag, data[i + 2 : i + 2 + n]))
            i += 2 + n
    except (IndexError, struct.error):
        raise IppError("IPP response cut short") from None


class _UnixConnection(http.client.HTTPConnection):
    def __init__(self, path: str):
        super().__init__("localhost", timeout=TIMEOUT_S)
        self.path = path

    def connect(self) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(TIMEOUT_S)
        self.sock.connect(self.path)


def _connection(server: str) -> http.client.HTTPConnection:
    if server.startswith("/"):
        return _UnixConnection(server)
    host, _, port = server.rpartition(":")
    if not host or not port.isdigit():
        host, port = server, "631"
    return http.client.HTTPConnection(host.strip("[]"), int(port), timeout=TIMEOUT_S)


def job_state(server: str, job: str) -> Optional[JobState]:
    """The state of `job` ("queue-12", as `lp` names it) on `server` (as `lpstat -H` names it);
    None when the server no longer knows the job."""
    job_id = int(job.rsplit("-", 1)[1])
    try:
        user = getpass.getuser()
    except (OSError, KeyError):  # no login name in a service's environment: any name does
        user = "onewindow"
    conn = _connection(server)
    try:
        conn.request("POST", "/", request(job_id, user), {"Content-Type": "application/ipp"})
        reply = conn.getresponse()
        data = reply.read()
    except OSError as exc:
        raise IppError(f"cannot ask {server}: {exc}") from None
    finally:
        conn.close()
    if reply.status != 200:
        raise IppError(f"{server} answered HTTP {reply.status}")
    status, attrs = parse(data)
    if status == NOT_FOUND:
        return None
    if status > 0xFF or "job-state" not in attrs:
        raise IppError(f"{server} answered IPP status 0x{status:04x}")
    (tag, value), *_ = attrs["job-state"]
    if tag != ENUM or len(value) != 4:
        raise IppError("job-state is not an enum")
    return JobState(
        struct.unpack(">i", value)[0],
        [v.decode("utf-8", "replace") for _, v in attrs.get("job-state-reasons", [])],
        b"".join(v for _, v in attrs.get("job-printer-state-message", [])[:1]).decode(
            "utf-8", "replace"
        ),
        attrs.get("job-preserved", [(BOOLEAN, b"\0")])[0] == (BOOLEAN, b"\1"),
    )
