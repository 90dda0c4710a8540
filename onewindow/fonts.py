"""Which font file draws a script's text: one lookup, configured in assets/fonts.toml, for the
Kivy apps, the ticket preview, the LED simulator and the reports. Imports neither Kivy nor PIL,
so drivers can use it.

    find_font()                 -> "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"
    find_font("bold")           -> ".../NotoSansCJK-Bold.ttc", or None when no bold is installed
"""

from __future__ import annotations

import functools
import logging
import tomllib
from pathlib import Path
from typing import Optional

from .shipped import shipped

log = logging.getLogger(__name__)

FONTS_FILE = "assets/fonts.toml"
WEIGHTS = ("regular", "bold")


@functools.cache
def font_config() -> dict:
    """assets/fonts.toml, read once. A missing or broken file is logged (naming it) and reads as
    no fonts at all: text then shows in the toolkit's own font rather than the app not starting."""
    path = shipped(FONTS_FILE)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        log.error("font configuration %s unreadable (%s): Chinese will not display", path, exc)
        return {"dirs": []}
    if not isinstance(data.get("dirs"), list):
        log.error("font configuration %s: 'dirs' must be a list of directories", path)
        return {"dirs": []}
    return data


def find_font(weight: str = "regular", script: str = "cjk") -> Optional[str]:
    """The first configured file of this script and weight that exists, or None."""
    if weight not in WEIGHTS:
        raise ValueError(f"font weight must be one of {', '.join(WEIGHTS)}, not {weight!r}")
    config = font_config()
    names = (config.get(script) or {}).get(weight) or ()
    for folder in config["dirs"]:
        for name in names:
            path = Path(folder) / name
            if path.exists():
                return str(path)
    return None
