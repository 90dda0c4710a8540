"""The hall file and the managers' console changes, merged by one written rule (no I/O).

Three versions of the configuration meet when a hall starts with an edited file: the file as it
was last loaded (the base), the file now, and the live configuration (the base plus whatever
managers changed by touch since). The rule, option by option:

- an option the file did not change keeps its live value: console changes survive a restart;
- an option the file changed takes the file's new value: the installer's edit wins for what it
  touches;
- an option both changed, to different values, takes the file's value and is reported as a
  conflict (at start, and as an alert on the manager console), never silently.

An "option" is a leaf of the TOML: `rules.fair_share`, `services[A].daily_quota`,
`windows[3].services` (a list is one value), `services[A].guide.fee`. Services and themes are
matched by `code` and windows by `number`, not by their place in the file, so one side adding or
reordering items does not shift the other's. An item the file adds or removes is added or
removed; an item only the console added stays.
"""

from __future__ import annotations

from typing import Any

MISSING = object()
# arrays of tables matched by identity, not by position
KEYED = {("services",): "code", ("themes",): "code", ("windows",): "number"}


def merge(
    base: dict, file: dict, live: dict, details: list | None = None
) -> tuple[dict, list[str]]:
    """(merged configuration, conflicts as readable option paths); `details`, when given,
    receives (option, console value, file value) for each conflict."""
    conflicts: list[str] = []
    merged = _merge(base, file, live, (), conflicts, details)
    return merged, conflicts


def changed_options(before: dict, after: dict) -> list[str]:
    """The options that differ, as paths (for reports)."""
    out: list[str] = []
    _diff(before, after, (), out)
    return out


def _merge(
    base: Any, file: Any, live: Any, path: tuple, conflicts: list[str], details: list | None = None
) -> Any:
    if _same(file, base):
        return live
    if _same(live, base) or _same(live, file):
        return file
    if isinstance(file, dict) and isinstance(live, dict):
        b = base if isinstance(base, dict) else {}
        out = {}
        for key in _union(file, live):
            value = _merge(
                b.get(key, MISSING),
                file.get(key, MISSING),
                live.get(key, MISSING),
                path + (key,),
                conflicts,
                details,
            )
            if value is not MISSING:
                out[key] = value
        return out
    key_name = KEYED.get(tuple(p for p in path if not isinstance(p, _Item)))
    if key_name and _keyed(file, key_name) and _keyed(live, key_name):
        b = _by_key(base, key_name) if _keyed(base, key_name) else {}
        f, lv = _by_key(file, key_name), _by_key(live, key_name)
        out = []
        for ident in _union(f, lv):
            value = _merge(
                b.get(ident, MISSING),
                f.get(ident, MISSING),
                lv.get(ident, MISSING),
                path + (_Item(ident),),
                conflicts,
                details,
            )
            if value is not MISSING:
                out.append(value)
        return out
    conflicts.append(_name(path))
    if details is not None:
        details.append((_name(path), _shown(live), _shown(file)))
    return file


def _shown(value: Any) -> Any:
    return "(none)" if value is MISSING else value


def _diff(before: Any, after: Any, path: tuple, out: list[str]) -> None:
    if _same(before, after):
        return
    if isinstance(before, dict) and isinstance(after, dict):
        for key in _union(after, before):
            _diff(before.get(key, MISSING), after.get(key, MISSING), path + (key,), out)
        return
    key_name = KEYED.get(tuple(p for p in path if not isinstance(p, _Item)))
    if key_name and _keyed(before, key_name) and _keyed(after, key_name):
        b, a = _by_key(before, key_name), _by_key(after, key_name)
        for ident in _union(a, b):
            _diff(b.get(ident, MISSING), a.get(ident, MISSING), path + (_Item(ident),), out)
        return
    out.append(_name(path))


class _Item(str):
    """A path step naming an item of a keyed array: shown as [A], not as a key."""


def _name(path: tuple) -> str:
    text = ""
    for p in path:
        text += f"[{p}]" if isinstance(p, _Item) else (f".{p}" if text else str(p))
    return text


def _same(a: Any, b: Any) -> bool:
    return a is b or (a is not MISSING and b is not MISSING and a == b)


def _union(first: dict, second: dict) -> list:
    """Keys of both, in the first's order, then the second's own."""
    return list(first) + [k for k in second if k not in first]


def _keyed(items: Any, key_name: str) -> bool:
    return isinstance(items, list) and all(isinstance(i, dict) and key_name in i for i in items)


def _by_key(items: list, key_name: str) -> dict:
    return {str(i[key_name]): i for i in items}
