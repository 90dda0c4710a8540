"""Kivy helpers every app of the hall uses (the apps themselves share onewindow/appbase.py):
set-up without Kivy's own config files, CJK fonts, KV loading, QR textures, the hall clock, and
the tests' view of the screen (widget targets)."""

from __future__ import annotations

import json
import logging
import os
import time
from typing import Optional

log = logging.getLogger(__name__)

TARGETS_ENV = "ONEWINDOW_TARGETS"  # tests: where the app writes its touch targets
STILL_S = 0.1  # tests: targets are written once they hold still this long


def setup_kivy(width: int, height: int, fullscreen: bool = False, title: str = "OneWindow") -> None:
    """Call before anything imports kivy.core.window. Kivy writes no ini and parses no argv."""
    os.environ.setdefault("KIVY_NO_ARGS", "1")
    os.environ.setdefault("KIVY_NO_CONFIG", "1")
    os.environ.setdefault("KIVY_NO_FILELOG", "1")
    os.environ.setdefault("KIVY_LOG_MODE", "PYTHON")
    os.environ.setdefault("KIVY_AUDIO", "sdl2")
    from .extras import require

    require("kivy")
    from kivy.config import Config

    Config.set("graphics", "width", str(width))
    Config.set("graphics", "height", str(height))
    Config.set("graphics", "fullscreen", "auto" if fullscreen else "0")
    Config.set("graphics", "resizable", "1")
    Config.set("graphics", "position", "custom")  # top-left: screen and touch coordinates agree
    # the demo lays several apps out on one screen; tests keep (0, 0) so touches line up
    left, _, top = os.environ.get("ONEWINDOW_WINDOW_POS", "0,0").partition(",")
    Config.set("graphics", "left", left or "0")
    Config.set("graphics", "top", top or "0")
    Config.set("kivy", "exit_on_escape", "0" if fullscreen else "1")
    Config.set("input", "mouse", "mouse,disable_multitouch")
    # flat screens need no anti-aliasing; 2x multisampling cost 66 MB at 1080x1920 (a software
    # renderer keeps multisampled colour and depth buffers besides the window's own)
    Config.set("graphics", "multisamples", "0")
    register_fonts()


def register_fonts() -> None:
    """Make Noto Sans CJK every label's default font, so no text shows as boxes."""
    from kivy.core.text import DEFAULT_FONT, LabelBase

    from .fonts import find_font

    regular = find_font("regular")
    if regular is None:
        log.error(
            "no CJK font found (install fonts-noto-cjk, or name the font's file and "
            "folder in assets/fonts.toml): Chinese will not display"
        )
        return
    bold = find_font("bold") or regular
    LabelBase.register(DEFAULT_FONT, regular, fn_bold=bold)
    LabelBase.register("CJK", regular, fn_bold=bold)
    tibetan = find_font("regular", "tibetan")
    if tibetan is None:
        log.warning(
            "no Tibetan font found (install fonts-noto-core or fonts-tibetan-machine): "
            "Tibetan will not display"
        )
        return
    install_script_runs(tibetan, find_font("bold", "tibetan") or tibetan)


def install_script_runs(regular: str, bold: str) -> None:
    """Every label draws each Tibetan run of its text in the Tibetan font, shaped by HarfBuzz
    (`font_script_name` "Tibt": without it the stacked letters come apart), and the rest in its
    own font. Kivy's labels (plain and markup) take the core label class when kivy.uix.label is
    first imported, so this runs before (setup_kivy)."""
    from contextlib import contextmanager

    from kivy.core import text as core_text

    from .scriptruns import has_tibetan, script_runs

    base = core_text.Label
    if getattr(base, "script_runs", False):
        return

    class ScriptLabel(base):  # type: ignore[misc, valid-type]
        script_runs = True

        @contextmanager
        def _script(self, script: str):
            if not script:
                yield
                return
            options = self.options
            saved = options.get("font_name_r"), options.get("font_script_name")
            options["font_name_r"] = bold if options.get("bold") else regular
            options["font_script_name"] = "Tibt"
            try:
                yield
            finally:
                options["font_name_r"], options["font_script_name"] = saved

        def get_extents(self, text):
            if not has_tibetan(text):
                return super().get_extents(text)
            width = height = 0
            for script, run in script_runs(text):
                with self._script(script):
                    w, h = super().get_extents(run)
                width, height = width + w, max(height, h)
            return width, height

        def _render_text(self, text, x, y):
            """Each run on the line's one baseline: a font draws its run from the top, and the
            Tibetan font's ascent is the taller, so digits and Chinese drawn from the same top
            sat high beside Tibetan. Never lower than the line's height lets a run go."""
            if not has_tibetan(text):
                return super()._render_text(text, x, y)
            runs = []
            for script, run in script_runs(text):
                with self._script(script):
                    runs.append((script, run, self.get_ascent(), super().get_extents(run)))
            top = max(ascent for _, _, ascent, _ in runs)
            line = max(h for _, _, _, (_, h) in runs)
            for script, run, ascent, (w, h) in runs:
                with self._script(script):
                    super()._render_text(run, x, y + max(0, min(top - ascent, line - h)))
                x += w

    core_text.Label = ScriptLabel


def load_kv(path) -> None:
    """Load a screen's KV file once: a second load would define its rules twice."""
    from kivy.lang import Builder

    path = str(path)
    if path not in Builder.files:
        Builder.load_file(path)


def lazy_screen(manager, name: str, table: dict[str, str], package: str):
    """Screen `name` of a ScreenManager, built the first time it is wanted from `table`
    ({name: "module:Class"}, modules relative to `package`): a screen nobody opened holds no
    widgets, textures or fonts."""
    if not manager.has_screen(name):
        import importlib

        module, _, cls = table[name].partition(":")
        manager.add_widget(getattr(importlib.import_module(f".{module}", package), cls)(name=name))
    return manager.get_screen(name)


def qr_texture(data: str):
    """A QR code as a crisp Kivy texture (nearest filtering keeps the modules sharp when scaled)."""
    import qrcode
    from kivy.graphics.texture import Texture

    code = qrcode.QRCode(border=2, box_size=8, error_correction=qrcode.constants.ERROR_CORRECT_M)
    code.add_data(data)
    code.make(fit=True)
    img = code.make_image(fill_color="black", back_color="white").get_image().convert("RGBA")
    tex = Texture.create(size=img.size, colorfmt="rgba")
    tex.blit_buffer(img.tobytes(), colorfmt="rgba", bufferfmt="ubyte")
    tex.flip_vertical()
    tex.mag_filter = tex.min_filter = "nearest"
    return tex


def hall_now(hall_state: Optional[dict]):
    """The hall's wall clock, whatever this box's own zone: the zone of state/hall's timestamp."""
    from datetime import datetime

    stamp = (hall_state or {}).get("updated_at")
    try:
        tz = datetime.fromisoformat(stamp).tzinfo if isinstance(stamp, str) else None
    except ValueError:
        tz = None
    return datetime.now(tz)


class TargetsFile:
    """Tests: every widget with a `test_id`, its centre in window pixels (origin top-left) and its
    text, written to the file ONEWINDOW_TARGETS names, so a test can read the screen and touch it
    through the real input path (xdotool -> X -> SDL -> Kivy). Made only when that variable is
    set: in production nothing is walked or written."""

    def __init__(self, path: str):
        self.path = path
        self._last = self._written = None
        self._changed_at = 0.0

    @classmethod
    def from_env(cls) -> Optional["TargetsFile"]:
        path = os.environ.get(TARGETS_ENV)
        return cls(path) if path else None

    def look(self, screen: str) -> None:
        """Called often. New texts in an unchanged layout are written at once; a layout that
        changed is written once it has held still for STILL_S: a screen being laid out
        (ScrollView contents take a few frames) would send a touch to the wrong place."""
        from kivy.core.window import Window

        now = time.monotonic()
        seen = (screen, visible_targets(Window), label_texts(Window))
        if seen == self._written:
            self._last = seen
            return
        if self._written is not None and _layout(seen) == _layout(self._written):
            self._write(screen, seen[1], seen[2])
            self._last = self._written = seen
            return
        if seen != self._last:
            self._last, self._changed_at = seen, now
        elif now - self._changed_at >= STILL_S:
            self._write(screen, seen[1], seen[2])
            self._written = seen

    def _write(self, screen: str, targets: dict, texts: list) -> None:
        from kivy.core.window import Window

        shown = {tid: {k: t[k] for k in ("x", "y", "text")} for tid, t in targets.items()}
        tmp = self.path + ".tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(
                {
                    "screen": screen,
                    "size": [Window.width, Window.height],
                    "targets": shown,
                    "texts": texts,
                    "clipped": clipped_labels(Window),
                },
                f,
                ensure_ascii=False,
            )
        os.replace(tmp, self.path)


def _layout(seen: tuple) -> tuple:
    """(screen, where each target is): what a touch depends on."""
    screen, targets, _ = seen
    return screen, {tid: (t["x"], t["y"], t["w"], t["h"]) for tid, t in targets.items()}


def visible_targets(root) -> dict:
    """{test_id: {x, y, w, h, text}} of the widgets under `root` that are on the window."""
    from kivy.core.window import Window

    targets = {}

    def walk(w):
        tid = getattr(w, "test_id", None)
        if tid and w.get_root_window() is not None and w.width > 0 and w.height > 0:
            x, y = w.to_window(w.center_x, w.center_y)
            if 0 <= x <= Window.width and 0 <= y <= Window.height:
                targets[tid] = {
                    "x": round(x),
                    "y": round(Window.height - y),
                    "w": round(w.width),
                    "h": round(w.height),
                    "text": str(getattr(w, "text", "")),
                }
        for child in w.children:
            walk(child)

    walk(root)
    return targets


def label_texts(root) -> list[str]:
    """Every label's and button's text on the current screens, scrolled out of view or not (a
    test reads a long guide whole without scrolling it)."""
    from kivy.uix.label import Label

    out = []

    def walk(w):
        if isinstance(w, Label) and w.text and w.get_root_window() is not None:
            out.append(w.text)
        for child in w.children:
            walk(child)

    walk(root)
    return out


def clipped_labels(root) -> list[str]:
    """Tests: the texts on the window that do not fit their label or button (cut off with "…",
    wrapped past the bottom, or spilling over the sides), so a layout test can say which."""
    from kivy.core.window import Window
    from kivy.uix.label import Label

    out = []

    def walk(w):
        if (
            isinstance(w, Label)
            and w.text
            and w.get_root_window() is not None
            and w.opacity
            and w.width > 1
            and w.height > 1
        ):
            x, y = w.to_window(w.center_x, w.center_y)
            if 0 <= x <= Window.width and 0 <= y <= Window.height and _clipped(w):
                out.append(w.text)
        for child in w.children:
            walk(child)

    walk(root)
    return out


def text_height(w) -> int:
    """The height a Label's text takes at its width and font, however tall: with a height fixed
    in `text_size`, Kivy makes the texture that tall whatever the text needs, so the texture
    cannot tell whether the text fits. Read after the label has rendered (its options current)."""
    core = w._label
    given = core.text_size
    core.text_size = (given[0], None)
    try:
        return core.render()[1]
    finally:
        core.text_size = given


def _clipped(w) -> bool:
    pad_x = w.padding[0] + w.padding[2] if len(w.padding) == 4 else 2 * w.padding[0]
    box_w = (w.text_size[0] if w.text_size[0] else w.width) - pad_x
    if w.shorten and w.text_size[0]:
        widest = max(w._label.get_extents(line)[0] for line in w.text.split("\n"))
        return widest > box_w + 1
    if w.text_size[0] and w.text_size[1]:
        return text_height(w) > w.text_size[1] + 1  # wrapped past the bottom
    return w.texture_size[0] > w.width + 1 or w.texture_size[1] > w.height + 1
