"""Widgets every kiosk screen uses: tiles, QR codes as textures (their look is in kv/widgets.kv)."""

from __future__ import annotations

import math
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


class FitText(Label):
    """A label whose text shrinks (to 55% at most) until its lines fit its height: Tibetan's
    stacks make a line half again as tall as Chinese, and a button's second line would be cut.
    The kv multiplies its font size by `fit`; after a new text or size it is measured again from
    1, on the next frame, rendering the text at each step (a few renders, only then)."""

    MIN_FIT = 0.55
    STEP = 0.05
    fit = NumericProperty(1.0)  # the shrink factor the kv applies to the font size
    fit_margin = NumericProperty(4)  # pixels of the height kept free

    def __init__(self, **kw):
        super().__init__(**kw)
        self._bind_fit()

    def _fit_now(self, *_) -> None:
        room = self.height - self.fit_margin
        if not self.text or room < self.font_size / self.fit * self.MIN_FIT:
            return  # not laid out yet (or hidden): no size would fit one line, wait for its own
        self.fit = 1.0
        self.texture_update()
        height = uikit.text_height(self)
        if height <= room:
            return
        # Smaller, the text takes as many lines or fewer, each shorter in proportion: the
        # proportional size fits but for the padding, so it is the next render, not one per
        # step. Each size rendered holds a font face (~2.5 MB) for the app's life.
        self.fit = max(self.MIN_FIT, math.floor(room / height / self.STEP) * self.STEP)
        self.texture_update()
        while uikit.text_height(self) > room and self.fit > self.MIN_FIT:
            self.fit = max(self.MIN_FIT, self.fit - self.STEP)
            self.texture_update()

    def _bind_fit(self) -> None:
        from kivy.clock import Clock

        refit = Clock.create_trigger(self._fit_now)
        self.bind(text=refit, size=refit, font_name=refit)
        if hasattr(self, "fs"):
            self.bind(fs=refit)


class KButton(ButtonBehavior, FitText):
    test_id = StringProperty("")
    fit_margin = NumericProperty(8)
    bg = ColorProperty((0.1, 0.33, 0.68, 1))
    fs = NumericProperty(32)  # font size in screen units
    fixed = BooleanProperty(False)  # True: not enlarged in elderly mode (the top bar)


class KFitText(FitText):
    """Text centred in whatever box it is given, shrunk to fit it (the card reader's banner)."""

    test_id = StringProperty("")


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
