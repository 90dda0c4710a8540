"""Tickets: find today's ticket by its number, see it with its status QR code, cancel it, or
reprint it on the duty desk's printer (`--printer`); the reprint is reported and audited."""

from __future__ import annotations

from kivy.properties import DictProperty, StringProperty

from onewindow.uikit import qr_texture

from ..texts import TEXTS
from ..widgets import TButton
from . import ConsoleScreen, load_kv

MAX_CHARS = 8

load_kv("tickets")


class TicketsScreen(ConsoleScreen):
    number = StringProperty("")
    info = StringProperty("")
    ticket = DictProperty()

    def __init__(self, **kw):
        super().__init__(**kw)
        self._letters: tuple = ()

    def shown(self, app) -> None:
        if not self.info:
            self.info = TEXTS("ticket_none")
        self.update(app, {"all"})

    def update(self, app, dirty: set) -> None:
        cfg = app.config_data
        letters = tuple(
            sorted(
                {s.get("prefix") or s["code"] for s in cfg.get("services", [])}
                | {t.get("prefix") or t["code"] for t in cfg.get("themes", [])}
            )
        )
        if letters and letters != self._letters:
            self._letters = letters
            grid = self.ids.letters
            grid.clear_widgets()
            for ch in letters:
                grid.add_widget(
                    TButton(
                        text=ch,
                        test_id=f"key-{ch}",
                        font_size=22,
                        on_press=lambda b: self.key(b.text),
                    )
                )

    def key(self, ch: str) -> None:
        if ch == "back":
            self.number = self.number[:-1]
        elif ch == "clear":
            self.number = ""
        elif len(self.number) < MAX_CHARS:
            self.number += ch

    def find(self, app) -> None:
        if not self.number:
            return

        def done(result, error):
            if error is not None:
                self.ticket = {}
                self.info = error.message
                self.ids.qr.texture = None
                return
            self.show(result["tickets"][0])

        app.request("ticket.find", {"number": self.number}, done=done)

    def show(self, t: dict) -> None:
        self.ticket = t
        self.info = TEXTS(
            "ticket_info",
            number=t["number"],
            service=t.get("service_name", ""),
            status=TEXTS(f"st_{t['status']}"),
            ahead=t.get("ahead", 0),
            wait=t.get("wait_text") or "",
            issued=t["issued_at"][11:19],
            window=t.get("window_name") or "—",
            citizen=t.get("citizen") or "—",
        )
        self.ids.qr.texture = qr_texture(t["status_url"]) if t.get("status_url") else None

    def reprint(self, app) -> None:
        if not self.ticket:
            return
        if not app.printer:
            self.info = TEXTS("reprint_no_printer")
            return
        ticket, hall_name = dict(self.ticket), app.hall_name

        def work():
            from drivers import escpos
            from drivers.printer import PrinterError, open_printer

            printer = open_printer(*app.printer)
            try:
                printer.print_job(escpos.ticket(ticket, hall_name))
                return None
            except PrinterError as exc:
                return exc.status.message
            finally:
                printer.close()

        def done(problem, error):
            if problem or error:
                app.message = TEXTS("reprint_failed", why=problem or error)
                return
            app.act(
                "ticket.printed",
                {"ticket_id": ticket["id"], "printed": True, "reprint": True},
                f"{ticket['number']} {TEXTS('reprinted')}",
            )

        app.in_background(work, done)  # a printer takes seconds: never on the UI thread

    def cancel(self, app) -> None:
        if not self.ticket:
            return
        app.act(
            "ticket.cancel",
            {"ticket_id": self.ticket["id"], "reason": "manager"},
            f"{self.ticket['number']} {TEXTS('st_cancelled')}",
            then=lambda result: self.show(result["ticket"]),
        )
