"""The ticket: number, people ahead, estimate, QR of its status page, and how printing went."""

from __future__ import annotations

from kivy.app import App
from kivy.properties import ColorProperty, StringProperty
from kivy.uix.screenmanager import Screen

from onewindow.hallwords import wait_words

from ..widgets import load_kv

load_kv("ticket.kv")

OK_COLOR = (0.1, 0.5, 0.25, 1)
WARN_COLOR = (0.78, 0.22, 0.05, 1)


class TicketScreen(Screen):
    number = StringProperty("")
    service = StringProperty("")
    ahead = StringProperty("")
    estimate = StringProperty("")
    marks = StringProperty("")
    who = StringProperty("")
    status = StringProperty("")
    status_color = ColorProperty(OK_COLOR)
    form_status = StringProperty("")  # 一表申请 on this kiosk's A4 printer (--form-printer)
    form_color = ColorProperty(OK_COLOR)
    qr = StringProperty("")

    def __init__(self, **kw):
        super().__init__(**kw)
        self.ticket = None
        self.print_state, self.reason = "", ""
        self.form_state, self.form_reason = "", ""
        App.get_running_app().bind(lang=lambda *a: self.update())

    def prepare(self, ticket: dict, print_state: str, reason: str) -> None:
        self.ticket = ticket
        self.print_state, self.reason = print_state, reason
        self.form_state, self.form_reason = "", ""
        self.update()

    def set_form_state(self, state: str, reason: str = "") -> None:
        self.form_state, self.form_reason = state, reason
        self.update()

    def set_print_state(self, print_state: str, reason: str) -> None:
        self.print_state, self.reason = print_state, reason
        self.update()

    def update(self) -> None:
        app = App.get_running_app()
        t = self.ticket
        if not t:
            return
        self.number = t["number"]
        self.service = app.service_text(t["service"], t.get("service_name", ""))
        ahead = t.get("ahead", 0)
        self.ahead = app.t("ticket_ahead", n=ahead) if ahead else app.t("ticket_none_ahead")
        self.estimate = (
            app.t("ticket_estimate", wait=wait_words(t, app.lang)) if wait_words(t, "zh") else ""
        )
        marks = []
        if t.get("priority"):
            marks.append(app.t(f"priority_{t['priority']}"))
        if t.get("appointment"):
            marks.append(app.t("ticket_appointment", time=str(t["appointment"])[11:16]))
        if t.get("supplement"):
            marks.append(app.t("ticket_supplement"))
        self.marks = "  ".join(f"【{m}】" for m in marks)
        if t.get("priority_check") == "declared":  # declared here: staff check the papers
            self.marks += "\n" + app.t("declared_note")
        self.who = app.t("ticket_for", name=t["citizen"]) if t.get("citizen") else ""
        self.qr = t.get("status_url") or ""
        state = self.print_state
        if state == "printing":
            self.status, self.status_color = app.t("ticket_printing"), OK_COLOR
        elif state == "printed":
            self.status, self.status_color = app.t("ticket_printed"), OK_COLOR
        elif state == "failed":
            self.status = app.t("ticket_not_printed", reason=app.printer_message(self.reason))
            self.status_color = WARN_COLOR
        else:
            self.status, self.status_color = app.t("ticket_screen_only"), WARN_COLOR
        if self.form_state == "failed":
            self.form_status = app.t("form_not_printed", reason=self.form_reason)
            self.form_color = WARN_COLOR
        elif self.form_state:
            self.form_status = app.t(f"form_{self.form_state}")
            self.form_color = OK_COLOR
        else:
            self.form_status = ""
