"""docs/hall-file.md against the schema the validator reads: the page is regenerated and compared,
and every declared option is tried on the real validator (its example, its bounds, its absence)."""

from __future__ import annotations

import copy
import re
import tomllib

import pytest

from busutil import REPO
from onewindow import hallschema as schema
from onewindow.configreader import ConfigError
from onewindow.hallconfig import parse
from onewindow.hallref import COMMAND, reference

PAGE = REPO / "docs" / "hall-file.md"
SHIPPED = tomllib.loads((REPO / "config" / "hall.toml").read_text(encoding="utf-8"))
OPTIONS = [(section, opt) for section, _ in schema.FILE.walk() for opt in section.options]


SECTIONS = {s.path: s for s, _ in schema.FILE.walk()}


def table_of(raw: dict, path: str) -> dict:
    """The table at `path` in the hall (made when the shipped file has none there); in an
    array, the item its label's example names (service "A", window 4), else the first."""
    node = raw
    parts = path.split(".")
    for i, part in enumerate(parts):
        child = node.setdefault(part, {})
        if isinstance(child, list):
            section = SECTIONS[".".join(parts[: i + 1])]
            example = section.option(section.label).example if section.label else None
            child = next((c for c in child if c.get(section.label) == example), child[0])
        node = child
    return node


def problems(raw: dict) -> list[str]:
    try:
        parse(raw, "hall.toml")
    except ConfigError as exc:
        return exc.problems
    return []


def outcome(raw: dict):
    """The hall the file makes, or the problems it has."""
    try:
        return parse(raw, "hall.toml")
    except ConfigError as exc:
        return exc.problems


def with_value(section, opt, value) -> dict:
    raw = copy.deepcopy(SHIPPED)
    table_of(raw, section.path)[opt.name] = value
    return raw


def ids(pairs):
    return [f"{s.path}.{o.name}" for s, o in pairs]


def test_the_page_is_what_the_schema_generates():
    assert PAGE.read_text(encoding="utf-8") == reference(), (
        f"docs/hall-file.md is stale: run {COMMAND}"
    )


def test_the_page_names_every_section_and_option():
    text = PAGE.read_text(encoding="utf-8")
    for section, _ in schema.FILE.walk():
        if section.path:
            assert f"## `[{section.path}]`" in text or f"## `[[{section.path}]]`" in text
    for _section, opt in OPTIONS:
        assert f"| `{opt.name}` |" in text


def test_every_toml_example_on_the_page_is_valid_toml():
    blocks = re.findall(r"```toml\n(.*?)```", PAGE.read_text(encoding="utf-8"), re.S)
    assert len(blocks) == sum(1 for s, _ in schema.FILE.walk() if s.path)
    for block in blocks:
        tomllib.loads(block)


@pytest.mark.parametrize("section,opt", OPTIONS, ids=ids(OPTIONS))
def test_each_documented_example_is_accepted(section, opt):
    assert problems(with_value(section, opt, opt.example)) == []


def test_the_dated_keys_of_extra_days_accept_their_example():
    for section, _ in schema.FILE.walk():
        if section.keys is not None:
            raw = copy.deepcopy(SHIPPED)
            table_of(raw, section.path)["2026-10-11"] = section.keys.example
            assert problems(raw) == [], section.path


BOUNDED = [(s, o) for s, o in OPTIONS if o.minval is not None]


@pytest.mark.parametrize("section,opt", BOUNDED, ids=ids(BOUNDED))
def test_documented_bounds_are_the_bounds_enforced(section, opt):
    for edge in (opt.minval, opt.maxval):
        assert not [
            p
            for p in problems(with_value(section, opt, edge))
            if f" {opt.name}: " in p and ("minimum" in p or "maximum" in p)
        ]
    below = problems(with_value(section, opt, opt.minval - 1))
    above = problems(with_value(section, opt, opt.maxval + 1))
    assert any(f" {opt.name}: " in p and f"below the minimum {opt.minval}" in p for p in below)
    assert any(f" {opt.name}: " in p and f"above the maximum {opt.maxval}" in p for p in above)


CHOICES = [(s, o) for s, o in OPTIONS if o.choices]


@pytest.mark.parametrize("section,opt", CHOICES, ids=ids(CHOICES))
def test_documented_choices_are_the_only_ones_accepted(section, opt):
    for choice in opt.choices:
        assert not [p for p in problems(with_value(section, opt, choice)) if f" {opt.name}:" in p]
    found = problems(with_value(section, opt, "surely-not-a-choice"))
    assert any(f" {opt.name}: " in p and "is not allowed" in p for p in found)


REQUIRED = [(s, o) for s, o in OPTIONS if o.required]


@pytest.mark.parametrize("section,opt", REQUIRED, ids=ids(REQUIRED))
def test_documented_required_options_are_required(section, opt):
    raw = copy.deepcopy(SHIPPED)
    table = table_of(raw, section.path)
    table.pop(opt.name, None)
    assert any(f" {opt.name}: is required" in p for p in problems(raw))


OPTIONAL = [(s, o) for s, o in OPTIONS if not o.required and o.default_doc == ""]


@pytest.mark.parametrize("section,opt", OPTIONAL, ids=ids(OPTIONAL))
def test_documented_defaults_are_the_defaults_applied(section, opt):
    """Leaving an option out gives the same hall as writing its documented default."""
    left_out = copy.deepcopy(SHIPPED)
    table_of(left_out, section.path).pop(opt.name, None)
    written = with_value(section, opt, opt.default)
    assert outcome(left_out) == outcome(written)


@pytest.mark.parametrize(
    "section", [s for s, _ in schema.FILE.walk() if s.path and s.keys is None], ids=lambda s: s.path
)
def test_an_option_the_page_does_not_list_is_refused(section):
    raw = copy.deepcopy(SHIPPED)
    table_of(raw, section.path)["colour"] = "red"
    assert any("colour: unknown option (misspelt?)" in p for p in problems(raw))


CHECKED = [(s, o) for s, o in OPTIONS if o.check is not None]


@pytest.mark.parametrize(
    "value", [["en"], ["en", "zh"], [], ["zh", "zh"]], ids=["en", "en-zh", "empty", "zh-twice"]
)
def test_hall_languages_must_put_chinese_first_each_once(value):
    found = problems(with_value(schema.HALL, schema.HALL.option("languages"), value))
    assert any(p.startswith("hall.toml: [hall] languages: ") for p in found), found


def test_every_option_with_a_check_has_it_run():
    """A check declared in the schema is reached for every kind of option (lists too): the
    documented rule is the enforced one."""
    refused = {
        ("hall", "languages"): ["bo", "zh"],
        ("hall", "timezone"): "Mars/Olympus",
        ("mobile", "entrance_url"): "http://192.168.10.2:8080/e/",
    }
    assert {(s.path, o.name) for s, o in CHECKED} == set(refused), "add the new check here"
    for section, opt in CHECKED:
        found = problems(with_value(section, opt, refused[(section.path, opt.name)]))
        assert any(f"[{section.path}] {opt.name}: " in p for p in found), (opt.name, found)
