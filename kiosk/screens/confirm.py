"""Confirm: the second (and last) touch to take a number; a card read here adds priority."""

from __future__ import annotations

from typing import Sequence

from kivy.app import App
from kivy.properties import StringProperty
from kivy.uix.screenmanager import Screen

from onewindow import guidewords
from onewindow.domain import guide as guide_model
from onewindow.hallwords import wait_words
from onewindow.i18n import localize

from ..widgets import load_kv

load_kv("confirm.kv")


def material_lines(app, materials: Sequence) -> str:
    """One line per material: name, originals/copies, 容缺 mark (the 一次告知 list), worded by
    the one guide model (domain/guide.py) that the web page and the 明白卡 use too."""
    lines = []
    for m in materials:
        line = guide_model.material(localize(m, app.lang)) if isinstance(m, dict) else m
        counts = guidewords.counts(line, app.lang)
        text = f"•  {line.name}" + (
            guidewords.word("counts", app.lang, counts=counts) if counts else ""
        )
        if line.missing_ok:
            text += f"  [{app.t('guide_missing_ok')}]"
        lines.append(text)
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
    declared = StringProperty("")  # 绿色通道 the citizen chose here ("" none)

    def __init__(self, **kw):
        super().__init__(**kw)
        app = App.get_running_app()
        for prop in ("lang", "citizen_name", "queues", "printer_reason"):
            app.bind(**{prop: lambda *a: self.update()})

    def prepare(self, code: str) -> None:
        self.code = code
        self.error = ""
        self.declared = ""
        self.update()

    def update(self) -> None:
        app = App.get_running_app()
        service = app.services.get(self.code) or app.themes.get(self.code)
        if not service:
            return
        self.title = app.pick(service)
        self.subtitle = app.pick(service, "department") or app.pick(service, "lead_department")
        q = app.queues.get(self.code) or {}
        ahead, wait = q.get("ahead", 0), wait_words(q, app.lang)
        if not q.get("wait_text"):
            self.waiting = ""
        elif ahead:
            self.waiting = app.t("confirm_waiting", n=ahead, wait=wait)
        else:  # "前面 0 人" is no sentence a citizen would say
            self.waiting = app.t("confirm_none_ahead", wait=wait)
        self.who = (
            app.t("identified_hint", name=app.citizen_name)
            if app.citizen_name
            else self.elder_hint(app)
        )
        self.materials = material_lines(app, (service.get("guide") or {}).get("materials") or [])
        self.note = "" if app.can_print or app.printer_reason == "none" else app.t("will_not_print")

    @staticmethod
    def elder_hint(app) -> str:
        """The hall's own age for priority ([rules] elder_age); none known: no hint."""
        age = (((app.cfg or {}).get("hall") or {}).get("rules") or {}).get("elder_age")
        return app.t("elder_hint", age=age) if isinstance(age, int) else ""

    def declared_hint(self, lang: str) -> str:
        app = App.get_running_app()
        names = {
            "disabled": app.t("green_disabled", lang),
            "veteran": app.t("green_veteran", lang),
            "pregnant": app.t("green_pregnant", lang),
        }
        return app.t("green_hint", lang, kind=names.get(self.declared, ""))

    def toggle_declared(self, kind: str) -> None:
        """One of 残疾人 / 军人 / 孕妇, or none (a second touch takes it back)."""
        self.declared = "" if self.declared == kind else kind

    def take(self) -> None:
        self.error = ""
        App.get_running_app().take_number(
            self.code, failed=self.failed, declared=self.declared or None
        )

    def failed(self, message: str) -> None:
        self.error = message

    def on_citizen(self) -> None:
        self.update()
