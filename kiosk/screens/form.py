"""一表申请: after the theme's questions, the merged form with the ID card's data filled in; the
citizen adds the phone and the items' fields on the on-screen number pad or with choice
buttons, and confirms: the number is taken with the form (ticket.issue `form`). Text fields
are written by hand on the printed form: the kiosk has no Chinese keyboard."""

from __future__ import annotations

from kivy.app import App
from kivy.factory import Factory
from kivy.properties import StringProperty
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.screenmanager import Screen

from onewindow.domain.identity import mask_id_number, mask_name

from ..widgets import Choice, KButton, load_kv

load_kv("form.kv")

TYPED = ("phone", "digits", "date")  # entered on the number pad
MAX_DIGITS = {"phone": 11, "date": 8, "digits": 30}


def shown_card_value(key: str, value: str) -> str:
    """What a passer-by may read over the citizen's shoulder."""
    if key == "name":
        return mask_name(value)
    if key == "id_number":
        return mask_id_number(value)
    if key == "address":
        return value[:6] + "****" if len(value) > 6 else value
    return value


def as_date(digits: str) -> str:
    """20261120 -> 2026-11-20 as the citizen types (the controller checks the date)."""
    parts = [digits[:4], digits[4:6], digits[6:8]]
    return "-".join(p for p in parts if p)


class FormScreen(Screen):
    title = StringProperty("")
    error = StringProperty("")

    def __init__(self, **kw):
        super().__init__(**kw)
        self.code = ""
        self.answers: dict = {}
        self.form: dict = {}
        self.values: dict[str, str] = {}
        self.typing: str = ""  # the key the number pad writes to
        self.value_labels: dict[str, KButton] = {}
        self.choices: dict[tuple[str, str], Choice] = {}

    def prepare(self, code: str, answers: dict, form: dict) -> None:
        self.code, self.answers, self.form = code, answers, form
        self.values, self.error = {}, ""
        fields = form.get("fields") or []
        typed = [f for f in fields if f["type"] in TYPED and f["source"] != "card"]
        self.typing = typed[0]["key"] if typed else ""
        self.build()

    def build(self) -> None:
        app = App.get_running_app()
        self.title = self.form.get("title", "")
        box = self.ids.fields
        box.clear_widgets()
        self.value_labels, self.choices = {}, {}
        citizen = app.citizen or {}
        sections = (("card",), app.t("form_basic")), (("contact", "item"), app.t("form_items"))
        for sources, heading in sections:
            box.add_widget(Factory.SectionTitle(text=heading))
            for f in self.form.get("fields") or []:
                if f["source"] in sources:
                    box.add_widget(self._row(app, f, citizen))
        self.update()

    def _row(self, app, f: dict, citizen: dict):
        row = BoxLayout(size_hint_y=None, height=app.u * 76, spacing=app.u * 10)
        label = str(f.get("label_en") if app.lang == "en" and f.get("label_en") else f["label"])
        row.add_widget(
            Factory.KText(
                text=label + ("*" if f.get("required") and f["type"] != "text" else ""),
                halign="left",
                font_size=app.u * 26,
                size_hint_x=0.38,
            )
        )
        if f["source"] == "card":
            row.add_widget(
                Factory.KText(
                    text=shown_card_value(f["key"], citizen.get(f["key"]) or ""),
                    halign="left",
                    font_size=app.u * 28,
                    bold=True,
                    size_hint_x=0.62,
                    test_id=f"form-card-{f['key']}",
                )
            )
        elif f["type"] in TYPED:
            b = Factory.KLight(
                test_id=f"form-field-{f['key']}", fs=28, halign="left", size_hint_x=0.62
            )
            b.bind(on_release=lambda w, k=f["key"]: self.focus(k))
            self.value_labels[f["key"]] = b
            row.add_widget(b)
        elif f["type"] == "choice":
            options = BoxLayout(spacing=app.u * 8, size_hint_x=0.62)
            for option in f.get("options") or []:
                c = Choice(title=option, test_id=f"form-{f['key']}-{option}")
                c.bind(on_release=lambda w, k=f["key"], o=option: self.choose(k, o))
                self.choices[(f["key"], option)] = c
                options.add_widget(c)
            row.add_widget(options)
        else:
            row.add_widget(
                Factory.KText(
                    text=app.t("form_by_hand"),
                    halign="left",
                    font_size=app.u * 24,
                    color=(0.45, 0.48, 0.55, 1),
                    size_hint_x=0.62,
                )
            )
        return row

    def focus(self, key: str) -> None:
        self.typing = key
        self.update()

    def choose(self, key: str, option: str) -> None:
        self.values[key] = option
        self.update()

    def key(self, char: str) -> None:
        """The number pad: a digit, X, ⌫ (back) or clear, into the field being typed."""
        if not self.typing:
            return
        kind = next(f["type"] for f in self.form["fields"] if f["key"] == self.typing)
        raw = self.values.get(self.typing, "").replace("-", "")
        if char == "back":
            raw = raw[:-1]
        elif char == "clear":
            raw = ""
        elif len(raw) < MAX_DIGITS[kind] and (char.isdigit() or kind == "digits"):
            raw += char
        value = as_date(raw) if kind == "date" else raw
        if value:
            self.values[self.typing] = value
        else:
            self.values.pop(self.typing, None)
        self.update()

    def update(self) -> None:
        app = App.get_running_app()
        for key, b in self.value_labels.items():
            b.text = self.values.get(key) or app.t("form_tap")
            b.bg = (1.0, 0.96, 0.85, 1) if key == self.typing else (0.9, 0.92, 0.96, 1)
        for (key, option), c in self.choices.items():
            c.selected = self.values.get(key) == option

    def confirm(self) -> None:
        self.error = ""
        App.get_running_app().take_number(
            self.code,
            answers=dict(self.answers),
            form={"values": dict(self.values)},
            failed=self.failed,
        )

    def skip(self) -> None:
        self.error = ""
        App.get_running_app().take_number(self.code, answers=dict(self.answers), failed=self.failed)

    def failed(self, message: str) -> None:
        self.error = message

    def on_citizen(self) -> None:
        self.build()
