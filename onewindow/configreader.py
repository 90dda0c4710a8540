"""Typed, bounded reads of one TOML table that name file, section and option in every error."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from typing import Any, Iterable, Optional, Union

REQUIRED = object()  # an option's default when it has none: it must be given
# a type as a hall file's author knows it (TOML, not Python)
TYPE_WORDS = {
    int: "an integer",
    float: "a number",
    str: "text",
    bool: "true or false",
    list: "a list [...]",
    dict: "a table",
}
TYPE_WORDS_ZH = {
    int: "整数",
    float: "数字",
    str: "文字",
    bool: "true 或 false",
    list: "列表",
    dict: "表",
}

# what a problem says, ("中文", "English") templates with {parameters}: the Chinese for managers
# on the console (onewindow/hallschema/words.py words the place), the English for `config
# check`. Both are filled when the problem is made (problem()), so a template naming a parameter
# it is not given fails in `config check` and in every test, never later on the console. A
# parameter the Chinese needs in its own words ends in `_zh` (kind_zh beside kind); the rest
# are shared (tests/test_hall_words.py holds every template to that).
# Said(("中文", "English")): words already said (a value from the file, braces and all): shown
# as they are, never filled. A bare str: English only, already said: callers/voicepack.py's
# checks, on a file only the installer reads (Table(..., english_only=True)).
Words = Union[str, tuple[str, str]]
PATTERN_ZH = "规定的写法"  # a pattern that has no words in Chinese (hallschema/options.py)
REQUIRED_W = ("必须填写", "is required")
NOT_A_TABLE = ("应是一组设置，不是{kind_zh}", "must be a table, not {kind}")
NOT_ALLOWED = (
    "“{value}”不是可选的值，请从 {choices_zh} 中选一个",
    "{value!r} is not allowed; choose one of {choices}",
)
BELOW = (
    "{value} 小于最小值 {minval}，请改为不小于 {minval} 的数",
    "{value!r} is below the minimum {minval}",
)
ABOVE = (
    "{value} 大于最大值 {maxval}，请改为不大于 {maxval} 的数",
    "{value!r} is above the maximum {maxval}",
)
NO_MATCH = ("“{value}”的写法不对，应为{pattern_zh}", "{value!r} does not match {pattern}")
ITEM_NOT_TEXT = ("第 {n} 项应为文字，现为 {item}", "item {n} must be a string, got {item!r}")
ITEM_NO_MATCH = (
    "“{item}”的写法不对，应为{pattern_zh}",
    "item {item!r} does not match {pattern}",
)
NOT_AN_ARRAY = ("应是一组条目（[[...]]）", "must be an array of tables ([[...]])")
UNKNOWN_OPTION = ("没有这一项设置，是否写错了？{hint_zh}", "unknown option (misspelt?){hint}")
UNKNOWN_SECTION = ("没有这一部分设置，是否写错了？{hint_zh}", "unknown section (misspelt?){hint}")


@dataclass(frozen=True)
class Step:
    """One table on the way to an option: `[path]`, or the `index`-th `[[path]]` of its array,
    named by its label option (`number = 7`) when it has one."""

    path: str
    index: int = 0  # 1-based place in its array of tables; 0: a plain table
    label: str = ""
    value: Any = None

    def __str__(self) -> str:
        if not self.index:
            return f"[{self.path}]"
        named = self.label and self.value is not None
        return f"[[{self.path}]] #{self.index}" + (
            f" ({self.label} = {_toml(self.value)})" if named else ""
        )


def kept(steps: tuple[Step, ...]) -> tuple[Step, ...]:
    """The steps a reader needs: each array item (which of them), and the table itself; a plain
    table on the way is in the next one's path already."""
    return tuple(s for i, s in enumerate(steps) if s.index or i == len(steps) - 1)


def place(steps: tuple[Step, ...]) -> str:
    """Where a table is, as the file's author finds it: `[[windows]] #3 (number = 7)`, the 3rd
    [[windows]] block, the one with number 7; `[[services]] #2 (code = "A"), [services.hours]`."""
    return ", ".join(map(str, kept(steps)))


class Said(tuple):
    """("中文", "English") already said: shown as it is, braces and all (no {parameters})."""

    def __new__(cls, zh: str, en: str) -> "Said":
        return super().__new__(cls, (zh, en))


class FileProblem(str):
    """One problem in a file: its English line (a str, so every caller that prints, joins or
    adds to a problem list keeps working), where it is, and what is wrong in Chinese (the
    place is worded by onewindow/hallschema/words.py; "" for an English-only one)."""

    steps: tuple[Step, ...]
    option: Optional[str]
    zh: str  # what is wrong and how to mend it, filled; without the place

    def __new__(
        cls, text: str, steps: tuple[Step, ...] = (), option: Optional[str] = None, zh: str = ""
    ) -> "FileProblem":
        self = super().__new__(cls, text)
        self.steps, self.option, self.zh = steps, option, zh
        return self


def said(words: Words, **params) -> tuple[str, str]:
    """("中文", "English") of `words` filled with `params`, both at once: a template that names
    a parameter it is not given raises KeyError here, where the problem is found."""
    if isinstance(words, str):
        return "", words
    zh, en = words
    if isinstance(words, Said):
        return zh, en
    return zh.format(**params), en.format(**params)


def problem(
    file: str, steps: tuple[Step, ...], option: Optional[str], words: Words, **params
) -> FileProblem:
    """A FileProblem at `option` of the table at `steps` (none: the file's top level, where
    what is named is a section)."""
    zh, en = said(words, **params)
    if not steps:
        where = f"[{option}]" if option else "the file"
    else:
        where = place(steps) + (f" {option}" if option else "")
    return FileProblem(f"{file}: {where}: {en}", steps, option, zh)


class ConfigError(Exception):
    """The hall configuration is unusable; each line names the file, the section and the option."""

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


class Table:
    """A view on one table; problems are collected (not raised) so that one run lists them all."""

    def __init__(
        self,
        file: str,
        section: str,
        data: Any,
        problems: list[str],
        steps: Optional[tuple[Step, ...]] = None,
        *,
        english_only: bool = False,
    ):
        self.file = file
        # a file only the installer reads (a voice pack): its problems may be bare English
        self.english_only = english_only
        self.section = section  # the TOML path: "services.hours"
        self.steps = steps if steps is not None else ((Step(section),) if section else ())
        self.problems = problems
        if not isinstance(data, dict):
            kind = type(data)
            self.fail(
                None,
                NOT_A_TABLE,
                kind=kind.__name__,
                kind_zh=TYPE_WORDS_ZH.get(kind, "单个值"),
            )
            data = {}
        self.data = data
        self._used: set[str] = set()

    def fail(self, option: Optional[str], words: Words, **params) -> None:
        """A problem at `option` (None: the table itself): `words` ("中文", "English") with
        {parameters}, or Said; English alone only in an english_only file."""
        if isinstance(words, str) and not self.english_only:
            raise TypeError(f"a problem without its Chinese: {words!r}")
        self.problems.append(problem(self.file, self.steps, option, words, **params))

    def get(
        self,
        option: str,
        typ: type | tuple,
        default: Any = REQUIRED,
        *,
        choices: Optional[Iterable] = None,
        minval=None,
        maxval=None,
        pattern: Optional[str] = None,
        pattern_zh: str = PATTERN_ZH,
    ) -> Any:
        self._used.add(option)
        if option not in self.data:
            if default is REQUIRED:
                self.fail(option, REQUIRED_W)
            return None if default is REQUIRED else default
        value = self.data[option]
        types = typ if isinstance(typ, tuple) else (typ,)
        # TOML booleans are ints to Python; do not let true pass as 1
        if not isinstance(value, types) or (isinstance(value, bool) and bool not in types):
            self.fail(option, wrong_type(value, types))
            return None if default is REQUIRED else default
        if choices is not None and value not in choices:
            self.fail(
                option,
                NOT_ALLOWED,
                value=value,
                choices=", ".join(map(str, choices)),
                choices_zh="、".join(map(str, choices)),
            )
        if minval is not None and value < minval:
            self.fail(option, BELOW, value=value, minval=minval)
        if maxval is not None and value > maxval:
            self.fail(option, ABOVE, value=value, maxval=maxval)
        if pattern is not None and isinstance(value, str) and not re.fullmatch(pattern, value):
            self.fail(option, NO_MATCH, value=value, pattern=pattern, pattern_zh=pattern_zh)
        return value

    def str_list(
        self,
        option: str,
        default=(),
        pattern: Optional[str] = None,
        pattern_zh: str = PATTERN_ZH,
    ) -> tuple[str, ...]:
        value = self.get(option, list, list(default))
        out = []
        for i, item in enumerate(value or ()):
            if not isinstance(item, str):
                self.fail(option, ITEM_NOT_TEXT, n=i + 1, item=item)
            elif pattern and not re.fullmatch(pattern, item):
                self.fail(option, ITEM_NO_MATCH, item=item, pattern=pattern, pattern_zh=pattern_zh)
            else:
                out.append(item)
        return tuple(out)

    def table(self, option: str, required: bool = False) -> Optional["Table"]:
        self._used.add(option)
        if option not in self.data:
            if required:
                self.fail(option, REQUIRED_W)
            return None
        path = f"{self.section}.{option}" if self.section else option
        steps = self.steps + (Step(path),)
        return Table(
            self.file, path, self.data[option], self.problems, steps, english_only=self.english_only
        )

    def tables(self, option: str, label_key: str = "") -> list["Table"]:
        """An array of tables; each is named by its position and, if present, its label."""
        self._used.add(option)
        value = self.data.get(option, [])
        if not isinstance(value, list):
            self.fail(option, NOT_AN_ARRAY)
            return []
        out = []
        path = f"{self.section}.{option}" if self.section else option
        for i, item in enumerate(value):
            label = item.get(label_key) if isinstance(item, dict) and label_key else None
            step = Step(path, i + 1, label_key, label)
            steps = self.steps + (step,)
            out.append(
                Table(self.file, path, item, self.problems, steps, english_only=self.english_only)
            )
        return out

    # -- reads described by an Option / Section (onewindow/hallschema.py) ----------------------

    def read(self, opt) -> Any:
        """One option as its schema entry says: type, default, bounds, pattern, extra check."""
        before = len(self.problems)
        if opt.items == "string":
            value: Any = self.str_list(
                opt.name, opt.default, pattern=opt.pattern, pattern_zh=opt.pattern_zh
            )
        else:
            value = self.get(
                opt.name,
                opt.type,
                opt.default,
                choices=opt.choices,
                minval=opt.minval,
                maxval=opt.maxval,
                pattern=opt.pattern,
                pattern_zh=opt.pattern_zh,
            )
        # the extra check sees only a value taken from the file that passed the checks above
        if opt.check is not None and opt.name in self.data and len(self.problems) == before:
            found = opt.check(value)  # ("中文", "English") as said, or None
            if found:
                self.fail(opt.name, Said(*found))
        return value

    def read_all(self, section) -> dict[str, Any]:
        return {opt.name: self.read(opt) for opt in section.options}

    def sub(self, section) -> Optional["Table"]:
        return self.table(section.key, required=section.required)

    def subs(self, section) -> list["Table"]:
        return self.tables(section.key, section.label)

    def check_unused(self) -> None:
        for key in self.data:
            if key in self._used:
                continue
            near = difflib.get_close_matches(key, sorted(self._used), n=1)
            if self.section:
                hint = f"; did you mean {near[0]}?" if near else ""
                hint_zh = f"是不是 {near[0]}？" if near else ""
                self.fail(key, UNKNOWN_OPTION, hint=hint, hint_zh=hint_zh)
            elif isinstance(self.data[key], (dict, list)):
                hint = f"; did you mean [{near[0]}]?" if near else ""
                hint_zh = f"是不是 [{near[0]}]？" if near else ""
                self.fail(key, UNKNOWN_SECTION, hint=hint, hint_zh=hint_zh)
            else:  # a plain `key = value` above the first [section]
                self.problems.append(
                    FileProblem(
                        f"{self.file}: {key} (above the first [section]): unknown option "
                        f"(misspelt?)",
                        option=key,
                        zh="没有这一项设置，是否写错了？",
                    )
                )


def wrong_type(value: Any, types: tuple) -> Said:
    """What a value of the wrong type should be, in the file's words, and how to mend it."""
    want = " or ".join(TYPE_WORDS.get(t, t.__name__) for t in types)
    want_zh = "或".join(TYPE_WORDS_ZH.get(t, t.__name__) for t in types)
    hint = hint_zh = ""
    if isinstance(value, str) and ({int, float} & set(types)):
        try:
            float(value)
            hint, hint_zh = " (remove the quotes)", "（去掉引号）"
        except ValueError:
            pass
    elif isinstance(value, str) and bool in types and value.lower() in ("true", "false"):
        hint, hint_zh = " (remove the quotes)", "（去掉引号）"
    elif str in types and isinstance(value, (int, float)) and not isinstance(value, bool):
        hint, hint_zh = " (put it in quotes)", "（加上引号）"
    shown = _toml(value)  # as written
    return Said(f"应为{want_zh}{hint_zh}，现为 {shown}", f"must be {want}{hint}, got {shown}")


def _toml(value: Any) -> str:
    """A value as it was written in the file (not Python's repr)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, dict):
        return "a table"
    return repr(value)
