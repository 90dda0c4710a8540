"""一表申请: after the theme's questions, the merged form with the ID card's data filled in; the
citizen adds the phone and the items' fields on the on-screen number pad or with choice
buttons, and confirms: the number is taken with the form (ticket.issue `form`). The items'
Chinese text fields (新生儿姓名...) are typed in pinyin on the on-screen letter pad through the
session's input method when the kiosk runs with --pinyin (kiosk/pinyin.py); without it, or
when the citizen leaves them empty, they are written by hand on the printed form. The card's
fields are the card's: a social security card gives only the name and the ID number, and the
rest (sex, nation, birth, address) stays blank on the paper for the citizen's hand."""

from __future__ import annotations

from kivy.app import App
from kivy.factory import Factory
from kivy.properties import BooleanProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.screenmanager import Screen
from kivy.uix.textinput import TextInput

from onewindow.domain.identity import mask_id_number, mask_name

from ..widgets import Choice, KButton, load_kv

load_kv("form.kv")

TYPED = ("phone", "digits", "date")  # entered on the number pad
MAX_DIGITS = {"phone": 11, "date": 8, "digits": 30}
MAX_TEXT = 100  # as the hall checks (domain/forms.MAX_VALUE)


class KInput(TextInput):
    """A Chinese text field: keeps the focus while the letter pad is touched (the pad's keys
    reach it through the input method)."""

    test_id = StringProperty("")


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


LETTER_ROWS = ("1234567890", "qwertyuiop", "asdfghjkl")
LETTER_LAST = "zxcvbnm"


def letter_pad(screen) -> BoxLayout:
    """The on-screen letter pad: pinyin letters, the digits that choose among the input
    method's candidates, 选字 (space: the first candidate), 退格, 清空 and 完成."""
    from kivy.uix.gridlayout import GridLayout

    app = App.get_running_app()
    grid = GridLayout(cols=10, spacing=app.u * 8)

    def key(text: str, keysym: str, test_id: str, bg=(0.27, 0.36, 0.47, 1), fs: int = 34):
        b = KButton(text=text, test_id=test_id, bg=bg, fs=fs)
        if keysym == "done":
            b.bind(on_release=lambda w: screen.done_typing())
        else:
            b.bind(on_release=lambda w: screen.letter(keysym))
        grid.add_widget(b)

    for row in LETTER_ROWS:
        for c in row:
            key(c, c, f"lkey-{c}", (0.2, 0.3, 0.42, 1) if c.isdigit() else (0.27, 0.36, 0.47, 1))
    key(app.t("form_key_back"), "BackSpace", "lkey-back", (0.55, 0.4, 0.2, 1), 24)
    for c in LETTER_LAST:
        key(c, c, f"lkey-{c}", fs=34)
    key(app.t("form_key_pick"), "space", "lkey-space", (0.1, 0.45, 0.6, 1), 24)
    key(app.t("form_key_clear"), "clear", "lkey-clear", (0.55, 0.4, 0.2, 1), 24)
    key(app.t("form_key_done"), "done", "lkey-done", (0.1, 0.55, 0.3, 1), 24)
    return grid


class FormScreen(Screen):
    title = StringProperty("")
    error = StringProperty("")
    letters = BooleanProperty(False)  # the letter pad is shown (a text field is being typed)

    def __init__(self, **kw):
        super().__init__(**kw)
        self.numpad = self.ids.numpad.__self__  # held here: swapped out of the tree, kept
        self.letterpad = letter_pad(self)
        self.code = ""
        self.answers: dict = {}
        self.form: dict = {}
        self.values: dict[str, str] = {}
        self.typing: str = ""  # the key the number pad writes to
        self.value_labels: dict[str, KButton] = {}
        self.inputs: dict[str, KInput] = {}
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
        self.value_labels, self.inputs, self.choices = {}, {}, {}
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
            shown = shown_card_value(f["key"], citizen.get(f["key"]) or "")
            row.add_widget(
                Factory.KText(
                    # not on the card (a social security card has no address): by hand
                    text=shown or app.t("form_by_hand"),
                    color=(0.13, 0.16, 0.22, 1) if shown else (0.45, 0.48, 0.55, 1),
                    halign="left",
                    font_size=app.u * (28 if shown else 24),
                    bold=bool(shown),
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
        elif app.pinyin is not None:  # Chinese typed in pinyin on the letter pad
            ti = KInput(
                test_id=f"form-field-{f['key']}",
                font_size=app.u * 30,
                multiline=False,
                write_tab=False,
                unfocus_on_touch=False,
                hint_text=app.t("form_pinyin_hint"),
                size_hint_x=0.62,
                padding=[app.u * 12, app.u * 18],
            )
            ti.bind(
                focus=lambda w, on, k=f["key"]: self.focused(k, on),
                text=lambda w, text, k=f["key"]: self.typed(k, text),
            )
            self.inputs[f["key"]] = ti
            row.add_widget(ti)
        else:
            row.add_widget(
                Factory.KText(
                    text=app.t("form_by_hand"),
                    halign="left",
                    font_size=app.u * 24,
                    color=(0.45, 0.48, 0.55, 1),
                    size_hint_x=0.62,
                    test_id=f"form-field-{f['key']}",
                )
            )
        return row

    def focus(self, key: str) -> None:
        self.typing = key
        letters = key in self.inputs
        for k, ti in self.inputs.items():
            if k != key and ti.focus:
                ti.focus = False
        if not letters and key:
            for ti in self.inputs.values():
                ti.focus = False
        elif letters and not self.inputs[key].focus:
            self.inputs[key].focus = True
        if letters:
            self._place_candidates(self.inputs[key])
        if letters != self.letters:
            pinyin = App.get_running_app().pinyin
            if pinyin is not None:
                pinyin.pinyin(letters)
            self.letters = letters
        self.update()

    def _place_candidates(self, ti) -> None:
        from kivy.core.window import Window

        from ..pinyin import show_candidates_at

        x, y = ti.to_window(ti.x, ti.y)
        show_candidates_at(
            int(x), int(Window.height - y - ti.height), int(ti.width), int(ti.height)
        )

    def on_letters(self, _w, letters: bool) -> None:
        pads = self.ids.pads
        pads.clear_widgets()
        pads.add_widget(self.letterpad if letters else self.numpad)

    def done_typing(self) -> None:
        """完成: the text field lets go, the number pad is back."""
        self.focus("")

    def focused(self, key: str, on: bool) -> None:
        if on:
            self.focus(key)

    def typed(self, key: str, text: str) -> None:
        text = text.replace("\n", "")[:MAX_TEXT]
        if text.strip():
            self.values[key] = text
        else:
            self.values.pop(key, None)

    def letter(self, keysym: str) -> None:
        """The letter pad: each key goes to the input method as a real key (kiosk/pinyin.py);
        清空 empties the field (and whatever pinyin is being composed)."""
        pinyin = App.get_running_app().pinyin
        if pinyin is None or self.typing not in self.inputs:
            return
        if keysym == "clear":
            # the pinyin being composed is taken back letter by letter (Escape would also
            # take the focus from the field, and close a windowed Kivy app)
            ti = self.inputs[self.typing]
            composing = getattr(ti, "_ime_composition", "") or ""
            for _ in range(sum(c.isalpha() for c in composing)):
                pinyin.key("BackSpace")
            ti.text = ""
            return
        pinyin.key(keysym)

    def leave(self) -> None:
        """Off this screen: no field keeps the focus, the input method goes off."""
        for ti in self.inputs.values():
            ti.focus = False
        if self.letters:
            self.letters = False
            pinyin = App.get_running_app().pinyin
            if pinyin is not None:
                pinyin.pinyin(False)

    def on_leave(self, *a) -> None:
        self.leave()

    def choose(self, key: str, option: str) -> None:
        self.values[key] = option
        self.update()

    def key(self, char: str) -> None:
        """The number pad: a digit, X, ⌫ (back) or clear, into the field being typed."""
        if not self.typing or self.typing in self.inputs:
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
        self.leave()
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
