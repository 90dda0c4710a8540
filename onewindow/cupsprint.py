"""A4 printing through CUPS, the standard Linux print system, with its own clients (`lp`,
`lpstat` from Debian's cups-client): a PDF is sent to a queue and followed until it has left the
printer, then its end state is asked over IPP with ipptool (ippjob.py: a job CUPS aborted leaves
the queue as a printed one does), and whatever goes wrong comes back as a PrintError worded for the staff.

    job = print_pdf(pdf_bytes, "hall-a4", server="127.0.0.1:631", title="Y003 申请表")

Blocking: call it off the UI thread.
"""

from __future__ import annotations

import logging
import re
import subprocess
import time
from typing import Optional

from .ippjob import ABORTED, CANCELED, COMPLETED, IppError, job_state

log = logging.getLogger(__name__)

WAIT_S = 60.0  # a job still queued after this is reported, not waited for
POLL_S = 0.3
# IPP printer-state-reasons (RFC 8011) a backend or driver reports, worded for the staff
REASONS = {
    "media-empty": ("打印机缺纸，请装入A4纸", "The printer is out of paper: load A4"),
    "media-needed": ("打印机缺纸，请装入A4纸", "The printer is out of paper: load A4"),
    "media-jam": ("打印机卡纸，请取出卡住的纸", "Paper jam: clear it"),
    "toner-empty": ("打印机墨粉用完，请更换", "The printer is out of toner"),
    "door-open": ("打印机盖板未关好", "A printer door is open"),
    "offline": ("打印机离线，请检查电源和连接线", "The printer is offline: check power and cable"),
    "connecting-to-device": ("正在连接打印机…", "Connecting to the printer…"),
}


class PrintError(Exception):
    def __init__(self, message: str, message_en: str):
        super().__init__(message_en)
        self.message, self.message_en = message, message_en


def _run(cmd: list[str], data: Optional[bytes] = None) -> subprocess.CompletedProcess:
    try:
        return subprocess.run(cmd, input=data, capture_output=True, timeout=30)
    except FileNotFoundError:
        raise PrintError(
            "本机未安装打印客户端（cups-client），无法打印申请表",
            "No CUPS client on this computer (install cups-client)",
        ) from None
    except subprocess.TimeoutExpired:
        raise PrintError("打印服务无响应", "The print service does not answer") from None


def _host(server: Optional[str]) -> list[str]:
    return ["-h", server] if server else []


def _refused(queue: str, stderr: str) -> PrintError:
    text = stderr.strip()
    low = text.lower()
    if "does not exist" in low or "invalid destination" in low or "unknown destination" in low:
        return PrintError(
            f"没有名为 {queue} 的打印机，请检查打印机设置",
            f"There is no printer {queue}: check the printer setting",
        )
    if "not accepting" in low:
        return PrintError(
            f"打印机 {queue} 暂停接收作业，请管理员在打印服务中启用",
            f"Printer {queue} is not accepting jobs",
        )
    if "connect" in low or "refused" in low or "server" in low:
        return PrintError(
            "连接不上打印服务（CUPS），请检查打印服务是否运行",
            f"Cannot reach the print service (CUPS): {text}",
        )
    return PrintError(f"打印失败：{text}", f"Printing failed: {text}")


def printer_problem(queue: str, server: Optional[str] = None) -> Optional[PrintError]:
    """What stops the queue now (no scheduler, stopped by its backend, out of paper...), or
    None."""
    up = _run(["lpstat", *_host(server), "-r"])
    if b"not running" in up.stdout + up.stderr:
        return PrintError(
            "连接不上打印服务（CUPS），请检查打印服务是否运行",
            f"Cannot reach the print service (CUPS) at {server or 'the default server'}",
        )
    out = _run(["lpstat", *_host(server), "-l", "-p", queue])
    if out.returncode != 0:
        return _refused(queue, out.stderr.decode("utf-8", "replace"))
    text = out.stdout.decode("utf-8", "replace")
    for reason, (zh, en) in REASONS.items():
        if re.search(rf"\b{reason}(-error|-report|-warning)?\b", text):
            if reason == "connecting-to-device":
                continue
            return PrintError(f"{queue}：{zh}", f"{queue}: {en}")
    if " disabled " in text.split("\n", 1)[0]:
        detail = text.split("\n", 1)[1].strip().splitlines()[0].strip() if "\n" in text else ""
        return PrintError(
            f"打印机 {queue} 已停止：{detail or '原因未知'}",
            f"Printer {queue} is stopped: {detail or 'no reason given'}",
        )
    return None


def print_pdf(
    pdf: bytes,
    queue: str,
    server: Optional[str] = None,
    title: str = "",
    wait_s: float = WAIT_S,
    keep_queued: bool = True,
) -> str:
    """Send the PDF and wait until the job has left the queue printed; its id. PrintError
    otherwise.

    keep_queued=False: a job that cannot print now is cancelled rather than left to print
    once the printer is fixed (at a kiosk the citizen has gone by then, and the form with
    them)."""
    problem = printer_problem(queue, server)
    if problem:
        raise problem
    cmd = ["lp", *_host(server), "-d", queue, "-o", "media=A4"]
    if title:
        cmd += ["-t", title]
    out = _run(cmd + ["-"], pdf)
    if out.returncode != 0:
        raise _refused(queue, out.stderr.decode("utf-8", "replace"))
    m = re.search(r"request id is (\S+)", out.stdout.decode("utf-8", "replace"))
    if not m:
        raise PrintError("打印服务没有接收作业", "The print service did not take the job")
    job = m.group(1)
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        pending = _run(["lpstat", *_host(server), "-o", queue])
        if job not in pending.stdout.decode("utf-8", "replace").split():
            return _finished(job, queue, server)
        problem = printer_problem(queue, server)
        if problem and not keep_queued:
            _run(["cancel", *_host(server), job])
            raise problem
        if problem:
            raise PrintError(
                problem.message + "；排除后会继续打印",
                problem.message_en + "; it prints once fixed",
            )
        time.sleep(POLL_S)
    if not keep_queued:
        _run(["cancel", *_host(server), job])
    raise PrintError(
        f"申请表已送往 {queue}，但 {wait_s:.0f} 秒内没有打印出来，请检查打印机",
        f"The form was sent to {queue} but did not print within {wait_s:.0f} s",
    )


def _server(server: Optional[str]) -> str:
    """The server `lp` talks to: the one given, else CUPS's default as `lpstat -H` names it
    (host:port, or the path of the local socket)."""
    if server:
        return server
    return _run(["lpstat", "-H"]).stdout.decode("utf-8", "replace").strip() or "localhost:631"


def _finished(job: str, queue: str, server: Optional[str]) -> str:
    """The job, once it has left the queue, if it printed; PrintError if CUPS aborted or
    cancelled it, or cannot say."""
    try:
        end = job_state(_server(server), job)
    except IppError as exc:
        raise PrintError(
            f"申请表已送往 {queue}，但无法确认是否打印出来，请查看打印机",
            f"The form was sent to {queue} but whether it printed is unknown ({exc})",
        ) from None
    if end is None:  # purged at once: cupsd.conf has PreserveJobHistory No
        raise PrintError(
            f"申请表已送往 {queue}，但打印服务不保留作业记录，无法确认是否打印出来，请查看打印机"
            "（管理员：PreserveJobHistory 请设为秒数）",
            f"The form was sent to {queue} but the print service keeps no job history, so "
            "whether it printed is unknown (administrator: set PreserveJobHistory to seconds)",
        )
    if end.state == COMPLETED:
        if end.preserved:  # the form, ID number in full, stays in the spool in clear
            log.warning(
                "CUPS at %s keeps the document of printed job %s in its spool: set "
                "PreserveJobFiles No in its cupsd.conf (docs/forms.md)",
                _server(server),
                job,
            )
        return job
    said = f"：{end.message}" if end.message else ""
    said_en = f": {end.message}" if end.message else ""
    if end.state == CANCELED:
        raise PrintError(
            f"{queue}：申请表没有打印出来，打印作业被取消{said}",
            f"{queue}: the form did not print, its job was cancelled{said_en}",
        )
    if end.state == ABORTED:
        raise PrintError(
            f"{queue}：申请表没有打印出来，打印机报告作业失败{said}；请检查打印机后重新打印",
            f"{queue}: the form did not print, the printer failed the job{said_en}; "
            "check the printer and print again",
        )
    raise PrintError(  # left the queue yet not ended: held by CUPS in a way lpstat -o hides
        f"{queue}：申请表没有打印出来（作业状态 {end.state}）",
        f"{queue}: the form did not print (job state {end.state})",
    )
