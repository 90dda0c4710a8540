"""预约签到 / 查询: the citizen's card finds their bookings (check in) and today's tickets."""

from __future__ import annotations

from kivy.app import App
from kivy.factory import Factory
from kivy.properties import StringProperty
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.screenmanager import Screen

from onewindow.hallwords import wait_words

from ..texts import error_text
from ..widgets import load_kv
from .booking import day_label

load_kv("mine.kv")


class MineScreen(Screen):
    message = StringProperty("")

    def prepare(self) -> None:
        app = App.get_running_app()
        self.ids.list.clear_widgets()
        self.message = app.t("mine_prompt")
        if app.citizen:
            self.on_citizen()

    def on_citizen(self) -> None:
        app = App.get_running_app()
        self.message = app.t("working")
        app.request("appointment.find", app.citizen_args(), self.found)

    def found(self, result, error) -> None:
        app = App.get_running_app()
        box = self.ids.list
        box.clear_widgets()
        if error:
            self.message = error_text(error, app.lang)
            return
        appointments = result.get("appointments") or []
        tickets = result.get("tickets") or []
        self.message = "" if appointments or tickets else app.t("mine_none")
        today = (app.hall_state or {}).get("day", "")
        if appointments:
            box.add_widget(Factory.SectionTitle(text=app.t("mine_appointments")))
        for i, a in enumerate(appointments):
            start = a.get("slot_start", "")
            service = app.service_text(a.get("service"), a.get("service_name", ""))
            row = self.row(f"{service}\n{day_label(app, start[:10])} {start[11:16]}", f"appt-{i}")
            if start[:10] == today and app.hall_open:
                b = Factory.KButton(
                    text=app.t("checkin"),
                    test_id=f"checkin-{i}",
                    size_hint_x=None,
                    width=app.u * 240,
                    bg=(0.1, 0.55, 0.3, 1),
                )
                b.bind(on_release=lambda w, a=a: self.check_in(a))
                row.add_widget(b)
            box.add_widget(row)
        if tickets:
            box.add_widget(Factory.SectionTitle(text=app.t("mine_tickets")))
        for i, t in enumerate(tickets):
            service = app.service_text(t.get("service"), t.get("service_name", ""))
            row = self.row(f"{t['number']}  {service}\n{self.status(t)}", f"ticket-{i}")
            if t.get("status") == "done":
                b = Factory.KButton(
                    text=app.t("rate"),
                    test_id=f"rate-{i}",
                    size_hint_x=None,
                    width=app.u * 200,
                    bg=(0.16, 0.55, 0.33, 1),
                )
                b.bind(on_release=lambda w, t=t: app.go("rating", ticket=t))
                row.add_widget(b)
            box.add_widget(row)

    def row(self, text: str, test_id: str) -> BoxLayout:
        app = App.get_running_app()
        row = BoxLayout(size_hint_y=None, height=app.u * 130, spacing=app.u * 12)
        row.add_widget(
            Factory.KText(text=text, halign="left", test_id=test_id, font_size=app.u * 30)
        )
        return row

    @staticmethod
    def status(t: dict) -> str:
        app = App.get_running_app()
        s = t.get("status")
        if s == "waiting":
            ahead, wait = t.get("ahead", 0), wait_words(t, app.lang)
            if not ahead:  # a sentence, not "前面 0 人"
                return app.t("status_none_ahead", wait=wait)
            return app.t("status_waiting", n=ahead, wait=wait)
        if s in ("called", "recalled"):
            window = app.window_text(t.get("window"), t.get("window_name") or "")
            return app.t("status_called", window=window or t.get("window") or "")
        return app.t(f"status_{s}") if s in ("serving", "done", "no_show", "cancelled") else s or ""

    def check_in(self, appointment: dict) -> None:
        App.get_running_app().take_number(
            appointment["service"], appointment_id=appointment["id"], failed=self.failed
        )

    def failed(self, message: str) -> None:
        self.message = message
