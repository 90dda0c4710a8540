"""Bar charts drawn with Kivy graphics: enough for a glance at a day's figures, no plotting lib."""

from __future__ import annotations

from kivy.core.text import Label as CoreLabel
from kivy.graphics import Color, Line, Rectangle
from kivy.properties import ListProperty, StringProperty
from kivy.uix.widget import Widget

LABEL_H = 22  # px under the bars for the names
VALUE_H = 20  # px above the tallest bar for its figure
MAX_BAR_W = 48


def _texture(text: str, size: int):
    label = CoreLabel(text=text, font_size=size)
    label.refresh()
    return label.texture


def fitted(text: str, width: float, size: int = 12):
    """The longest start of `text` (at most 6 characters) whose texture fits `width`, or None."""
    for n in range(min(len(text), 6), 0, -1):
        t = _texture(text[:n], size)
        if t.width <= width:
            return t
    return None


class BarChart(Widget):
    """`items`: [(label, value)]; bars scaled to the largest value."""

    items = ListProperty()
    colour = ListProperty([0.08, 0.4, 0.75, 1])
    title = StringProperty("")

    def __init__(self, **kw):
        super().__init__(**kw)
        self.bind(pos=self.redraw, size=self.redraw, items=self.redraw, title=self.redraw)

    def redraw(self, *_):
        self.canvas.clear()
        x0, y0, w, h = self.x, self.y, self.width, self.height
        top = h - (24 if self.title else 0)
        with self.canvas:
            if self.title:
                t = _texture(self.title, 16)
                Color(0.3, 0.3, 0.3, 1)
                Rectangle(texture=t, pos=(x0, y0 + h - t.height), size=t.size)
            Color(0.6, 0.6, 0.6, 1)
            Line(points=[x0, y0 + LABEL_H, x0 + w, y0 + LABEL_H], width=1)
            if not self.items:
                return
            peak = max(v for _, v in self.items) or 1
            slot = w / len(self.items)
            bar = min(MAX_BAR_W, slot * 0.6)
            room = top - LABEL_H - VALUE_H
            for i, (label, value) in enumerate(self.items):
                cx = x0 + slot * (i + 0.5)
                bh = max(0, room * value / peak)
                Color(*self.colour)
                Rectangle(pos=(cx - bar / 2, y0 + LABEL_H), size=(bar, bh))
                Color(0.15, 0.15, 0.15, 1)
                v = _texture(f"{value:g}", 13)
                Rectangle(texture=v, pos=(cx - v.width / 2, y0 + LABEL_H + bh + 2), size=v.size)
                n = fitted(str(label), slot - 4)
                if n is not None:  # a name never runs into its neighbour's
                    Rectangle(texture=n, pos=(cx - n.width / 2, y0 + 2), size=n.size)
