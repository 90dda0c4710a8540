"""办事指南 (一次告知): every service's guide in large type, printable as a 明白卡, with a QR."""

from __future__ import annotations

from kivy.app import App
from kivy.factory import Factory
from kivy.properties import StringProperty
from kivy.uix.screenmanager import Screen

from onewindow import guidewords
from onewindow.domain import guide as guide_model
from onewindow.i18n import localize

from ..widgets import Choice, load_kv
from .confirm import material_lines

load_kv("guides.kv")
load_kv("guide.kv")


def fact_line(app, fact) -> str:
    """A guide's fact (时限, 收费...) in the citizen's language: the label and a number of days
    or visits from the catalogs (onewindow/guidewords.py), a stated text (fee, place) as the
    hall file gives it in that language (localize)."""
    return guidewords.fact_line(fact, app.lang)


class GuidesScreen(Screen):
    """Every service, to pick a guide from."""

    def on_pre_enter(self, *a) -> None:
        app = App.get_running_app()
        grid = self.ids.grid
        grid.clear_widgets()
        for s in app.services.values():
            c = Choice(
                title=app.pick(s),
                subtitle=app.pick(s, "department"),
                test_id=f"guide-{s['code']}",
                size_hint_y=None,
                height=app.u * 130,
            )
            c.bind(on_release=lambda w, code=s["code"]: app.go("guide", code=code))
            grid.add_widget(c)
        # a 一件事's guide is its questions and merged materials
        for t in app.themes.values():
            c = Choice(
                title=app.pick(t),
                subtitle=app.t("themes"),
                test_id=f"guide-{t['code']}",
                size_hint_y=None,
                height=app.u * 130,
            )
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
            box.add_widget(
                Factory.KLabel(text=body, test_id=test_id, font_size=app.u * 30, line_height=1.25)
            )

        # the one guide model (domain/guide.py): the web page and the 明白卡 read it too, and it
        # shows only what the hall file states
        card = guide_model.card(localize(s, app.lang))
        section("guide_conditions", card.conditions, "guide_conditions")
        section("guide_process", card.process, "guide_process")
        materials = material_lines(app, card.materials)
        if card.any_missing_ok:
            materials += "\n" + app.t("guide_missing_note")
        section("guide_materials", materials, "guide_materials")
        if card.facts:
            box.add_widget(Factory.SectionTitle(text=app.t("guide_facts_title")))
            box.add_widget(
                Factory.KLabel(
                    text="\n".join(fact_line(app, f) for f in card.facts),
                    test_id="guide_facts",
                    font_size=app.u * 30,
                    line_height=1.25,
                )
            )
        if card.faq:
            section(
                "guide_faq",
                "\n\n".join(app.t("faq_item", q=q, a=a) for q, a in card.faq),
                "guide_faq",
            )
        self.ids.scroll.scroll_y = 1

    def print_card(self) -> None:
        app = App.get_running_app()
        self.status = app.t("guide_printing")

        def done(state: str, reason: str) -> None:
            self.status = (
                app.t("guide_printed")
                if state == "printed"
                else app.t("guide_print_failed", reason=app.printer_message(reason))
            )

        app.print_guide(self.service(), done)

    def take(self) -> None:
        App.get_running_app().go("confirm", code=self.code)
