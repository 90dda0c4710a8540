"""Text catalogues: zh-CN first, English second; one lookup used by every app."""

from __future__ import annotations

LANGS = ("zh", "en")


def test_mark(hall_state: dict | None) -> str:
    """In front of the hall's name on every screen and page while the hall runs in test mode."""
    return "【测试 TEST】" if (hall_state or {}).get("test_mode") else ""


class Catalogue:
    """`texts = Catalogue({"take_number": ("取号", "Take a number"), ...})`; `texts("take_number", "en")`.

    A missing key shows the key itself (visible in screenshots, caught by the catalogue test)
    rather than crashing a citizen's screen.
    """

    def __init__(self, entries: dict[str, tuple[str, str]]):
        self.entries = entries

    def __call__(self, key: str, lang: str = "zh", **fmt) -> str:
        pair = self.entries.get(key)
        if pair is None:
            return key
        text = pair[1] if lang == "en" and pair[1] else pair[0]
        return text.format(**fmt) if fmt else text

    def keys(self):
        return self.entries.keys()


# 好差评: English for the hall file's default reasons ([rating] reasons); a hall's own reasons
# are shown in Chinese only
REASONS_EN = {
    "态度": "Staff attitude",
    "效率": "Slow handling",
    "材料反复要求": "Asked for documents again and again",
    "等候太久": "Waited too long",
    "环境": "Hall environment",
    "其他": "Other (please say)",
}
DEFAULT_REASONS = ("态度", "效率", "材料反复要求", "等候太久", "环境", "其他")
OTHER_REASON = "其他"


def rating_reasons(cfg: dict | None) -> list[str]:
    """The hall's reasons for a bad rating, from `config.get` (the defaults before it came)."""
    return list(((cfg or {}).get("rating") or {}).get("reasons") or DEFAULT_REASONS)


def reason_text(reason: str, lang: str) -> str:
    return REASONS_EN.get(reason, reason) if lang == "en" else reason
