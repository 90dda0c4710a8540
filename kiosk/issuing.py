"""The kiosk's transactions: a number taken (issued, shown, printed, reported), the 一表申请
form on the kiosk's A4 printer, a 明白卡 printed, and the ticket printer's state.

The layer of KioskApp (kiosk/app.py) between it and HallApp: the kv files call these as
`app.take_number(...)`. KioskApp holds the citizen and the screens (the names annotated below).
Each transaction runs in the background (`in_background`) and comes back to the UI thread
through `@mainthread`.
"""

from __future__ import annotations

import json
import logging
from typing import Any, Callable, Optional

from kivy.clock import mainthread
from kivy.properties import BooleanProperty, StringProperty

from drivers import escpos
from drivers.printer import REASONS, PrinterError
from onewindow.appbase import HallApp
from onewindow.bus.client import BusError, BusUnavailable

from .texts import error_text

log = logging.getLogger(__name__)


class Issuing(HallApp):
    printer_reason = StringProperty("none")
    can_print_now = BooleanProperty(False)
    busy = BooleanProperty(False)  # a transaction under way: touches wait for it

    # KioskApp's
    args: Any
    cfg: Optional[dict]
    devices: Any
    services: dict
    themes: dict
    hall_name: str
    session_ticket: Optional[dict]
    _pending_issue: Optional[tuple[str, str]]  # (the request, its id) until answered
    go: Callable[..., None]
    screen: Callable[[str], Any]
    citizen_args: Callable[..., dict]
    clear_citizen: Callable[[], None]
    _refresh_home: Callable[[], None]

    # -- the printer -----------------------------------------------------------------------------

    @property
    def can_print(self) -> bool:
        return self.printer_reason in ("ready", "paper_near_end")

    def printer_message(self, reason: Optional[str] = None) -> str:
        reason = reason or self.printer_reason
        zh, en = REASONS.get(reason, REASONS["error"])
        return en if self.lang == "en" else zh

    @mainthread
    def _on_printer(self, reason: str) -> None:
        log.info("printer: %s", reason)
        self.printer_reason = reason
        self.can_print_now = self.can_print
        self._report_printer(reason)
        self._refresh_home()

    def _report_printer(self, reason: str) -> None:
        if reason == "none":
            return
        self.request(
            "device.health",
            {"part": "printer", "status": reason, "reason": REASONS.get(reason, ("", ""))[0]},
            done=_warn_unsent,
        )

    # -- transactions ----------------------------------------------------------------------------

    def take_number(
        self,
        code: str,
        answers: Optional[dict] = None,
        appointment_id: Optional[str] = None,
        failed: Optional[Callable[[str], None]] = None,
        declared: Optional[str] = None,
        checkin: Optional[str] = None,
        form: Optional[dict] = None,
    ) -> None:
        """Issue (printed or not, as the printer stands right now), show, print, report."""
        if self.busy:
            return
        self.busy = True
        op = "ticket.issue"
        args = {"service": code, "channel": "kiosk", **self.citizen_args(form=bool(form))}
        if form:  # 一表申请: the form goes with the number, sealed by the hall
            args["form"] = form
        if checkin:  # 补件: the card's open 容缺 case, to its window
            op, args = "case.checkin", {**self.citizen_args(), "case_id": checkin}
        if answers is not None:
            args["answers"] = answers
        if appointment_id:
            args["appointment_id"] = appointment_id
        if declared:  # 绿色通道: declared by the citizen, checked at the window
            args["declared"] = declared
        # the paper ticket is Chinese first (it is shown at the windows too), then the citizen's
        # language, or the hall's second one
        hall = (self.cfg or {}).get("hall") or {}
        hall_name = hall.get("name") or self.hall_name
        second_lang = escpos.second_lang(self.langs, self.lang)

        # a retry after "unavailable" reuses the request id: if the first try did reach the
        # controller, the citizen gets that ticket again, never a second one
        key = json.dumps([op, args], sort_keys=True, ensure_ascii=False)
        if self._pending_issue is None or self._pending_issue[0] != key:
            self._pending_issue = (key, self.client.new_id())
        req_id = self._pending_issue[1]

        def work():
            reason = self.devices.printer_status() if self.devices.printer else "none"
            printing = reason in ("ready", "paper_near_end")
            try:
                ticket = self.client.request(op, {**args, "printed": printing}, req_id=req_id)[
                    "ticket"
                ]
            except BusError as exc:
                self._issue_failed(exc, failed)
                return
            self._issued(
                ticket,
                "printing" if printing else ("screen" if reason == "none" else "failed"),
                reason,
                with_form=bool(form) and not checkin,
            )
            if not printing:
                return
            try:
                service = self.services.get(ticket.get("service")) or self.themes.get(
                    ticket.get("service")
                )
                second = escpos.Second.of(second_lang, hall, service)
                self.devices.print(
                    escpos.ticket(ticket, hall_name, second=second), ticket["number"]
                )
            except PrinterError as exc:
                why = exc.status.reason
                log.warning("ticket %s did not print: %s", ticket["number"], why)
                self._print_result(ticket, "failed", why)
                try:
                    self.client.request(
                        "ticket.printed",
                        {"ticket_id": ticket["id"], "printed": False, "reason": exc.status.message},
                    )
                except BusError as err:
                    log.warning("ticket.printed not sent: %s", err)
                return
            self._print_result(ticket, "printed", "ready")

        self.in_background(work)

    @mainthread
    def _issued(self, ticket: dict, print_state: str, reason: str, with_form: bool = False) -> None:
        self.busy = False
        self._pending_issue = None
        self.clear_citizen()  # the controller has what it needs; the kiosk forgets
        self.session_ticket = ticket
        self.go("ticket", ticket=ticket, print_state=print_state, reason=reason)
        if with_form and self.args.form_printer:
            self._print_form(ticket)

    def _print_form(self, ticket: dict) -> None:
        """一表申请 on this kiosk's own A4 printer, at once: the form read back from the hall
        for printing (audited `form_print`), then printed as the window prints it
        (onewindow/formprint.py); trouble is told to the citizen in words and is a hall alert."""
        self.screen("ticket").set_form_state("printing")

        def work():
            from onewindow.formprint import print_form

            try:
                form = self.client.request(
                    "form.get", {"ticket_id": ticket["id"], "purpose": "print"}
                )["form"]
            except BusError as exc:
                return error_text(exc, self.lang)
            # not left queued: it would come out later, the ID number on it, for whoever passes
            problem = print_form(
                form,
                self.args.form_printer,
                self.args.cups_server,
                self.client.request,
                keep_queued=False,
            )
            if problem is None:
                return None
            return problem.message_en if self.lang == "en" else problem.message

        def done(problem, error):
            if error is not None:
                log.warning("form of %s not printed: %s", ticket["number"], error)
                problem = self.t("err_generic")
            screen = self.screen("ticket")
            if screen.ticket and screen.ticket.get("id") == ticket["id"]:
                screen.set_form_state("failed" if problem else "printed", problem or "")

        self.in_background(work, done)

    @mainthread
    def _print_result(self, ticket: dict, print_state: str, reason: str) -> None:
        screen = self.screen("ticket")
        if screen.ticket and screen.ticket.get("id") == ticket["id"]:
            screen.set_print_state(print_state, reason)

    @mainthread
    def _issue_failed(self, exc: BusError, failed) -> None:
        self.busy = False
        log.warning("ticket.issue refused: %s", exc.code)
        message = error_text(exc, self.lang)
        if isinstance(exc, BusUnavailable):
            message = self.t("err_unavailable")
        elif exc.code != "bad_form":  # a form to correct keeps its card data
            self._pending_issue = None  # a definite answer: the transaction is over
            self.clear_citizen()
        else:
            self._pending_issue = None
        if failed:
            failed(message)
        else:
            self.go("message", message=message)

    def print_guide(self, service: dict, done: Callable[[str, str], None]) -> None:
        """Print a 明白卡 (Chinese, then the citizen's or the hall's second language);
        done('printed'|'failed', reason) on the main thread."""
        hall = (self.cfg or {}).get("hall") or {}
        second = escpos.Second.of(escpos.second_lang(self.langs, self.lang), hall, service)

        def work():
            try:
                job = escpos.guide_card(service, second)
                self.devices.print(job, f"guide-{service['code']}")
            except PrinterError as exc:
                return "failed", exc.status.reason
            return "printed", "ready"

        def finished(result, error) -> None:
            state, reason = result if isinstance(result, tuple) else ("failed", "error")
            done(state, reason)

        self.in_background(work, finished)


def _warn_unsent(_result, error) -> None:
    if error:
        log.warning("device.health not sent: %s", error)
