"""Charts drawn with Kivy graphics: enough for a glance at a day's figures, no plotting lib."""

from __future__ import annotations

import math

from kivy.core.text import Label as CoreLabel
from kivy.graphics import Color, Ellipse, Line, Rectangle
from kivy.properties import ListProperty, NumericProperty, StringProperty
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


GROUP_COLOURS = (  # (Tableau's ten, less the orange and red the lines use)
    (0.12, 0.47, 0.71, 1),
    (0.17, 0.63, 0.17, 1),
    (0.58, 0.4, 0.74, 1),
    (0.09, 0.75, 0.81, 1),
    (0.55, 0.34, 0.29, 1),
    (0.5, 0.5, 0.5, 1),
    (0.74, 0.74, 0.13, 1),
    (0.89, 0.47, 0.76, 1),
    (0.68, 0.78, 0.91, 1),
    (0.6, 0.87, 0.54, 1),
)
WAIT_COLOUR = (0.92, 0.5, 0.05, 1)  # predicted
ACTUAL_COLOUR = (0.8, 0.1, 0.1, 1)  # today's
AXIS_W = 34  # px for each side's axis figures


def _nice(top: float) -> float:
    """A round axis top at or above `top` (1, 2, 5 x 10^k)."""
    if top <= 0:
        return 1
    step = 10 ** math.floor(math.log10(top))
    for m in (1, 2, 5, 10):
        if m * step >= top:
            return m * step
    return 10 * step


class PlanChart(Widget):
    """排班建议 per slot: bars of the windows to open (stacked by kind of window, left axis),
    the predicted wait as a line (right axis, minutes) against the target (dashed); today's
    windows that called (black ticks) and today's wait (red line) over them.

    `rows`: [{slot, groups: [n per kind], wait, actual_windows, actual_wait}] (None: no figure);
    `text` says the same in words (for tests and screen readers)."""

    rows = ListProperty()
    target = NumericProperty(0)
    test_id = StringProperty("")
    text = StringProperty("")

    def __init__(self, **kw):
        super().__init__(**kw)
        self.bind(pos=self.redraw, size=self.redraw, rows=self.redraw, target=self.redraw)

    def redraw(self, *_):
        self.canvas.clear()
        if not self.rows:
            return
        x0, y0 = self.x + AXIS_W, self.y + LABEL_H
        w, h = self.width - 2 * AXIS_W, self.height - LABEL_H - VALUE_H
        if w <= 0 or h <= 0:
            return
        top_n = _nice(
            max(
                [sum(r["groups"]) for r in self.rows]
                + [r["actual_windows"] or 0 for r in self.rows]
                + [1]
            )
        )
        waits = [r[k] for r in self.rows for k in ("wait", "actual_wait") if r[k] is not None]
        top_w = _nice(max(waits + [self.target * 1.25, 1]))
        slot = w / len(self.rows)
        bar = min(MAX_BAR_W, slot * 0.6)
        with self.canvas:
            self._axes(x0, y0, w, h, top_n, top_w)
            for i, r in enumerate(self.rows):
                cx = x0 + slot * (i + 0.5)
                base = y0
                for g, n in enumerate(r["groups"]):
                    if n:
                        Color(*GROUP_COLOURS[g % len(GROUP_COLOURS)])
                        bh = h * n / top_n
                        Rectangle(pos=(cx - bar / 2, base), size=(bar, bh))
                        base += bh
                if r["actual_windows"] is not None:
                    Color(0.1, 0.1, 0.1, 1)
                    ay = y0 + h * r["actual_windows"] / top_n
                    Line(points=[cx - bar * 0.65, ay, cx + bar * 0.65, ay], width=2)
                label = fitted(r["slot"], slot - 2, 11)
                if label is not None and (i % max(1, math.ceil(label.width / slot)) == 0):
                    Color(0.25, 0.25, 0.25, 1)
                    Rectangle(
                        texture=label, pos=(cx - label.width / 2, self.y + 2), size=label.size
                    )
            for key, colour in (("wait", WAIT_COLOUR), ("actual_wait", ACTUAL_COLOUR)):
                points = []
                for i, r in enumerate(self.rows):
                    if r[key] is not None:
                        points += [x0 + slot * (i + 0.5), y0 + h * min(r[key], top_w) / top_w]
                Color(*colour)
                if len(points) >= 4:
                    Line(points=points, width=2)
                for px, py in zip(points[::2], points[1::2], strict=True):
                    Ellipse(pos=(px - 4, py - 4), size=(8, 8))
            if self.target:
                Color(0.75, 0.2, 0.2, 1)
                ty = y0 + h * self.target / top_w
                Line(points=[x0, ty, x0 + w, ty], width=1, dash_length=6, dash_offset=4)

    def _axes(self, x0: float, y0: float, w: float, h: float, top_n: float, top_w: float) -> None:
        Color(0.6, 0.6, 0.6, 1)
        Line(points=[x0, y0 + h, x0, y0, x0 + w, y0, x0 + w, y0 + h], width=1)
        for frac in (0.5, 1.0):
            Color(0.85, 0.85, 0.85, 1)
            Line(points=[x0, y0 + h * frac, x0 + w, y0 + h * frac], width=1)
            Color(0.3, 0.3, 0.3, 1)
            n = _texture(f"{top_n * frac:g}", 12)
            Rectangle(texture=n, pos=(x0 - n.width - 4, y0 + h * frac - n.height / 2), size=n.size)
            m = _texture(f"{top_w * frac:g}", 12)
            Color(*WAIT_COLOUR)
            Rectangle(texture=m, pos=(x0 + w + 4, y0 + h * frac - m.height / 2), size=m.size)
