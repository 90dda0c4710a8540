"""Confirm: the second (and last) touch to take a number; a card read here adds priority."""
from __future__ import annotations

from kivy.app import App
from kivy.properties import StringProperty
from kivy.uix.screenmanager import Screen

from ..widgets import load_kv

load_kv("confirm.kv")


def material_lines(app, materials: list) -> str:
    """One line per material: name, originals/copies, 容缺 mark (the 一次告知 list)."""
    lines = []
    for m in materials:
        counts = app.t("guide_originals", n=m.get("originals", 1))
        if m.get("copies"):
            counts += "，" + app.t("guide_copies", n=m["copies"])
        line = f"•  {app.pick(m)}（{counts}）"
        if m.get("missing_ok"):
            line += f"  [{app.t('guide_missing_ok')}]"
        lines.append(line)
    return "\n".join(lines)


class ConfirmScreen(Screen):
    code = StringProperty("")
    title = StringProperty("")
    subtitle = StringProperty("")
    waiting = StringProperty("")
    who = StringProperty("")
    note = StringProperty("")
    error = StringProperty("")
    materials = StringProperty("")

    def __init__(self, **kw):
        super().__init__(**kw)
        app = App.get_running_app()
        for prop in ("lang", "citizen_name", "queues", "printer_reason"):
            app.bind(**{prop: lambda *a: self.update()})

    def prepare(self, code: str) -> None:
        self.code = code
        self.error = ""
        self.update()

    def update(self) -> None:
        app = App.get_running_app()
        service = app.services.get(self.code) or app.themes.get(self.code)
        if not service:
            return
        self.title = app.pick(service)
        self.subtitle = app.pick(service, "department") or app.pick(service, "lead_department")
        q = app.queues.get(self.code) or {}
        self.waiting = app.t("confirm_waiting", n=q.get("waiting", 0), m=q.get("est_wait_min", 0))
        self.who = (app.t("identified_hint", name=app.citizen_name) if app.citizen_name
                    else app.t("elder_hint"))
        self.materials = material_lines(app, (service.get("guide") or {}).get("materials") or [])
        self.note = "" if app.can_print or app.printer_reason == "none" else app.t("will_not_print")

    def take(self) -> None:
        self.error = ""
        App.get_running_app().take_number(self.code, failed=self.failed)

    def failed(self, message: str) -> None:
        self.error = message

    def on_citizen(self) -> None:
        self.update()
