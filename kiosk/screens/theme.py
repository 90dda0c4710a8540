"""一件事: the 情形 questions choose the items and the merged materials; one ticket for it all."""

from __future__ import annotations

from kivy.app import App
from kivy.factory import Factory
from kivy.properties import StringProperty
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.screenmanager import Screen

from onewindow.domain import guide as guide_model

from ..widgets import Choice, load_kv
from .confirm import material_lines
from .guide import fact_line

load_kv("theme.kv")


class ThemeScreen(Screen):
    code = StringProperty("")
    title = StringProperty("")
    items_text = StringProperty("")
    materials = StringProperty("")
    limit = StringProperty("")
    error = StringProperty("")

    def __init__(self, **kw):
        super().__init__(**kw)
        self.answers: dict[str, bool] = {}
        App.get_running_app().bind(lang=lambda *a: self.code and self.build())

    def prepare(self, code: str) -> None:
        self.code = code
        self.error = ""
        theme = self.theme()
        self.answers = {q["id"]: False for q in theme.get("questions") or []}
        self.build()

    def theme(self) -> dict:
        return App.get_running_app().themes.get(self.code) or {}

    def build(self) -> None:
        app = App.get_running_app()
        theme = self.theme()
        self.title = app.pick(theme)
        box = self.ids.questions
        box.clear_widgets()
        self.choices: dict[tuple[str, bool], Choice] = {}
        for q in theme.get("questions") or []:
            row = BoxLayout(size_hint_y=None, height=app.u * 110, spacing=app.u * 12)
            row.add_widget(
                Factory.KText(text=app.pick(q, "text"), halign="left", font_size=app.u * 30)
            )
            for value in (True, False):
                c = Choice(
                    title=app.t("yes" if value else "no"),
                    size_hint_x=None,
                    width=app.u * 130,
                    test_id=f"q-{q['id']}-{'yes' if value else 'no'}",
                )
                c.bind(on_release=lambda w, qid=q["id"], v=value: self.answer(qid, v))
                self.choices[(q["id"], value)] = c
                row.add_widget(c)
            box.add_widget(row)
        self.update()

    def answer(self, qid: str, value: bool) -> None:
        self.answers[qid] = value
        self.update()

    def selected_items(self) -> list[str]:
        theme = self.theme()
        items = list(theme.get("items") or [])
        for q in theme.get("questions") or []:
            if self.answers.get(q["id"]):
                items += [c for c in q.get("adds") or [] if c not in items]
        return items

    def update(self) -> None:
        app = App.get_running_app()
        theme = self.theme()
        for (qid, value), c in self.choices.items():
            c.selected = self.answers.get(qid) is value
        items = self.selected_items()
        self.items_text = app.t("list_sep").join(
            app.pick(app.services.get(c) or {"name": c}) for c in items
        )
        merged = [
            m for m in theme.get("materials") or [] if set(m.get("for") or items) & set(items)
        ]
        self.materials = material_lines(app, merged)
        # the one guide model: a limit the file leaves out is not shown, 0 reads 即办
        limit = next((f for f in guide_model.card(theme).facts if f.key == "time_limit_days"), None)
        self.limit = fact_line(app, limit) if limit else ""

    def take(self) -> None:
        """一表申请: with a card read and a form for the selected items, the form comes first;
        else the number at once (the form is then filled at the window)."""
        self.error = ""
        app = App.get_running_app()
        answers = dict(self.answers)
        if not app.citizen:
            app.take_number(self.code, answers=answers, failed=self.failed)
            return

        def done(result, error):
            form = (result or {}).get("form")
            if error is None and form:
                app.go("form", code=self.code, answers=answers, form=form)
            else:
                app.take_number(self.code, answers=answers, failed=self.failed)

        app.request("form.template", {"service": self.code, "answers": answers}, done)

    def failed(self, message: str) -> None:
        self.error = message
