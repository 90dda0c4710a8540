"""Widgets every kiosk screen uses: tiles, QR codes as textures (their look is in kv/widgets.kv)."""

from __future__ import annotations

from pathlib import Path

from kivy.properties import (
    AliasProperty,
    BooleanProperty,
    ColorProperty,
    NumericProperty,
    StringProperty,
)
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.image import Image
from kivy.uix.label import Label

from onewindow import uikit
from onewindow.uikit import qr_texture

KV_DIR = Path(__file__).parent / "kv"


def load_kv(name: str) -> None:
    uikit.load_kv(KV_DIR / name)


class QrImage(Image):
    data = StringProperty("")
    test_id = StringProperty("")

    def on_data(self, _w, value: str) -> None:
        self.texture = qr_texture(value) if value else None


class KButton(ButtonBehavior, Label):
    test_id = StringProperty("")
    bg = ColorProperty((0.1, 0.33, 0.68, 1))
    fs = NumericProperty(32)  # font size in screen units
    fixed = BooleanProperty(False)  # True: not enlarged in elderly mode (the top bar)


class Tile(ButtonBehavior, BoxLayout):
    """A service or theme: its name, and the live queue under it."""

    title = StringProperty("")
    subtitle = StringProperty("")
    badge = StringProperty("")
    accent = ColorProperty((0.12, 0.31, 0.6, 1))
    code = StringProperty("")
    test_id = StringProperty("")
    # what tests read as the tile's visible text
    text = AliasProperty(
        lambda self: f"{self.title}\n{self.subtitle}".strip(), bind=("title", "subtitle")
    )


class Choice(ButtonBehavior, BoxLayout):
    """A selectable row (a slot, an answer, a reason): `selected` changes its colour."""

    title = StringProperty("")
    subtitle = StringProperty("")
    value = StringProperty("")
    test_id = StringProperty("")
    text = AliasProperty(
        lambda self: f"{self.title}\n{self.subtitle}".strip(), bind=("title", "subtitle")
    )
    selected = BooleanProperty(False)


load_kv("widgets.kv")
