"""The hall file's schema types: an Option, a Section of options, a text option's translations,
and the patterns several sections share."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Optional

from ..configreader import PATTERN_ZH, REQUIRED

CODE = r"[A-Za-z0-9_-]{1,16}"
PREFIX = r"[A-Z]{1,2}"
HALL_ID = r"[a-z0-9-]{1,32}"
# a pattern's meaning: the console's manager does not read regular expressions
PATTERN_WORDS = {
    PREFIX: "一到两个大写英文字母，例如 A 或 AB",
    CODE: "不超过 16 个的英文字母、数字、_ 或 -",
    HALL_ID: "不超过 32 个的小写英文字母、数字或 -",
    "zh|bo|en": "以下之一：zh、bo、en",
}
RULES_MAX = 100000  # a sanity bound for every number in [rules]


@dataclass(frozen=True)
class Option:
    """One option: how it is checked when the file is read, and how it is documented."""

    name: str
    type: type | tuple[type, ...]
    default: Any = REQUIRED
    doc: str = ""
    example: Any = None
    choices: Optional[tuple] = None
    minval: Optional[int] = None
    maxval: Optional[int] = None
    pattern: Optional[str] = None  # the whole string, or each item of a string list
    items: str = ""  # lists: "string", "range" ("08:30-12:00") or "date"
    default_doc: str = ""  # when the default is not a constant (e.g. "the code")
    # a present value: its problem ("中文", "English", as said: no {parameters}) or None
    check: Optional[Callable[[Any], Optional[tuple[str, str]]]] = None
    check_doc: str = ""  # what `check` allows, for the reference
    lang: str = ""  # a translation (`name_bo`) of the option named by `of`
    of: str = ""

    @property
    def required(self) -> bool:
        return self.default is REQUIRED

    @property
    def pattern_zh(self) -> str:
        """The pattern in words, for a manager's problem in Chinese."""
        return PATTERN_WORDS.get(self.pattern or "", PATTERN_ZH)


@dataclass(frozen=True)
class Section:
    """A table (`[path]`) or an array of tables (`[[path]]`) and the options it may hold."""

    path: str
    doc: str
    options: tuple[Option, ...] = ()
    array: bool = False
    required: bool = False
    label: str = ""  # the option that names an item in messages
    keys: Optional[Option] = None  # a table of free keys (e.g. dates), each value like this
    sections: tuple["Section", ...] = field(default=())

    @property
    def key(self) -> str:
        return self.path.rsplit(".", 1)[-1]

    def option(self, name: str) -> Option:
        return next(o for o in self.options if o.name == name)

    def child(self, key: str) -> "Section":
        return next(s for s in self.sections if s.key == key)

    def walk(self, parent: Optional["Section"] = None):
        """(section, parent) for this section, then its subsections, depth first."""
        yield self, parent
        for sub in self.sections:
            yield from sub.walk(self)


LANGUAGES = ("zh", "bo", "en")  # Chinese is the source; onewindow/i18n.py LANGS
LANGUAGE_NAMES = {"en": "English", "bo": "Tibetan"}
TRANSLATION_EXAMPLES = {"en": "(the text in English)", "bo": "བོད་ཡིག"}


def tr(opt: Option, en: Any = None, bo: Any = None) -> tuple[Option, ...]:
    """A text option and its translations: `name`, `name_en`, `name_bo`. A translation left out
    or empty shows the Chinese (`pick` in onewindow/i18n.py)."""
    return (opt,) + tuple(
        Option(
            f"{opt.name}_{lang}",
            str,
            "",
            example=example or TRANSLATION_EXAMPLES[lang],
            lang=lang,
            of=opt.name,
            doc=f"{LANGUAGE_NAMES[lang]} of `{opt.name}`; empty: the Chinese.",
        )
        for lang, example in (("en", en), ("bo", bo))
    )
