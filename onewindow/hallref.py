"""docs/hall-file.md, written from the schema the validator reads (onewindow/hallschema.py).

    .venv/bin/python -m onewindow.hallref --out docs/hall-file.md

tests/test_hall_file_reference.py regenerates the page and fails when it differs.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from . import hallschema as schema

COMMAND = "python -m onewindow.hallref --out docs/hall-file.md"
TYPE_NAMES = {str: "string", int: "integer", bool: "boolean", list: "array"}
ITEM_NAMES = {
    "string": "array of strings",
    "range": "array of time ranges",
    "date": "array of dates",
}

INTRO = """\
A hall is one TOML file, edited by hand: the shipped sample is `config/hall.toml` (示范县政务服务中心).
`onewindow config check --config FILE` validates it; `onewindow hall` does the same at start and
refuses to start on any problem, listing every problem at once, each naming the file, the section
and the option. An option or section not listed here is an error, naming the nearest known one
("unknown option (misspelt?); did you mean elder_age?"), so a typo never goes unnoticed. A value
of the wrong type says what it must be ("must be an integer (remove the quotes), got "100"").
Strings are UTF-8 (a file saved as GBK is refused with a hint).

Times are the hall's local time (`hall.timezone`). A time range is `"HH:MM-HH:MM"`; the ranges of
a day are in order and do not overlap, and `24:00` ends a range at midnight. A date is a TOML
date (`2026-10-01`) or a string (`"2026-10-01"`).
"""


def toml_value(value) -> str:
    """A value as it is written in the file, on one line (examples and defaults)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)  # a TOML basic string
    return str(value)


def _type(opt: schema.Option) -> str:
    if opt.items:
        return ITEM_NAMES[opt.items]
    types = opt.type if isinstance(opt.type, tuple) else (opt.type,)
    return " or ".join(TYPE_NAMES[t] for t in types)


def _default(opt: schema.Option, keyed: bool = False) -> str:
    if keyed:
        return "-"
    if opt.required:
        return "**required**"
    if opt.default_doc:
        return opt.default_doc
    return f"`{toml_value(opt.default)}`"


def _allowed(opt: schema.Option) -> str:
    out = []
    if opt.choices:
        out.append(", ".join(f"`{c}`" for c in opt.choices))
    if opt.minval is not None and opt.maxval is not None:
        out.append(f"{opt.minval} to {opt.maxval}")
    elif opt.minval is not None:
        out.append(f"at least {opt.minval}")
    if opt.pattern:
        what = "each item matches" if opt.items else "matches"
        out.append(f"{what} `{opt.pattern}`")
    if opt.items == "range":
        out.append('`"HH:MM-HH:MM"` each')
    if opt.items == "date":
        out.append("dates")
    if opt.check_doc:
        out.append(opt.check_doc)
    return "; ".join(out) or "any"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _header(section: schema.Section) -> str:
    return f"[[{section.path}]]" if section.array else f"[{section.path}]"


def _example(section: schema.Section) -> str:
    lines = [_header(section)]
    for opt in section.options:
        lines.append(f"{opt.name} = {toml_value(opt.example)}")
    if section.keys is not None:
        lines.append(f'"2026-10-11" = {toml_value(section.keys.example)}')
    return "\n".join(lines)


def _where(section: schema.Section, parent: schema.Section) -> str:
    if section.array:
        kind = f"An array of tables: write `{_header(section)}` once per item"
    else:
        kind = f"A table: `{_header(section)}`"
    inside = ""
    if parent.path:
        inside = f", inside {'each ' if parent.array else ''}`{_header(parent)}`"
    need = "required" if section.required else "optional"
    return f"{kind}{inside}; {need}."


def _section(section: schema.Section, parent: schema.Section) -> list[str]:
    out = [f"## `{_header(section)}`", "", section.doc, "", _where(section, parent), ""]
    rows = [(opt, False) for opt in section.options]
    if section.keys is not None:
        rows.append((section.keys, True))
    out += ["| option | type | default | allowed | meaning |", "|---|---|---|---|---|"]
    for opt, keyed in rows:
        out.append(
            f"| `{opt.name}` | {_type(opt)} | {_cell(_default(opt, keyed))} | "
            f"{_cell(_allowed(opt))} | {_cell(opt.doc)} |"
        )
    out += ["", "```toml", _example(section), "```", ""]
    return out


def reference() -> str:
    out = [
        "# The hall file",
        "",
        f"<!-- Generated from onewindow/hallschema.py by `{COMMAND}`; do not edit by hand. -->",
        "",
        INTRO,
        "## Sections",
        "",
    ]
    for section, _ in schema.FILE.walk():
        if section.path:
            depth = section.path.count(".")
            out.append(
                f"{'  ' * depth}- [`{_header(section)}`](#{_anchor(section)})"
                f"{' (required)' if section.required else ''}"
            )
    out.append("")
    for section, parent in schema.FILE.walk():
        if section.path:
            out += _section(section, parent)
    out += [
        "## Checks across options",
        "",
        "Made after every option was read; each problem names the item it is about.",
        "",
    ]
    out += [f"- {line}" for line in schema.CROSS_CHECKS]
    out.append("")
    return "\n".join(out)


def _anchor(section: schema.Section) -> str:
    """GitHub's heading anchor for '## `[[services.guide]]`': punctuation dropped."""
    return "".join(c for c in _header(section).lower() if c.isalnum() or c in "-_")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m onewindow.hallref", description=__doc__.split("\n")[0]
    )
    p.add_argument("--out", help="write here (default: standard output)")
    args = p.parse_args(argv)
    text = reference()
    if args.out:
        Path(args.out).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
