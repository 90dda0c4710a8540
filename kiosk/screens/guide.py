"""办事指南 (一次告知): every service's guide in large type, printable as a 明白卡, with a QR."""
from __future__ import annotations

from kivy.app import App
from kivy.factory import Factory
from kivy.properties import StringProperty
from kivy.uix.screenmanager import Screen

from ..widgets import Choice, load_kv
from .confirm import material_lines

load_kv("guides.kv")
load_kv("guide.kv")


class GuidesScreen(Screen):
    """Every service, to pick a guide from."""

    def on_pre_enter(self, *a) -> None:
        app = App.get_running_app()
        grid = self.ids.grid
        grid.clear_widgets()
        for s in app.services.values():
            c = Choice(title=app.pick(s), subtitle=app.pick(s, "department"),
                       test_id=f"guide-{s['code']}", size_hint_y=None, height=app.u * 130)
            c.bind(on_release=lambda w, code=s["code"]: app.go("guide", code=code))
            grid.add_widget(c)
        # a 一件事's guide is its questions and merged materials
        for t in app.themes.values():
            c = Choice(title=app.pick(t), subtitle=app.t("themes"), test_id=f"guide-{t['code']}",
                       size_hint_y=None, height=app.u * 130)
            c.bind(on_release=lambda w, code=t["code"]: app.go("theme", code=code))
            grid.add_widget(c)


class GuideScreen(Screen):
    code = StringProperty("")
    title = StringProperty("")
    url = StringProperty("")
    status = StringProperty("")

    def __init__(self, **kw):
        super().__init__(**kw)
        App.get_running_app().bind(lang=lambda *a: self.code and self.build_text())

    def prepare(self, code: str) -> None:
        self.code = code
        self.status = ""
        self.build_text()

    def service(self) -> dict:
        return App.get_running_app().services.get(self.code) or {}

    def build_text(self) -> None:
        app = App.get_running_app()
        s = self.service()
        g = s.get("guide") or {}
        self.title = app.pick(s)
        self.url = g.get("url") or ""
        box = self.ids.body
        box.clear_widgets()

        def section(key: str, body: str, test_id: str = "") -> None:
            if not body:
                return
            box.add_widget(Factory.SectionTitle(text=app.t(key)))
            box.add_widget(Factory.KLabel(text=body, test_id=test_id, font_size=app.u * 30,
                                          line_height=1.25))
        section("guide_conditions", app.pick(g, "conditions"), "guide_conditions")
        section("guide_process", app.pick(g, "process"))
        materials = material_lines(app, g.get("materials") or [])
        if any(m.get("missing_ok") for m in g.get("materials") or []):
            materials += "\n" + app.t("guide_missing_note")
        section("guide_materials", materials, "guide_materials")
        days = g.get("time_limit_days")
        facts = [(app.t("guide_time_limit"), app.t("guide_days", n=days) if days else app.t("guide_instant")),
                 (app.t("guide_fee"), app.pick(g, "fee") or app.t("guide_free")),
                 (app.t("guide_place"), app.pick(g, "place")), (app.t("guide_phone"), g.get("phone"))]
        box.add_widget(Factory.SectionTitle(text=app.t("guide_time_limit") + " · " + app.t("guide_fee")
                                            + " · " + app.t("guide_place")))
        box.add_widget(Factory.KLabel(text="\n".join(f"{k}：{v}" for k, v in facts if v),
                                      test_id="guide_facts", font_size=app.u * 30, line_height=1.25))
        faq = g.get("faq") or []
        if faq:
            section("guide_faq", "\n\n".join(f"问：{app.pick(f, 'q')}\n答：{app.pick(f, 'a')}"
                                             if app.lang == "zh" else
                                             f"Q: {app.pick(f, 'q')}\nA: {app.pick(f, 'a')}" for f in faq))
        self.ids.scroll.scroll_y = 1

    def print_card(self) -> None:
        app = App.get_running_app()
        self.status = app.t("guide_printing")

        def done(state: str, reason: str) -> None:
            self.status = (app.t("guide_printed") if state == "printed"
                           else app.t("guide_print_failed", reason=app.printer_message(reason)))
        app.print_guide(self.service(), done)

    def take(self) -> None:
        App.get_running_app().go("confirm", code=self.code)
