"""A 一表申请 form printed on an A4 printer through CUPS: the one way both the window's caller
and a kiosk with its own A4 printer do it. The form as `form.get` gives it for `print` becomes
the PDF (formpdf.py) and goes to the CUPS queue (cupsprint.py); the hall is told how it went
(`device.health`, part `form_printer`), so a printer's trouble is a hall alert the manager
sees, and a form printed again clears it.

Blocking (lp and lpstat): call it off the UI thread.
"""

from __future__ import annotations

import logging
import traceback
from pathlib import Path
from typing import Any, Callable, Optional

from .cupsprint import PrintError, print_pdf
from .formpdf import form_pdf

log = logging.getLogger(__name__)

PART = "form_printer"  # device.health's part for the A4 printer of the forms
REASON_MAX = 200  # device.health's reason


def _pdf(form: dict) -> bytes:
    """The form's PDF; a form reportlab cannot lay out (a box taller than a page...) is a
    PrintError in the staff's words, logged for the maintainers by the error's kind and where
    it was raised: its message and traceback may quote what the citizen filled in."""
    try:
        return form_pdf(form)
    except Exception as exc:
        where = traceback.extract_tb(exc.__traceback__)[-1]
        log.error(
            "form of %s: no PDF made: %s at %s:%s",
            form.get("number", ""),
            type(exc).__name__,
            Path(where.filename).name,
            where.lineno,
        )
        raise PrintError(
            "申请表无法生成打印文件，请申请人手写填表（详情见设备日志）",
            "The form could not be made into a PDF: have the applicant fill in a paper form "
            "(details in the device log)",
        ) from None


def print_form(
    form: dict,
    queue: str,
    server: Optional[str],
    tell: Callable[[str, dict], Any],
    keep_queued: bool = True,
) -> Optional[PrintError]:
    """Print the form; None when it has come out of the printer, else what went wrong in
    words. `tell(op, args)` sends the device's report to the hall (a bus request).
    keep_queued=False (a kiosk): a form that cannot print now is not left in the queue."""
    number = form.get("number", "")
    problem: Optional[PrintError] = None
    try:
        pdf = _pdf(form)
        print_pdf(
            pdf,
            queue,
            server=server,
            title=f"{number} 申请表",
            keep_queued=keep_queued,
        )
    except PrintError as exc:
        problem = exc
        log.warning("form of %s not printed on %s: %s", number, queue, exc.message_en)
    health = (
        {"part": PART, "status": "failed", "reason": problem.message[:REASON_MAX]}
        if problem
        else {"part": PART, "status": "ok"}
    )
    try:
        tell("device.health", health)
    except Exception as exc:  # the bus away: the staff still read it on the screen
        log.warning("device.health (form printer) not sent: %s", exc)
    return problem
