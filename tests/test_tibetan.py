"""Tibetan on the Kivy screens: shaped (the stacks of བསྒྲུབས hold together only with HarfBuzz,
`font_script_name` "Tibt"), and a line mixing Chinese and Tibetan drawn run by run, each in a font
that has it. Rendered by Kivy's SDL2 text provider in a real window under Xvfb."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

from kivyutil import Screen
from onewindow.fonts import find_font
from onewindow.scriptruns import script_runs

WORD = "བསྒྲུབས"  # "accomplished": ག with ར and ུ stacked below it

RENDER = textwrap.dedent(
    """
    import json, os, sys
    os.environ.update(KIVY_NO_ARGS="1", KIVY_NO_CONFIG="1", KIVY_LOG_MODE="PYTHON")
    from onewindow.uikit import setup_kivy
    setup_kivy(400, 300)
    from kivy.core.window import Window
    from kivy.core.text import Label as CoreLabel
    from kivy.core.text.text_sdl2 import LabelSDL2
    from kivy.uix.label import Label

    def pixels(label):
        label.refresh()
        t = label.texture
        return {"size": list(t.size), "alpha": list(t.pixels[3::4])}

    tibetan = sys.argv[1]
    out = {
        # Kivy's own provider, without and with the shaping switch
        "raw": pixels(LabelSDL2(text=sys.argv[2], font_size=64, font_name=tibetan)),
        "shaped": pixels(
            LabelSDL2(text=sys.argv[2], font_size=64, font_name=tibetan, font_script_name="Tibt")
        ),
        # what every screen's labels do: the default (CJK) font, Tibetan runs by themselves
        "label": pixels(CoreLabel(text=sys.argv[2], font_size=64)),
        "mixed": pixels(CoreLabel(text="请到" + sys.argv[2], font_size=64)),
        "chinese": pixels(CoreLabel(text="请到", font_size=64)),
        "ascents": [
            LabelSDL2(text="请到", font_size=64).get_ascent(),
            LabelSDL2(
                text=sys.argv[2], font_size=64, font_name=tibetan, font_script_name="Tibt"
            ).get_ascent(),
        ],
        "widget_core": type(Label()._label).__name__,
    }
    print(json.dumps(out))
    """
)


@pytest.fixture(scope="module")
def rendered():
    tibetan = find_font("regular", "tibetan")
    assert tibetan, "no Tibetan font: install fonts-noto-core (scripts/setup.sh)"
    screen = Screen(400, 300)
    try:
        done = subprocess.run(
            [sys.executable, "-c", RENDER, tibetan, WORD],
            env={**os.environ, "DISPLAY": screen.display},
            capture_output=True,
            text=True,
            timeout=60,
        )
    finally:
        screen.close()
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def ink(image: dict) -> int:
    return sum(1 for a in image["alpha"] if a > 128)


def test_shaping_changes_how_a_tibetan_word_is_drawn(rendered):
    raw, shaped = rendered["raw"], rendered["shaped"]
    assert ink(raw) > 200 and ink(shaped) > 200  # both drew the word
    assert raw["alpha"] != shaped["alpha"]  # the stacks: the switch is on only when asked


def test_every_label_shapes_tibetan_in_the_tibetan_font(rendered):
    # a label in the default (Chinese) font draws the word exactly as the shaped Tibetan font
    assert rendered["widget_core"] in ("ScriptLabel", "MarkupLabel")
    assert rendered["label"]["alpha"] == rendered["shaped"]["alpha"]


def test_a_mixed_line_is_drawn_run_by_run(rendered):
    mixed, chinese, word = rendered["mixed"], rendered["chinese"], rendered["shaped"]
    # as wide as its two runs, and holding all the ink of both
    assert mixed["size"][0] == chinese["size"][0] + word["size"][0]
    assert abs(ink(mixed) - ink(chinese) - ink(word)) < 0.02 * ink(mixed)


def test_runs():
    assert script_runs("请到 སྒེའུ་ཁུང་ 4 号") == [
        ("", "请到 "),
        ("tibetan", "སྒེའུ་ཁུང་ "),
        ("", "4 号"),
    ]


def ink_rows(image: dict, columns: int) -> list[int]:
    """The rows (from the top) holding ink in the image's first `columns` columns."""
    width = image["size"][0]
    alpha = image["alpha"]
    return sorted({i // width for i, a in enumerate(alpha) if a > 128 and i % width < columns})


def test_a_mixed_line_sits_on_one_baseline(rendered):
    """The Chinese run beside a Tibetan one is drawn lower by the Tibetan font's taller ascent,
    so both stand on the same baseline (drawn from the same top, the Chinese sat high)."""
    mixed, chinese = rendered["mixed"], rendered["chinese"]
    cjk_ascent, tibetan_ascent = rendered["ascents"]
    assert tibetan_ascent > cjk_ascent
    alone = ink_rows(chinese, chinese["size"][0])
    beside = ink_rows(mixed, chinese["size"][0])
    assert max(beside) - max(alone) == tibetan_ascent - cjk_ascent, (max(beside), max(alone))
    assert min(beside) - min(alone) == tibetan_ascent - cjk_ascent  # moved whole, not cut
