"""Widgets every kiosk screen uses: tiles, QR codes as textures (their look is in kv/widgets.kv)."""

from __future__ import annotations

import math
import unicodedata
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


ELLIPSIS = "…"


class FitText(Label):
    """A label whose text shrinks (to 55% at most) until its lines fit its height: Tibetan's
    stacks make a line half again as tall as Chinese, and a button's second line would be cut.
    The kv multiplies its font size by `fit`; after a new text or size it is measured again from
    1, on the next frame, rendering the text at each step (a few renders, only then).

    With `ellipsis`, a text too tall even at the smallest size is cut where it fits, ending in
    "…" (a service's name of any length on its tile); `text` then shows the cut, and a text set
    from outside is the whole one again."""

    MIN_FIT = 0.55
    STEP = 0.05
    fit = NumericProperty(1.0)  # the shrink factor the kv applies to the font size
    fit_margin = NumericProperty(4)  # pixels of the height kept free
    ellipsis = BooleanProperty(False)
    text: str  # Label's, for mypy (an annotation only: Kivy's property stays)

    def __init__(self, **kw):
        self._whole = ""  # the text as given, before any cut
        self._cutting = False
        super().__init__(**kw)
        self._whole = self.text
        self._bind_fit()

    def _fit_now(self, *_) -> None:
        room = self.height - self.fit_margin
        if not self._whole or room < self.font_size / self.fit * self.MIN_FIT:
            return  # not laid out yet (or hidden): no size would fit one line, wait for its own
        self._show(self._whole)
        self.fit = 1.0
        self.texture_update()
        height = uikit.text_height(self)
        if height <= room:
            return
        self._shrink(room, height)
        if self.ellipsis and uikit.text_height(self) > room:
            self._cut(room)

    def _shrink(self, room: float, height: float) -> None:
        """`fit` made small enough for the text's `height` at 1 to fit `room`, if any can."""
        # Smaller, the text takes as many lines or fewer, each shorter in proportion: the
        # proportional size fits but for the padding, so it is the next render, not one per
        # step. Each size rendered holds a font face (~2.5 MB) for the app's life.
        self.fit = max(self.MIN_FIT, math.floor(room / height / self.STEP) * self.STEP)
        self.texture_update()
        while uikit.text_height(self) > room and self.fit > self.MIN_FIT:
            self.fit = max(self.MIN_FIT, self.fit - self.STEP)
            self.texture_update()

    def _cut(self, room: float) -> None:
        """The longest start of the text that fits with "…" after it (a binary search, a render
        a step), cut before a letter, never inside a Tibetan stack or before a vowel sign."""
        whole = self._whole
        cuts = [i for i in range(1, len(whole)) if unicodedata.category(whole[i])[0] != "M"]
        lo, hi = 0, len(cuts)  # cuts[:lo] fit; cuts[hi:] do not
        while lo < hi:
            mid = (lo + hi + 1) // 2
            self._show(whole[: cuts[mid - 1]].rstrip() + ELLIPSIS)
            if uikit.text_height(self) <= room:
                lo = mid
            else:
                hi = mid - 1
        self._show(whole[: cuts[lo - 1]].rstrip() + ELLIPSIS if lo else ELLIPSIS)

    def _show(self, text: str) -> None:
        """`text` drawn, the whole text kept: a cut of our own is no new text to fit."""
        if text == self.text:
            return
        self._cutting = True
        try:
            self.text = text
        finally:
            self._cutting = False
        self.texture_update()

    def _bind_fit(self) -> None:
        from kivy.clock import Clock

        refit = Clock.create_trigger(self._fit_now)

        def new_text(*_) -> None:
            if not self._cutting:
                self._whole = self.text
                refit()

        self.bind(text=new_text, size=refit, font_name=refit)
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


class TileTitle(FitText):
    """A tile's name: shrunk to fit the room between its department and its queue, and cut
    with "…" if even the smallest size will not hold it (a long name, or a Chinese name shown
    for want of the citizen's language, wrapped over the queue line under it)."""

    # not as small as a button's least: a name read from a step back is cut ("…") sooner
    MIN_FIT = 0.7
    ellipsis = BooleanProperty(True)

    def _shrink(self, room: float, height: float) -> None:
        """The largest step that fits, found by halves (about four renders): a name of two lines
        at full size that fits one line at 0.8 is not drawn at the 0.7 the proportional guess
        gives, nor a Tibetan line, whose stacks' room makes it a little too tall, at 0.7."""
        steps = [1 - i * self.STEP for i in range(1, round((1 - self.MIN_FIT) / self.STEP) + 1)]
        lo, hi = 0, len(steps) - 1  # the first step that fits is in steps[lo:hi + 1]
        while lo < hi:
            mid = (lo + hi) // 2
            self.fit = steps[mid]
            self.texture_update()
            if uikit.text_height(self) <= room:
                hi = mid
            else:
                lo = mid + 1
        self.fit = steps[lo]
        self.texture_update()


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
