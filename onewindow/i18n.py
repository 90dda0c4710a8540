"""Every app's words in the citizen's language: one lookup backed by gettext catalogs.

The Chinese source of each text stays in the code, under a key (`Catalogue("kiosk",
{"take_number": "取号"})`); its translations live in gettext catalogs,
assets/locale/<locale>/LC_MESSAGES/onewindow.po compiled to .mo (scripts/catalogs). The key,
prefixed with the app, is the message's context (msgctxt) and the Chinese its msgid, so a
translator sees the Chinese in Poedit or Weblate, and a changed Chinese text turns its
translations fuzzy.

    kiosk = Catalogue("kiosk", {"tile_ahead": "前面 {n} 人"})
    kiosk("tile_ahead", "en", n=3)    -> "3 ahead"       (en.po)
    kiosk("tile_ahead", "bo", n=3)    -> "མདུན་དུ་མི་ 3"   (bo.po)
    kiosk("tile_ahead", "xx", n=3)    -> "前面 3 人"      (no catalog: the Chinese)

A text still written the old way, `"key": ("中文", "English")`, works as before: its English
serves until en.po has the key (`scripts/catalogs update` folds it into en.po).

A hall corrects a translation without touching code: its own .mo files in
/etc/onewindow/locale (or $ONEWINDOW_LOCALE_DIR) come before the shipped ones, message by message
(docs/translations.md).
"""

from __future__ import annotations

import functools
import gettext
import logging
import os
from typing import Iterable, Union

from .shipped import shipped

log = logging.getLogger(__name__)

LANGS = ("zh", "bo", "en")  # Chinese first, always
LANG_NAMES = {"zh": "中文", "bo": "བོད་ཡིག", "en": "English"}  # each in its own language
DEFAULT_LANGUAGES = ("zh", "en")  # [hall] languages where the hall file gives none
LOCALES = {"zh": "zh_CN", "bo": "bo", "en": "en"}  # gettext's locale folder of each
DOMAIN = "onewindow"
SHIPPED_LOCALE = "assets/locale"
HALL_LOCALE = "/etc/onewindow/locale"  # a hall's own corrections (docs/translations.md)
LOCALE_ENV = "ONEWINDOW_LOCALE_DIR"

Source = Union[str, tuple[str, str]]


def hall_languages(hall: dict | None) -> list[str]:
    """The citizens' languages ([hall] languages) of a hall file's `hall` table or the hall's
    state, Chinese first."""
    return list((hall or {}).get("languages") or DEFAULT_LANGUAGES)


def test_mark(hall_state: dict | None) -> str:
    """In front of the hall's name on every screen and page while the hall runs in test mode."""
    return "【测试 TEST】" if (hall_state or {}).get("test_mode") else ""


@functools.cache
def translations(lang: str) -> gettext.NullTranslations:
    """The catalogs of `lang`: the hall's own first, then the shipped ones (none: the source)."""
    locale = LOCALES.get(lang)
    chain = gettext.NullTranslations()
    if locale is None:
        return chain
    folders = (os.environ.get(LOCALE_ENV) or HALL_LOCALE, str(shipped(SHIPPED_LOCALE)))
    found = []
    for folder in folders:
        try:
            found.append(gettext.translation(DOMAIN, folder, [locale]))
        except FileNotFoundError:
            continue
        except OSError as exc:  # a broken .mo: named, and the next catalog serves
            log.error("translation catalog for %s in %s unreadable: %s", lang, folder, exc)
    if not found:
        if lang != "zh":
            log.warning("no %s catalog in %s: texts show in Chinese", lang, " or ".join(folders))
        return chain
    for later in found[1:]:
        found[0].add_fallback(later)
    return found[0]


class Catalogue:
    """One app's texts: `Catalogue("kiosk", {"take_number": "取号", ...})`, then
    `texts("take_number", "en")`.

    A missing key shows the key itself (visible in screenshots, caught by the catalog test)
    rather than crashing a citizen's screen; so does a translation whose placeholders are broken
    (the Chinese is shown instead, and the fault logged).
    """

    def __init__(self, app: str, entries: dict[str, Source]):
        self.app = app
        self.entries = entries

    def context(self, key: str) -> str:
        return f"{self.app}.{key}"

    def source(self, key: str) -> str | None:
        entry = self.entries.get(key)
        return entry[0] if isinstance(entry, tuple) else entry

    def __call__(self, key: str, lang: str = "zh", **fmt) -> str:
        entry = self.entries.get(key)
        if entry is None:
            return key
        chinese, english = entry if isinstance(entry, tuple) else (entry, "")
        text = translations(lang).pgettext(self.context(key), chinese)
        if text == chinese and lang == "en" and english:
            text = english  # an old-style entry not folded into en.po yet
        if not fmt:
            return text
        # a hall's own catalog may hold anything: only plain {name} fields are filled (no
        # {n.attr} or {n[0]} reaching into the values), anything else shows the Chinese
        if text != chinese and not _plain_fields(text):
            log.error("translation of %s in %s has odd fields: Chinese shown", key, lang)
            return chinese.format(**fmt)
        try:
            return text.format(**fmt)
        except (KeyError, IndexError, ValueError, AttributeError, TypeError) as exc:
            log.error("translation of %s in %s is broken (%r): Chinese shown", key, lang, exc)
            return chinese.format(**fmt)

    def keys(self) -> Iterable[str]:
        return self.entries.keys()


def pick(obj: dict, field: str, lang: str) -> str:
    """A hall file object's own text in `lang` (name / name_en / name_bo), else its Chinese."""
    if lang != "zh" and obj.get(f"{field}_{lang}"):
        return obj[f"{field}_{lang}"]
    return obj.get(field) or ""


def localize(item, lang: str):
    """A copy of a hall file item (`config.get`'s service, theme, material...) with each text in
    `lang` where the file gives it (`conditions_en` for `conditions`), else the Chinese, at
    every depth: what the guide model then words reads in the citizen's language.

    >>> localize({"name": "户籍", "name_en": "Household", "guide": {"fee": "免费"}}, "en")
    {'name': 'Household', 'name_en': 'Household', 'guide': {'fee': '免费'}}
    """
    if lang == "zh":
        return item
    if isinstance(item, list):
        return [localize(x, lang) for x in item]
    if not isinstance(item, dict):
        return item
    out = {k: localize(v, lang) for k, v in item.items()}
    for key, value in item.items():
        twin = item.get(f"{key}_{lang}")
        if isinstance(value, str) and isinstance(twin, str) and twin.strip():
            out[key] = twin
    return out


def next_lang(lang: str, langs: Iterable[str]) -> str:
    """The kiosk's language button: the language after `lang` among the hall's."""
    order = [x for x in LANGS if x in set(langs)] or ["zh"]
    return order[(order.index(lang) + 1) % len(order)] if lang in order else order[0]


# 好差评: the hall file's default reasons ([rating] reasons) in every language; a hall's own
# reasons are shown as written
DEFAULT_REASONS = ("态度", "效率", "材料反复要求", "等候太久", "环境", "其他")
OTHER_REASON = "其他"
REASONS = Catalogue(
    "rating",
    {
        "态度": "态度",
        "效率": "效率",
        "材料反复要求": "材料反复要求",
        "等候太久": "等候太久",
        "环境": "环境",
        "其他": "其他",
    },
)


def rating_reasons(cfg: dict | None) -> list[str]:
    """The hall's reasons for a bad rating, from `config.get` (the defaults before it came)."""
    return list(((cfg or {}).get("rating") or {}).get("reasons") or DEFAULT_REASONS)


def reason_text(reason: str, lang: str) -> str:
    return REASONS(reason, lang) if reason in DEFAULT_REASONS else reason


def _plain_fields(text: str) -> bool:
    """Every replacement field of `text` is a plain name (`{n}`, `{when}`), or it has none."""
    import string

    try:
        return all(
            name is None or name.isidentifier()
            for _lit, name, _spec, _conv in string.Formatter().parse(text)
        )
    except ValueError:
        return False
