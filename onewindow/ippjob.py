"""The end state of one CUPS job, asked with Debian's `ipptool` (cups-ipp-utils): the cups-client
commands cannot tell a printed job from one CUPS aborted (`lpstat -W completed` lists both).
The request (Get-Job-Attributes, RFC 8011 4.3.4) is assets/ipptool/get-job-state.test; the
answer is read from ipptool's XML plist output (-X), typed values, with the standard plistlib.
It goes to the server `lp` used, as `lpstat -H` names it: host:port or the local socket's path.

    job_state("127.0.0.1:631", "hall-a4-12")
    -> JobState(state=9, reasons=[...], message="", preserved=False)
    job_state("/run/cups/cups.sock", "hall-a4-13")  -> None when CUPS no longer knows the job
    job_uri("/run/cups/cups.sock", 13)  -> "ipp://%2Frun%2Fcups%2Fcups.sock/jobs/13"
"""

from __future__ import annotations

import plistlib
import subprocess
from dataclasses import dataclass, field
from typing import Any, Optional
from urllib.parse import quote
from xml.parsers.expat import ExpatError

from .shipped import shipped

IPPTOOL = "ipptool"
TEST_FILE = "assets/ipptool/get-job-state.test"
TIMEOUT_S = 10  # ipptool's own, for connecting and each answer
# job-state (RFC 8011 5.3.7)
PENDING, HELD, PROCESSING, STOPPED, CANCELED, ABORTED, COMPLETED = range(3, 10)


class IppError(Exception):
    """The print service could not be asked, or gave no job state."""


@dataclass
class JobState:
    state: int
    reasons: list[str] = field(default_factory=list)
    message: str = ""
    preserved: bool = False  # its document kept in the spool (cupsd.conf PreserveJobFiles)


def job_uri(server: str, job_id: int) -> str:
    """The job's URI on `server`. A socket path goes in as the URI's host, %-encoded: ipptool
    connects to whatever host the URI names and ignores CUPS_SERVER."""
    host = quote(server, safe="") if server.startswith("/") else server
    return f"ipp://{host}/jobs/{job_id}"


def _values(value: Any) -> list[str]:
    """A multi-valued attribute is a plist array, a single value a string."""
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def job_state(server: str, job: str) -> Optional[JobState]:
    """The state of `job` ("queue-12", as `lp` names it) on `server` (as `lpstat -H` names it);
    None when the server no longer knows the job."""
    job_id = int(job.rsplit("-", 1)[1])
    cmd = [IPPTOOL, "-X", "-T", str(TIMEOUT_S), job_uri(server, job_id), str(shipped(TEST_FILE))]
    try:
        done = subprocess.run(cmd, capture_output=True, timeout=TIMEOUT_S * 3)
    except FileNotFoundError:
        raise IppError(
            "ipptool is not installed: install the Debian package cups-ipp-utils"
        ) from None
    except subprocess.TimeoutExpired:
        raise IppError(f"{server} did not answer within {TIMEOUT_S * 3} s") from None
    stderr = done.stderr.decode("utf-8", "replace").strip()
    try:
        report = plistlib.loads(done.stdout)
    except (plistlib.InvalidFileException, ExpatError, ValueError):
        raise IppError(f"cannot ask {server}: {stderr or 'ipptool printed no report'}") from None
    tests = report.get("Tests") or [{}]
    if "StatusCode" not in tests[0]:  # no answer at all: cannot connect, no test file...
        said = report.get("ErrorMessage") or stderr or "ipptool gave no answer"
        raise IppError(f"cannot ask {server}: {said}")
    status = tests[0]["StatusCode"]
    attrs = {k: v for group in tests[0].get("ResponseAttributes", []) for k, v in group.items()}
    if status == "client-error-not-found":  # purged at once: PreserveJobHistory No
        return None
    if status != "successful-ok" or not isinstance(attrs.get("job-state"), int):
        said = f" ({attrs['status-message']})" if "status-message" in attrs else ""
        raise IppError(f"{server} answered {status}{said} and no job state")
    message = attrs.get("job-state-message") or attrs.get("job-printer-state-message") or ""
    return JobState(
        attrs["job-state"],
        _values(attrs.get("job-state-reasons", [])),
        str(message),
        attrs.get("job-preserved") is True,
    )
