"""Typed, bounded reads of one TOML table that name file, section and option in every error."""

from __future__ import annotations

import difflib
import re
from typing import Any, Iterable, Optional

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


class ConfigError(Exception):
    """The hall configuration is unusable; each line names the file, the section and the option."""

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


class Table:
    """A view on one table; problems are collected (not raised) so that one run lists them all."""

    def __init__(self, file: str, section: str, data: Any, problems: list[str]):
        self.file = file
        self.section = section
        self.problems = problems
        if not isinstance(data, dict):
            self.fail(None, f"must be a table, not {type(data).__name__}")
            data = {}
        self.data = data
        self._used: set[str] = set()

    def fail(self, option: Optional[str], message: str) -> None:
        if not self.section:  # the file's top level: what is named is a section
            where = f"[{option}]" if option else "the file"
        else:
            where = f"[{self.section}]" + (f" {option}" if option else "")
        self.problems.append(f"{self.file}: {where}: {message}")

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
    ) -> Any:
        self._used.add(option)
        if option not in self.data:
            if default is REQUIRED:
                self.fail(option, "is required")
            return None if default is REQUIRED else default
        value = self.data[option]
        types = typ if isinstance(typ, tuple) else (typ,)
        # TOML booleans are ints to Python; do not let true pass as 1
        if not isinstance(value, types) or (isinstance(value, bool) and bool not in types):
            self.fail(option, wrong_type(value, types))
            return None if default is REQUIRED else default
        if choices is not None and value not in choices:
            self.fail(
                option, f"{value!r} is not allowed; choose one of {', '.join(map(str, choices))}"
            )
        if minval is not None and value < minval:
            self.fail(option, f"{value!r} is below the minimum {minval}")
        if maxval is not None and value > maxval:
            self.fail(option, f"{value!r} is above the maximum {maxval}")
        if pattern is not None and isinstance(value, str) and not re.fullmatch(pattern, value):
            self.fail(option, f"{value!r} does not match {pattern}")
        return value

    def str_list(self, option: str, default=(), pattern: Optional[str] = None) -> tuple[str, ...]:
        value = self.get(option, list, list(default))
        out = []
        for i, item in enumerate(value or ()):
            if not isinstance(item, str):
                self.fail(option, f"item {i + 1} must be a string, got {item!r}")
            elif pattern and not re.fullmatch(pattern, item):
                self.fail(option, f"item {item!r} does not match {pattern}")
            else:
                out.append(item)
        return tuple(out)

    def table(self, option: str, required: bool = False) -> Optional["Table"]:
        self._used.add(option)
        if option not in self.data:
            if required:
                self.fail(option, "is required")
            return None
        return Table(
            self.file,
            f"{self.section}.{option}" if self.section else option,
            self.data[option],
            self.problems,
        )

    def tables(self, option: str, label_key: str = "") -> list["Table"]:
        """An array of tables; each is named by its position and, if present, its label."""
        self._used.add(option)
        value = self.data.get(option, [])
        if not isinstance(value, list):
            self.fail(option, "must be an array of tables ([[...]])")
            return []
        out = []
        base = f"{self.section}.{option}" if self.section else option
        for i, item in enumerate(value):
            label = item.get(label_key) if isinstance(item, dict) and label_key else None
            name = f"{base}[{i + 1}]" + (f" {label!r}" if label is not None else "")
            out.append(Table(self.file, name, item, self.problems))
        return out

    # -- reads described by an Option / Section (onewindow/hallschema.py) ----------------------

    def read(self, opt) -> Any:
        """One option as its schema entry says: type, default, bounds, pattern, extra check."""
        before = len(self.problems)
        if opt.items == "string":
            value: Any = self.str_list(opt.name, opt.default, pattern=opt.pattern)
        else:
            value = self.get(
                opt.name,
                opt.type,
                opt.default,
                choices=opt.choices,
                minval=opt.minval,
                maxval=opt.maxval,
                pattern=opt.pattern,
            )
        # the extra check sees only a value taken from the file that passed the checks above
        if opt.check is not None and opt.name in self.data and len(self.problems) == before:
            problem = opt.check(value)
            if problem:
                self.fail(opt.name, problem)
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
                self.fail(key, f"unknown option (misspelt?){hint}")
            elif isinstance(self.data[key], (dict, list)):
                hint = f"; did you mean [{near[0]}]?" if near else ""
                self.fail(key, f"unknown section (misspelt?){hint}")
            else:  # a plain `key = value` above the first [section]
                self.problems.append(
                    f"{self.file}: {key} (above the first [section]): unknown option (misspelt?)"
                )


def wrong_type(value: Any, types: tuple) -> str:
    """What a value of the wrong type should be, in the file's words, and how to mend it."""
    want = " or ".join(TYPE_WORDS.get(t, t.__name__) for t in types)
    hint = ""
    if isinstance(value, str) and ({int, float} & set(types)):
        try:
            float(value)
            hint = " (remove the quotes)"
        except ValueError:
            pass
    elif isinstance(value, str) and bool in types and value.lower() in ("true", "false"):
        hint = " (remove the quotes)"
    elif str in types and isinstance(value, (int, float)) and not isinstance(value, bool):
        hint = " (put it in quotes)"
    return f"must be {want}{hint}, got {_toml(value)}"


def _toml(value: Any) -> str:
    """A value as it was written in the file (not Python's repr)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, dict):
        return "a table"
    return repr(value)
