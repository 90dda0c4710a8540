"""A line cut into runs of one script, so that each run is drawn in a font that has it: Kivy
has no font fallback, and no font Debian ships holds both Chinese and Tibetan.

    >>> script_runs("请到 སྒེའུ་ཁུང་ 4 号")
    [('', '请到 '), ('tibetan', 'སྒེའུ་ཁུང་ '), ('', '4 号')]
    >>> script_runs("取号")
    [('', '取号')]

A space or a line break joins the run it follows. Only Tibetan has a run of its own today: Latin,
digits and Chinese are all in the CJK font.
"""

from __future__ import annotations

TIBETAN = ("\u0f00", "\u0fff")
NEUTRAL = " \t\n\u00a0"


def script_of(ch: str) -> str:
    return "tibetan" if TIBETAN[0] <= ch <= TIBETAN[1] else ""


def script_runs(text: str) -> list[tuple[str, str]]:
    runs: list[tuple[str, str]] = []
    for ch in text:
        script = runs[-1][0] if runs and ch in NEUTRAL else script_of(ch)
        if runs and runs[-1][0] == script:
            runs[-1] = (script, runs[-1][1] + ch)
        else:
            runs.append((script, ch))
    return runs


def has_tibetan(text: str) -> bool:
    return any(TIBETAN[0] <= ch <= TIBETAN[1] for ch in text)
